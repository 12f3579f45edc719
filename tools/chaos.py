"""`make chaos`: the pipeline under injected faults loses nothing.

Steps (each announced in one line):
1. the local AWS emulator starts with ``LOGVAULT_AWS_FAULTS`` (below, seeded) and the
   OpenSearch test double, as in ``make demo`` (tools/demo.py);
2. playbooks/site.yml runs against inventories/local (the faults only hit data-plane calls,
   which site.yml does not make; CloudWatch Logs' test message on PutSubscriptionFilter is
   not a delivery and is not throttled);
3. a steady load: every second, a batch of events with unique ids into each member
   account and region (CloudWatch Logs PutLogEvents, itself throttled at random);
4. the emulator is flushed until every id is in the archive bucket at least once and in
   search (the search backup bucket, as the OpenSearch data plane is not emulated) at least
   once, or the deadline passes;
5. report: sent, found, lost, the duplicate ratio per copy, how often each fault fired;
   exit 1 on any loss; a configured fault that never fired is reported.

``check()`` is the verdict, kept separate so a test can feed it a lossy result.
Environment: LOGVAULT_CHAOS_PORT (default 4567), LOGVAULT_CHAOS_SECONDS (load duration,
default 30), LOGVAULT_CHAOS_BATCH (events per account, region and second, default 10),
LOGVAULT_CHAOS_FAULTS (default: FAULTS below), LOGVAULT_CHAOS_SEED (default 15).
"""

import gzip
import json
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402  pylint: disable=wrong-import-position

ROOT = demo.ROOT
BUILD = demo.BUILD
CENTRAL = "123456789012"
MEMBERS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
LOG_GROUP = "/logvault/canary"
# Data-plane faults only (docs/local-aws.md, "Fault injection"): throttled PutLogEvents at
# the senders, the hub stream throttling CloudWatch Logs' delivery (kinesis:PutRecord; CloudWatch
# Logs retries it) and the event source mapping's reads (kinesis:GetRecords; read again from
# the same position), Firehose PutRecordBatch refused whole and per record, Lambda timeouts of
# the transform (and alerts) invocations. The transform retries Firehose failures; the
# event source mapping retries and bisects failed batches; boto3 retries throttling.
FAULTS = " ".join([
    "logs:PutLogEvents:ThrottlingException:0.1",
    "kinesis:PutRecord:ProvisionedThroughputExceededException:0.1",
    "kinesis:GetRecords:ProvisionedThroughputExceededException:0.1",
    # The transform batches: about 8 whole PutRecordBatch calls carry the run's 1,200 events
    # (23 calls per 10,000 events, bench/transform.py), so a whole-call rate of 0.1 fired 0 times
    # with the seed; 0.5 fires in every run measured (4 of about 8).
    "firehose:PutRecordBatch:ServiceUnavailableException:0.5",
    "firehose:PutRecordBatch:ServiceUnavailableException:0.1:record",
    "lambda:Invoke:Timeout:0.05",
])
ID_PATTERN = re.compile(r"chaos-[0-9a-f]{8}-\d+-\d+-[a-z0-9-]+-\d+")


def step(number, text):
    print("==> [%d/5] %s" % (number, text), flush=True)


def check(sent, archive, search):
    """The verdict. ``sent``: the ids written; ``archive``/``search``: id -> copies found.

    Returns a dict: ``lost_archive`` and ``lost_search`` (sorted ids missing there),
    ``duplicates_archive``/``duplicates_search`` (copies beyond the first, over the ids
    found), and ``ok`` (nothing lost in either place)."""
    sent = set(sent)
    lost_archive = sorted(i for i in sent if archive.get(i, 0) < 1)
    lost_search = sorted(i for i in sent if search.get(i, 0) < 1)

    def ratio(found):
        ids = [i for i in sent if found.get(i, 0) >= 1]
        if not ids:
            return 0.0
        return sum(found[i] - 1 for i in ids) / float(len(ids))

    return {
        "sent": len(sent),
        "lost_archive": lost_archive,
        "lost_search": lost_search,
        "duplicates_archive": ratio(archive),
        "duplicates_search": ratio(search),
        "ok": bool(sent) and not lost_archive and not lost_search,
    }


def _session(endpoint, region, account=None):
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    config = Config(retries={"mode": "standard", "max_attempts": 10})
    if account:
        sts = session.client("sts", endpoint_url=endpoint, config=config)
        creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/logvault-admin" % account,
                                RoleSessionName="chaos")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=region)
    return session, config


def load(endpoint, seconds, batch, run):
    """Write ``batch`` events per account and region every second for ``seconds``; return the ids."""
    from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

    clients = {}
    for account in MEMBERS:
        for region in REGIONS:
            session, config = _session(endpoint, region, account)
            client = session.client("logs", endpoint_url=endpoint, config=config)
            stream = "chaos-%s" % run
            try:
                client.create_log_group(logGroupName=LOG_GROUP)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise
            client.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
            clients[(account, region)] = (client, stream)
    sent = []
    for second in range(seconds):
        started = time.time()
        for (account, region), (client, stream) in sorted(clients.items()):
            ids = ["chaos-%s-%d-%s-%s-%d" % (run, second, account, region, n) for n in range(batch)]
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": json.dumps({"chaos_id": i, "account": account, "region": region})}
                      for i in ids]
            for attempt in range(20):
                try:
                    client.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)
                    break
                except ClientError as exc:  # throttled beyond boto3's own retries: the sender retries
                    if exc.response["Error"]["Code"] != "ThrottlingException" or attempt == 19:
                        raise
                    time.sleep(0.2)
            sent.extend(ids)
        time.sleep(max(0.0, 1.0 - (time.time() - started)))
    return sent


