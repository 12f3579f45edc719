"""`make demo`: the whole pipeline in the local AWS emulator, then the canary.

Steps (each announced in one line):
1. (make) the venv and the collection are built and installed;
2. the emulator starts in the background (LOGVAULT_AWS_PORT, default 4566);
3. playbooks/site.yml, then playbooks/verify.yml, run against inventories/local;
4. a summary: what was built, and where each canary landed;
5. the emulator stops.
Exits 0 only if every canary arrived.
"""

import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
BUILD = os.path.join(ROOT, "build")


def step(number, text):
    print("==> [%d/5] %s" % (number, text), flush=True)


def port_is_free(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_emulator(port, log_path):
    log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "local_aws", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("demo: the emulator exited with %s; see %s" % (proc.returncode, log_path))
        with open(log_path, encoding="utf-8") as handle:
            if "ready on" in handle.read():
                return proc
        time.sleep(0.2)
    proc.terminate()
    sys.exit("demo: the emulator did not print its ready line within 60 s; see %s" % log_path)


def start_opensearch_double(state_dir, log_path):
    """The OpenSearch data plane is not emulated: the ISM policy and index template go to
    the SigV4-verifying TEST DOUBLE in tests/opensearch_stub (never shipped)."""
    os.makedirs(state_dir, exist_ok=True)
    port_file = os.path.join(state_dir, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    # TEST DOUBLE identities: testing = the deployer (the domain's master user here), firehose =
    # the search Firehose role (the emulator's _bulk, authorised by the writer role mapping), and
    # one key per example search team of the inventory, authorised by the team's mapping and DLS.
    identities = ["--credential", "testing:testing", "--credential", "firehose:firehose",
                  "--role-arn", "firehose=arn:aws:iam::123456789012:role/logvault-search-firehose"]
    for name, arn in demo_teams():
        identities += ["--credential", "team-%s:team-%s" % (name, name), "--role-arn", "team-%s=%s" % (name, arn)]
    log = open(log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, os.path.join(ROOT, "tests", "opensearch_stub", "server.py"), "--state-dir", state_dir,
         "--lifetime", "3600"] + identities,
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("demo: the OpenSearch test double exited with %s; see %s" % (proc.returncode, log_path))
        if os.path.exists(port_file):
            with open(port_file, encoding="utf-8") as handle:
                port = handle.read().strip()
            if port:
                return proc, "https://127.0.0.1:%s" % port, os.path.join(state_dir, "ca.pem")
        time.sleep(0.2)
    proc.terminate()
    sys.exit("demo: the OpenSearch test double did not start within 60 s; see %s" % log_path)


def demo_teams():
    """(name, first IAM principal) of each search team declared in inventories/local."""
    import yaml  # pylint: disable=import-outside-toplevel

    with open(os.path.join(ROOT, "inventories", "local", "hosts.yml"), encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle)["all"]["children"]["central"]["hosts"]
    return [(team["name"], team["principal_arns"][0]) for host in hosts.values()
            for team in host.get("central_account_search_teams", []) if team.get("principal_arns")]


def signed(endpoint, ca, method, path, body, key):
    """A SigV4-signed request (service es) to the OpenSearch test double; (status, JSON)."""
    import json  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    import urllib.error  # pylint: disable=import-outside-toplevel
    import urllib.request  # pylint: disable=import-outside-toplevel

    from botocore.auth import SigV4Auth  # pylint: disable=import-outside-toplevel
    from botocore.awsrequest import AWSRequest  # pylint: disable=import-outside-toplevel
    from botocore.credentials import Credentials  # pylint: disable=import-outside-toplevel

    data = json.dumps(body).encode("utf-8") if body is not None else b""
    request = AWSRequest(method=method, url=endpoint + path, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, key), "es", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(endpoint + path, data=data or None, headers=dict(request.headers.items()), method=method)
    try:
        with urllib.request.urlopen(prepared, context=ssl.create_default_context(cafile=ca), timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def search_as_teams(endpoint, ca):
    """Issue 18: each example team's OpenSearch role, its mapping, and a search as the team of
    the canaries the Firehose stream indexed (through the emulator's _bulk). The team must see
    its own accounts' canaries only; the master user sees every account's."""
    query = {"query": {"match_phrase": {"message": "logvault-canary"}}, "size": 1000}
    lines, problems = [], []
    status, everything = signed(endpoint, ca, "POST", "/logs-*/_search", query, "testing")
    all_accounts = sorted({h["_source"]["account_id"] for h in everything.get("hits", {}).get("hits", [])}) if status == 200 else []
    lines.append("search (master user): canaries of accounts %s in logs-*" % (", ".join(all_accounts) or "none"))
    if len(all_accounts) < 2:
        problems.append("the search stream indexed canaries of %d accounts, expected both members" % len(all_accounts))
    for name, dummy in demo_teams():
        role = "logvault_team_%s" % name
        status, answer = signed(endpoint, ca, "GET", "/_plugins/_security/api/roles/%s" % role, None, "testing")
        dls = answer.get(role, {}).get("index_permissions", [{}])[0].get("dls", "") if status == 200 else ""
        lines.append("team %s: role %s, DLS %s" % (name, role, dls or "MISSING"))
        status, answer = signed(endpoint, ca, "GET", "/_plugins/_security/api/rolesmapping/%s" % role, None, "testing")
        lines.append("team %s: mapped to %s" % (name, answer.get(role, {}).get("backend_roles") if status == 200 else "NOTHING"))
        status, answer = signed(endpoint, ca, "POST", "/logs-*/_search", query, "team-%s" % name)
        seen = sorted({(h["_source"]["account_id"], h["_source"]["log_group"]) for h in answer.get("hits", {}).get("hits", [])}) \
            if status == 200 else []
        lines.append("team %s: search as the team (HTTP %s) sees %s" % (name, status, ", ".join("%s %s" % s for s in seen) or "nothing"))
        if status != 200 or not seen or len({account for account, dummy in seen}) >= len(all_accounts):
            problems.append("team %s does not see exactly its own accounts' canaries" % name)
    return lines, problems


def alerts_in_search(endpoint, ca):
    """Issue 18: the alerts that fired are searchable. The alerts Lambda puts each alert it sent
    into the search stream (log group logvault/alerts); the query of the shipped dashboard's
    "alerts that fired" saved search finds the CIS alerts raised above."""
    query = {"query": {"query_string": {"query": 'log_group:"logvault/alerts"'}}, "size": 100}
    status, answer = signed(endpoint, ca, "POST", "/logs-*/_search", query, "testing")
    got = sorted({(h["_source"]["log_stream"], h["_source"]["account_id"]) for h in answer.get("hits", {}).get("hits", [])}) \
        if status == 200 else []
    lines = ["alerts in search (the dashboard's alerts panel): %s" % (", ".join("%s (%s)" % g for g in got) or "none")]
    wanted = {("iam_policy_changes", "111111111111"), ("root_account_usage", "111111111111")}
    return lines, ([] if wanted <= set(got) else ["wanted the alerts %s in search, got %s" % (sorted(wanted), got)])


def playbook(name, env, log_path, extra=()):
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, "inventories", "local"),
           os.path.join(ROOT, "playbooks", name)] + list(extra)
    with open(log_path, "w", encoding="utf-8") as log:
        result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    with open(log_path, encoding="utf-8") as handle:
        return result.returncode, handle.read()


def inventory_of_what_was_built(endpoint):
    """One line per kind of resource, read back from the emulator with boto3."""
    import boto3  # pylint: disable=import-outside-toplevel

    def client(service, region="us-east-1", account=None):
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
        if account:
            sts = session.client("sts", endpoint_url=endpoint)
            creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/logvault-admin" % account, RoleSessionName="demo")["Credentials"]
            session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                            aws_session_token=creds["SessionToken"], region_name=region)
        return session.client(service, endpoint_url=endpoint)

    lines = []
    for region in ("us-east-1", "eu-west-1"):
        names = [d["destinationName"] for d in client("logs", region).describe_destinations()["destinations"]]
        lines.append("central 123456789012 %s: destinations %s" % (region, ", ".join(names) or "none"))
    lines.append("central: Kinesis %s" % ", ".join(client("kinesis").list_streams()["StreamNames"]))
    lines.append("central: Firehose %s" % ", ".join(client("firehose").list_delivery_streams()["DeliveryStreamNames"]))
    lines.append("central: Lambda %s" % ", ".join(f["FunctionName"] for f in client("lambda").list_functions()["Functions"]))
    lines.append("central: S3 %s" % ", ".join(b["Name"] for b in client("s3").list_buckets()["Buckets"]))
    for account in ("111111111111", "222222222222"):
        for region in ("us-east-1", "eu-west-1"):
            policies = client("logs", region, account).describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")
            lines.append("member %s %s: account policy %s" % (
                account, region, ", ".join(p["policyName"] for p in policies["accountPolicies"]) or "none"))
    return lines


def _client(endpoint, service, region="us-east-1", account=None):
    import boto3  # pylint: disable=import-outside-toplevel

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    if account:
        creds = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn="arn:aws:iam::%s:role/logvault-admin" % account, RoleSessionName="demo")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=region)
    return session.client(service, endpoint_url=endpoint)


def cis_alerts_from_the_trail(endpoint, member="111111111111", central="123456789012", prefix="logvault"):
    """After site.yml (with logvault_cloudtrail): CloudTrail-shaped records written to the trail's
    log group of a member account travel through its subscription to the hub, and the alerts
    Lambda publishes the CIS alerts to the alert topic (read through an SQS queue subscribed here)."""
    import json  # pylint: disable=import-outside-toplevel
    import urllib.request  # pylint: disable=import-outside-toplevel

    lines, problems = [], []
    trail = _client(endpoint, "cloudtrail", account=member).describe_trails(trailNameList=["%s-trail" % prefix])["trailList"]
    group = "aws-cloudtrail-logs-%s" % prefix
    if not trail or not trail[0].get("CloudWatchLogsLogGroupArn", "").endswith(":log-group:%s:*" % group):
        problems.append("member %s: no trail %s-trail delivering to %s: %s" % (member, prefix, group, trail))
        return lines, problems
    lines.append("member %s: trail %s, multi-region %s, log file validation %s, KMS %s, -> %s" % (
        member, trail[0]["Name"], trail[0].get("IsMultiRegionTrail"), trail[0].get("LogFileValidationEnabled"),
        "yes" if trail[0].get("KmsKeyId") else "no", group))
    sns, sqs = _client(endpoint, "sns"), _client(endpoint, "sqs")
    queue = sqs.create_queue(QueueName="demo-cis-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn="arn:aws:sns:us-east-1:%s:%s-alerts" % (central, prefix), Protocol="sqs", Endpoint=queue_arn)
    identity = {"type": "Root", "principalId": member, "arn": "arn:aws:iam::%s:root" % member, "accountId": member}
    admin = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice", "arn": "arn:aws:sts::%s:assumed-role/Admin/alice" % member,
             "accountId": member}

    def record(name, source, who, **fields):
        body = {"eventVersion": "1.09", "userIdentity": who, "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "eventSource": source, "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.10",
                "userAgent": "aws-cli/2.17.0", "requestParameters": {}, "responseElements": None, "readOnly": False,
                "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": member, "eventCategory": "Management"}
        body.update(fields)
        return json.dumps(body, separators=(",", ":"))

    logs = _client(endpoint, "logs", account=member)
    stream = "%s_CloudTrail_us-east-1" % member
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    messages = [record("DescribeInstances", "ec2.amazonaws.com", identity, readOnly=True),
                record("PutRolePolicy", "iam.amazonaws.com", admin),
                record("DescribeInstances", "ec2.amazonaws.com", admin, readOnly=True)]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
    alerts = []
    for _attempt in range(3):
        urllib.request.urlopen(urllib.request.Request(endpoint + "/_logvault/flush", data=b"", method="POST"), timeout=120).read()
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
            alerts.append(json.loads(json.loads(message["Body"])["Message"]))
        if len(alerts) >= 2:
            break
    got = sorted((a["rule"], a["account"], a["log_group"]) for a in alerts)
    wanted = [("iam_policy_changes", member, group), ("root_account_usage", member, group)]
    lines.append("CIS alerts from the trail's log group: %s" % (", ".join("%s (%s, %s)" % g for g in got) or "none"))
    if got != wanted:
        problems.append("wanted the alerts %s, got %s" % (wanted, got))
    return lines, problems