def count_ids(text, counts):
    """Add the copies of each id in ``text`` (newline-delimited documents) to ``counts``."""
    for line in text.splitlines():
        for found in set(ID_PATTERN.findall(line)):
            counts[found] = counts.get(found, 0) + 1


def _count_ids(s3, bucket, prefix, counts, seen_keys):
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key in seen_keys:
                continue
            seen_keys.add(key)
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            # One document per line; an id may appear twice in one document (the raw message
            # and a field parsed from it), which is one copy.
            count_ids(body.decode("utf-8", "replace"), counts)


def collect(endpoint, sent, deadline):
    """Flush the emulator and read both buckets until every id is found or ``deadline``."""
    import urllib.request  # pylint: disable=import-outside-toplevel

    session, config = _session(endpoint, REGIONS[0])
    s3 = session.client("s3", endpoint_url=endpoint, config=config)
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    archive_bucket = [b for b in buckets if "-archive-%s-%s" % (CENTRAL, REGIONS[0]) in b][0]
    backup_bucket = [b for b in buckets if "-dead-letter-%s-%s" % (CENTRAL, REGIONS[0]) in b][0]
    archive, search = {}, {}
    archive_keys, search_keys = set(), set()
    wanted = set(sent)
    while True:
        request = urllib.request.Request(endpoint + "/_logvault/flush", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:  # nosec - the local emulator
            response.read()
        _count_ids(s3, archive_bucket, "logs/", archive, archive_keys)
        _count_ids(s3, backup_bucket, "search-failed/", search, search_keys)
        missing = [i for i in wanted if archive.get(i, 0) < 1 or search.get(i, 0) < 1]
        if not missing or time.time() > deadline:
            return archive, search
        time.sleep(2)


def fired_faults(endpoint):
    """``{fault entry: times injected}`` from the emulator's health endpoint."""
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen(endpoint + "/_logvault/health", timeout=10) as response:
        return json.loads(response.read().decode("utf-8")).get("faults_fired", {})


def main():
    port = int(os.environ.get("LOGVAULT_CHAOS_PORT", "4567"))
    seconds = int(os.environ.get("LOGVAULT_CHAOS_SECONDS", "30"))
    batch = int(os.environ.get("LOGVAULT_CHAOS_BATCH", "10"))
    faults = os.environ.get("LOGVAULT_CHAOS_FAULTS", FAULTS)
    seed = os.environ.get("LOGVAULT_CHAOS_SEED", "15")
    os.makedirs(BUILD, exist_ok=True)
    if not demo.port_is_free(port):
        sys.exit("chaos: port %d is in use; stop what runs there or set LOGVAULT_CHAOS_PORT" % port)
    step(1, "starting the emulator on 127.0.0.1:%d with LOGVAULT_AWS_FAULTS=%r (seed %s)" % (port, faults, seed))
    os.environ["LOGVAULT_AWS_FAULTS"] = faults
    os.environ["LOGVAULT_AWS_FAULTS_SEED"] = seed
    emulator = demo.start_emulator(port, os.path.join(BUILD, "chaos-local-aws.log"))
    opensearch, os_endpoint, os_ca = demo.start_opensearch_double(
        os.path.join(BUILD, "chaos-opensearch"), os.path.join(BUILD, "chaos-opensearch.log"))
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
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "LOGVAULT_AWS_FAULTS", "LOGVAULT_AWS_FAULTS_SEED"):
        env.pop(leak, None)
    endpoint = "http://127.0.0.1:%d" % port
    started = time.time()
    try:
        step(2, "running playbooks/site.yml against inventories/local (log: build/chaos-site.log)")
        rc, site_out = demo.playbook("site.yml", env, os.path.join(BUILD, "chaos-site.log"))
        if rc != 0:
            print("\n".join(site_out.splitlines()[-40:]))
            print("chaos: site.yml failed (rc=%d); full log: build/chaos-site.log" % rc)
            return 1
        site_seconds = time.time() - started
        run = uuid.uuid4().hex[:8]
        step(3, "load: %d events per second per account and region for %d s (%d accounts x %d regions)"
             % (batch, seconds, len(MEMBERS), len(REGIONS)))
        sent = load(endpoint, seconds, batch, run)
        step(4, "waiting until every one of %d event ids is in the archive and in search" % len(sent))
        archive, search = collect(endpoint, sent, time.time() + 300)
        verdict = check(sent, archive, search)
        step(5, "report")
        fired = fired_faults(endpoint)
        print("  faults injected: %s" % ", ".join("%s x%d" % (text, count) for text, count in sorted(fired.items())))
        print("  site.yml %.0f s; sent %d events; archive: %d lost, duplicate ratio %.4f; search: %d lost, duplicate ratio %.4f"
              % (site_seconds, verdict["sent"], len(verdict["lost_archive"]), verdict["duplicates_archive"],
                 len(verdict["lost_search"]), verdict["duplicates_search"]))
        for where in ("lost_archive", "lost_search"):
            if verdict[where]:
                print("  %s (first 10): %s" % (where, ", ".join(verdict[where][:10])))
        if not verdict["ok"]:
            print("chaos: events were lost under faults; emulator log: build/chaos-local-aws.log")
            return 1
        idle = sorted(text for text, count in fired.items() if count == 0)
        if idle:
            # Reported, not failed: the draws depend on how many calls the run makes (the
            # transform's batching), so an idle entry is a weak run, not a lost event.
            print("chaos: WARNING: these faults never fired, so the run proves nothing about them: %s" % ", ".join(idle))
        print("chaos: no event lost under faults; %.0f s in all" % (time.time() - started))
        return 0
    finally:
        for proc in (emulator, opensearch):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:  # pylint: disable=broad-exception-caught
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