def archive_partitions(endpoint):
    """Issue 19: every archive object sits under its own account's and event day's partition,
    and the named query ``account-day`` returns each account's events through DuckDB
    (tools/archive_duckdb.py) when DuckDB is installed (requirements-test.txt)."""
    import gzip  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    import boto3  # pylint: disable=import-outside-toplevel

    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import archive_duckdb  # pylint: disable=import-outside-toplevel

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if "-archive-" in b["Name"]][0]
    problems, seen = [], {}
    with tempfile.TemporaryDirectory() as root:
        keys = archive_duckdb.download(s3, bucket, "logs/", root)
        for key in keys:
            match = re.match(r"^logs/account_id=(\d{12})/dt=(\d{4}-\d{2}-\d{2})/", key)
            with open(os.path.join(root, key), "rb") as handle:
                docs = [json.loads(line) for line in gzip.decompress(handle.read()).splitlines()]
            for doc in docs:
                if not match or (doc["account_id"], doc["@timestamp"][:10]) != match.groups():
                    problems.append("%s holds an event of %s on %s" % (key, doc["account_id"], doc["@timestamp"][:10]))
                seen.setdefault((doc["account_id"], doc["@timestamp"][:10]), set()).add(doc["event_id"])
        lines = ["archive: %d objects, %d account/day partitions, %s" % (
            len(keys), len(seen), "every event in its own partition" if not problems else "%d misplaced" % len(problems))]
        try:
            import duckdb  # pylint: disable=import-outside-toplevel
        except ImportError:
            lines.append("archive: DuckDB not installed, named queries not run")
            return lines, problems
        table = archive_duckdb.definition()
        prefix = archive_duckdb.role_defaults()["central_account_archive_prefix"]
        template = archive_duckdb.location_template(prefix, table["partition_keys"])
        connection = duckdb.connect()
        archive_duckdb.create_view(connection, root, table, template, "logvault_archive", "logs")
        sql = archive_duckdb.render([q for q in table["named_queries"] if q["name"] == "account-day"][0]["sql"], "logvault_archive", "logs")
        for (account, day), ids in sorted(seen.items()):
            found = set(row[1] for row in connection.execute(sql, [account, day]).fetchall())
            if found != ids:
                problems.append("account-day(%s, %s) returned %d of %d events" % (account, day, len(found & ids), len(ids)))
        connection.close()
        lines.append("archive: named query account-day over DuckDB returns every partition's events: %s"
                     % ("yes" if not problems else "NO"))
    return lines, problems


def recap(output):
    return [line for line in output.splitlines() if re.match(r"^\S+\s+: ok=", line)]


def main():
    port = int(os.environ.get("LOGVAULT_AWS_PORT", "4566"))
    os.makedirs(BUILD, exist_ok=True)
    step(1, "venv and collection are ready (make venv collection)")
    if not port_is_free(port):
        sys.exit("demo: port %d is in use; stop what runs there or set LOGVAULT_AWS_PORT" % port)
    step(2, "starting the local AWS emulator on 127.0.0.1:%d (log: build/demo-local-aws.log)" % port)
    opensearch, os_endpoint, os_ca = start_opensearch_double(
        os.path.join(BUILD, "demo-opensearch"), os.path.join(BUILD, "demo-opensearch.log"))
    print("    OpenSearch data plane (not emulated): SigV4-verifying test double at %s" % os_endpoint, flush=True)
    # The emulator's search Firehose stream delivers its documents there (signed _bulk).
    os.environ.update({"LOGVAULT_AWS_OPENSEARCH_URL": os_endpoint, "LOGVAULT_AWS_OPENSEARCH_CA": os_ca,
                       "LOGVAULT_AWS_OPENSEARCH_CREDENTIAL": "firehose:firehose"})
    emulator = start_emulator(port, os.path.join(BUILD, "demo-local-aws.log"))
    env = dict(os.environ)
    env.update({
        "LOGVAULT_AWS_PORT": str(port),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_ROLES_PATH": os.path.join(ROOT, "roles"),
        "LOGVAULT_OPENSEARCH_ENDPOINT": os_endpoint,
        "LOGVAULT_OPENSEARCH_CA": os_ca,
    })
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    started = time.time()
    try:
        step(3, "running playbooks/site.yml then playbooks/verify.yml against inventories/local")
        # The member accounts' CloudTrail trails are opt-in (playbooks/cloudtrail.yml): the demo opts in.
        rc, site_out = playbook("site.yml", env, os.path.join(BUILD, "demo-site.log"), ["-e", "logvault_cloudtrail=true"])
        site_seconds = time.time() - started
        if rc != 0:
            print("\n".join(site_out.splitlines()[-40:]))
            print("demo: site.yml failed (rc=%d); full log: build/demo-site.log" % rc)
            return 1
        rc, verify_out = playbook("verify.yml", env, os.path.join(BUILD, "demo-verify.log"))
        verify_seconds = time.time() - started - site_seconds
        step(4, "summary")
        print("built (site.yml recap, full log build/demo-site.log):")
        for line in recap(site_out):
            print("  " + line)
        for line in inventory_of_what_was_built("http://127.0.0.1:%d" % port):
            print("  " + line)
        table = re.search(r'"msg": \[\n(.*?)\n\s*\]', verify_out, re.S)
        print("canaries (verify.yml, full log build/demo-verify.log):")
        if table:
            for line in table.group(1).splitlines():
                print("  " + line.strip().strip(",").strip('"'))
        else:
            print("\n".join(verify_out.splitlines()[-40:]))
        if rc != 0:
            print("demo: verify.yml failed (rc=%d): not every canary arrived" % rc)
            return 1
        lines, problems = archive_partitions("http://127.0.0.1:%d" % port)
        for line in lines + problems:
            print("  " + line)
        if problems:
            print("demo: the archive is not partitioned by account and day as docs/archive.md says")
            return 1
        lines, problems = cis_alerts_from_the_trail("http://127.0.0.1:%d" % port)
        for line in lines + problems:
            print("  " + line)
        if problems:
            print("demo: CloudTrail events in a member's trail log group did not raise the CIS alerts (docs/cloudtrail.md)")
            return 1
        lines, problems = search_as_teams(os_endpoint, os_ca)
        for line in lines + problems:
            print("  " + line)
        if problems:
            print("demo: search as the example team is not what docs/search.md says")
            return 1
        lines, problems = alerts_in_search(os_endpoint, os_ca)
        for line in lines + problems:
            print("  " + line)
        if problems:
            print("demo: the alerts that fired are not in search (docs/dashboards.md)")
            return 1
        print("demo: every canary arrived; pipeline built and verified in %.0f s (site.yml %.1f s + verify.yml %.1f s = %.1f s;"
              " the rest is the checks above)" % (time.time() - started, site_seconds, verify_seconds, site_seconds + verify_seconds))
        return 0
    finally:
        step(5, "stopping the local AWS emulator and the OpenSearch test double")
        for proc in (emulator, opensearch):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
