# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policies and preflight checks of the AWS roles, in the form AWS documents (issue 14).

The roles' defaults and vars are rendered through ansible-core's own Templar (no AWS call,
no playbook run); the preflight assertions are read from the task files and their `that:`
conditions evaluated with the same Templar. Values a task would register (aws_caller_info,
kms_key_info) are given as variables, exactly in the shape those modules return.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles")
ACCOUNT = "123456789012"
ORG = "o-abcdefghij"
BASE = {
    "logvault_central_account_id": ACCOUNT,
    "logvault_account_id": ACCOUNT,
    "logvault_regions": ["us-east-1", "eu-west-1"],
    "logvault_member_accounts": ["111111111111", "222222222222"],
    "central_account_opensearch_subnet_ids": ["subnet-0aaa", "subnet-0bbb"],
    "central_account_opensearch_security_group_ids": ["sg-0aaa"],
}


def _trust(value):
    """Role files are trusted templates (as ansible-core marks the files of a role)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trust(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trust(v) for v in value]
    return value


def _load(role, *parts):
    with open(os.path.join(ROLES, role, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def templar(role, **overrides):
    variables = {}
    variables.update(_trust(_load(role, "defaults", "main.yml")))
    variables.update(_trust(_load(role, "vars", "main.yml")))
    variables.update(BASE)
    variables.update(overrides)
    return Templar(loader=DataLoader(), variables=variables)


def render(role, name, **overrides):
    return templar(role, **overrides).template(trust_as_template("{{ %s }}" % name))


def statement(policy, sid):
    found = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, "no statement %s in %s" % (sid, policy)
    return found[0]


def assertion(role, task_file, task_name):
    """The `that:` list of the named assert task in roles/<role>/tasks/<task_file>."""
    tasks = _load(role, "tasks", task_file)
    for task in tasks:
        if task.get("name") == task_name:
            return task
    raise AssertionError("roles/%s/tasks/%s has no task named %r" % (role, task_file, task_name))


def assertion_passes(role, task_file, task_name, **overrides):
    task = assertion(role, task_file, task_name)
    templ = templar(role, **overrides)
    when = task.get("when", [])
    for condition in (when if isinstance(when, list) else [when]):
        if not templ.evaluate_conditional(trust_as_template(str(condition))):
            return True  # the assertion does not apply
    return all(templ.evaluate_conditional(trust_as_template(str(c))) for c in task["ansible.builtin.assert"]["that"])


# ---------------------------------------------------------------- 1. organization mode

def test_member_delivery_role_may_put_log_events_on_its_own_log_groups_per_region():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateSubscriptionFilter-IAMrole.html
    policy = render("member_account", "_member_account_subscription_policy", logvault_organization_id=ORG,
                    logvault_destination_arns={"us-east-1": "arn:aws:logs:us-east-1:999999999999:destination:logvault-central"})
    st = statement(policy, "DeliverFromThisAccountsLogGroups")
    assert st["Action"] == ["logs:PutLogEvents"]
    assert sorted(st["Resource"]) == ["arn:aws:logs:eu-west-1:%s:log-group:*" % ACCOUNT,
                                      "arn:aws:logs:us-east-1:%s:log-group:*" % ACCOUNT]


def test_cloudwatch_logs_trust_uses_only_documented_condition_keys_in_organization_mode():
    policy = render("central_account", "_central_account_cwl_trust_policy", logvault_organization_id=ORG)
    condition = policy["Statement"][0]["Condition"]
    keys = {key for operator in condition.values() for key in operator}
    assert keys <= {"aws:SourceArn", "aws:SourceAccount"}, condition
    assert "aws:SourceOrgID" not in str(condition)
    assert sorted(condition["StringLike"]["aws:SourceArn"]) == ["arn:aws:logs:eu-west-1:*:*", "arn:aws:logs:us-east-1:*:*"]


def test_cloudwatch_logs_trust_names_the_accounts_without_an_organization():
    policy = render("central_account", "_central_account_cwl_trust_policy")
    condition = policy["Statement"][0]["Condition"]
    assert list(condition) == ["StringLike"]
    assert "arn:aws:logs:us-east-1:111111111111:*" in condition["StringLike"]["aws:SourceArn"]


# ---------------------------------------------------------------- 2. Firehose trust

def test_firehose_trust_policy_uses_the_external_id_the_firehose_guide_documents():
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    policy = render("central_account", "_central_account_firehose_trust_policy")
    st = policy["Statement"][0]
    assert st["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}}


# ---------------------------------------------------------------- 3. SNS key policy for CloudWatch alarms

def test_key_policy_gives_cloudwatch_alarms_the_documented_grant_scoped_to_the_alarm_topic():
    # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    policy = render("central_account", "_central_account_key_policy")
    st = statement(policy, "CloudWatchAlarmsPublishToEncryptedTopic")
    assert st["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(st["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert st["Condition"] == {"StringEquals": {
        "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:%s:logvault-alarms" % ACCOUNT}}


# ---------------------------------------------------------------- 4. Object Lock: alarms that prove archive delivery

@pytest.mark.parametrize("stream", ["logvault-archive", "logvault-search"])
def test_alarm_on_firehose_kms_key_access_denied(stream):
    # https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
    alarms = render("central_account", "_central_account_alarms")
    found = [a for a in alarms if a["namespace"] == "AWS/Firehose" and a["metric"] == "KMSKeyAccessDenied"
             and a["dimensions"] == {"DeliveryStreamName": stream}]
    assert len(found) == 1, alarms
    assert found[0]["comparison"] == "GreaterThanThreshold" and float(found[0]["threshold"]) == 0.0


def test_alarm_when_the_archive_stream_delivers_nothing_to_s3():
    alarms = render("central_account", "_central_account_alarms")
    found = [a for a in alarms if a["metric"] == "DeliveryToS3.Success" and a["dimensions"] == {"DeliveryStreamName": "logvault-archive"}]
    assert len(found) == 1 and found[0]["comparison"] == "LessThanThreshold" and float(found[0]["threshold"]) == 1.0


# ---------------------------------------------------------------- 5. OpenSearch in a VPC

PRIVATE = "Assert that the search domain is private and its retention is valid"


def test_the_domain_is_private_by_default_and_needs_subnets_and_security_groups():
    defaults = _load("central_account", "defaults", "main.yml")
    assert defaults["central_account_opensearch_public"] is False
    assert not assertion_passes("central_account", "preflight.yml", PRIVATE,
                                central_account_opensearch_subnet_ids=[], central_account_opensearch_security_group_ids=[])
    assert not assertion_passes("central_account", "preflight.yml", PRIVATE, central_account_opensearch_security_group_ids=[])
    assert assertion_passes("central_account", "preflight.yml", PRIVATE)


def test_a_public_domain_must_be_asked_for_explicitly_and_then_has_no_subnets():
    assert assertion_passes("central_account", "preflight.yml", PRIVATE, central_account_opensearch_public=True,
                            central_account_opensearch_subnet_ids=[], central_account_opensearch_security_group_ids=[])
    assert not assertion_passes("central_account", "preflight.yml", PRIVATE, central_account_opensearch_public=True)


def test_the_domain_uses_the_pfs_tls_policy():
    tasks = _load("central_account", "tasks", "opensearch.yml")
    domain = [t for t in tasks if "community.aws.opensearch" in t][0]["community.aws.opensearch"]
    assert domain["domain_endpoint_options"]["tls_security_policy"] == "Policy-Min-TLS-1-2-PFS-2023-10"


def test_search_firehose_in_a_vpc_gets_the_documented_ec2_permissions_and_vpc_configuration():
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-es-vpc
    policy = render("central_account", "_central_account_search_firehose_policy")
    st = statement(policy, "ManageDeliveryEnisInTheDomainVpc")
    assert sorted(st["Action"]) == sorted([
        "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface"])
    vpc = render("central_account", "_central_account_search_firehose_vpc")
    assert vpc == {"subnet_ids": ["subnet-0aaa", "subnet-0bbb"], "security_group_ids": ["sg-0aaa"],
                   "role_arn": "arn:aws:iam::%s:role/logvault-search-firehose" % ACCOUNT}


def test_a_public_domain_gives_firehose_no_ec2_permissions():
    policy = render("central_account", "_central_account_search_firehose_policy", central_account_opensearch_public=True,
                    central_account_opensearch_subnet_ids=[], central_account_opensearch_security_group_ids=[])
    assert not [s for s in policy["Statement"] if any(a.startswith("ec2:") for a in s["Action"])]
    assert render("central_account", "_central_account_search_firehose_vpc", central_account_opensearch_public=True) == {}


def test_opensearch_audit_and_error_logs_have_their_groups_and_a_scoped_resource_policy():
    # https://docs.aws.amazon.com/opensearch-service/latest/developerguide/createdomain-configure-slow-logs.html
    groups = render("central_account", "_central_account_opensearch_log_groups")
    assert groups == {"AUDIT_LOGS": "/aws/opensearch/logvault-search/audit", "ES_APPLICATION_LOGS": "/aws/opensearch/logvault-search/error"}
    policy = render("central_account", "_central_account_opensearch_log_policy")
    st = policy["Statement"][0]
    assert st["Principal"] == {"Service": "es.amazonaws.com"}
    assert sorted(st["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert sorted(st["Resource"]) == sorted("arn:aws:logs:us-east-1:%s:log-group:%s:*" % (ACCOUNT, g) for g in groups.values())
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                               "ArnLike": {"aws:SourceArn": "arn:aws:es:us-east-1:%s:domain/logvault-search" % ACCOUNT}}
    assert render("central_account", "_central_account_opensearch_log_publishing") == {
        t: {"log_group_arn": "arn:aws:logs:us-east-1:%s:log-group:%s" % (ACCOUNT, g)} for t, g in groups.items()}
    tasks = {t.get("name"): t for t in _load("central_account", "tasks", "opensearch.yml")}
    publish = tasks["Publish the domain's audit and error logs to their log groups"]["logvault.aws.opensearch_domain_log_publishing"]
    assert publish["logs"] == "{{ _central_account_opensearch_log_publishing }}"
    names = list(tasks)
    assert names.index("Let OpenSearch Service write this domain's logs (CloudWatch Logs resource policy)") \
        < names.index("Publish the domain's audit and error logs to their log groups")
    key = statement(render("central_account", "_central_account_key_policy"), "CloudWatchLogsPipelineLogGroups")
    for group in groups.values():
        assert "arn:aws:logs:us-east-1:%s:log-group:%s" % (ACCOUNT, group) in key["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]


# ---------------------------------------------------------------- 6. fail early

HUB_KEY = "Assert that the hub stream's key was found (its decrypt permission goes into the Lambda's policy)"


def test_stream_alerts_fails_when_the_hub_key_alias_is_not_found():
    assert not assertion_passes("stream_alerts", "keys.yml", HUB_KEY, ansible_check_mode=False,
                                __stream_alerts_stream_kms_info={"kms_keys": []})
    assert assertion_passes("stream_alerts", "keys.yml", HUB_KEY, ansible_check_mode=False, __stream_alerts_stream_kms_info={
        "kms_keys": [{"key_arn": "arn:aws:kms:us-east-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % ACCOUNT}]})


def test_stream_alerts_check_mode_on_a_new_account_predicts_without_the_hub_key():
    # site.yml --check on an empty account: central_account predicted the key, created nothing.
    assert assertion_passes("stream_alerts", "keys.yml", HUB_KEY, ansible_check_mode=True,
                            __stream_alerts_stream_kms_info={"kms_keys": []})


CALLER = "Assert that the caller may still change the archive bucket policy it is about to write"


@pytest.mark.parametrize("caller, assume, ok", [
    # The break-glass role (default name), assumed: STS reports the role name without its path.
    ("arn:aws:sts::%s:assumed-role/logvault-break-glass/alice" % ACCOUNT, "", True),
    # The deploying role of logvault_assume_role_arn, with a path.
    ("arn:aws:sts::%s:assumed-role/deployer/logvault-central-%s" % (ACCOUNT, ACCOUNT),
     "arn:aws:iam::%s:role/ops/deployer" % ACCOUNT, True),
    # Anybody else would lock itself out of the bucket policy it writes.
    ("arn:aws:sts::%s:assumed-role/AdministratorAccess/bob" % ACCOUNT, "", False),
    ("arn:aws:iam::%s:user/bob" % ACCOUNT, "", False),
    ("arn:aws:sts::%s:assumed-role/deployer/x" % ACCOUNT, "arn:aws:iam::%s:role/other" % ACCOUNT, False),
])
def test_central_account_caller_must_keep_access_to_the_bucket_policy(caller, assume, ok):
    overrides = {"__central_account_caller": {"account": ACCOUNT, "arn": caller}}
    if assume:
        overrides["logvault_assume_role_arn"] = assume
    assert assertion_passes("central_account", "identity.yml", CALLER, **overrides) is ok


def test_a_break_glass_user_may_deploy():
    assert assertion_passes("central_account", "identity.yml", CALLER,
                            central_account_break_glass_principal_arns=["arn:aws:iam::%s:user/team/carol" % ACCOUNT],
                            __central_account_caller={"account": ACCOUNT, "arn": "arn:aws:iam::%s:user/team/carol" % ACCOUNT})


# ----------------------------------------------------------------- stream_alerts outputs (issue 20)
OUTPUTS = [{"name": "pager", "subscriptions": [{"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:%s:inbox" % ACCOUNT}],
            "service_publishers": ["cloudwatch.amazonaws.com"]},
           {"name": "chat", "format": "chatbot"}]


def _alerts(name, **overrides):
    return render("stream_alerts", name, logvault_central_account_id=ACCOUNT, stream_alerts_outputs=OUTPUTS, **overrides)


def test_each_output_has_its_own_topic_key_alias_and_format():
    outputs = {o["name"]: o for o in _alerts("_stream_alerts_outputs")}
    assert sorted(outputs) == ["chat", "default", "pager"]
    assert outputs["pager"]["topic_arn"] == "arn:aws:sns:us-east-1:%s:logvault-alerts-pager" % ACCOUNT
    assert outputs["pager"]["kms_alias"] == "logvault-alerts-pager" and outputs["chat"]["format"] == "chatbot"
    assert outputs["default"]["topic_arn"] == "arn:aws:sns:us-east-1:%s:logvault-alerts" % ACCOUNT
    assert _alerts("_stream_alerts_output_map")["chat"] == {"topic_arn": outputs["chat"]["topic_arn"], "format": "chatbot"}


def test_an_output_key_policy_lets_sns_use_it_for_its_topic_only_and_names_its_service_publishers():
    policies = _alerts("_stream_alerts_output_key_policies")
    pager = policies["pager"]
    topic = statement(pager, "TopicOfThisOutput")
    assert topic["Condition"]["StringEquals"] == {
        "kms:CallerAccount": ACCOUNT, "kms:ViaService": "sns.us-east-1.amazonaws.com",
        "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:%s:logvault-alerts-pager" % ACCOUNT}
    # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html: AWS services publishing to an encrypted topic
    service = statement(pager, "AwsServicesPublishingToTheTopic")
    assert service["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert sorted(service["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert [s["Sid"] for s in policies["chat"]["Statement"]] == ["KeyAdministration", "TopicOfThisOutput"]


def test_every_topic_policy_keeps_the_default_statement_and_denies_publishing_without_tls():
    policies = _alerts("_stream_alerts_topic_policies")
    for name, policy in policies.items():
        default = statement(policy, "__default_statement_ID")
        assert default["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}, name
        tls = statement(policy, "AllowPublishThroughSSLOnly")
        assert tls["Effect"] == "Deny" and tls["Action"] == "SNS:Publish"
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    publish = statement(policies["pager"], "AwsServicesOfThisAccountPublish")
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert "AwsServicesOfThisAccountPublish" not in [s["Sid"] for s in policies["default"]["Statement"]]


def test_the_lambda_may_publish_to_every_output_and_use_every_output_key():
    policy = _alerts("_stream_alerts_policy", __stream_alerts_output_kms_info={"results": [
        {"item": {"name": "pager"}, "kms_keys": [{"key_arn": "arn:aws:kms:us-east-1:%s:key/pager" % ACCOUNT}]}]})
    assert sorted(statement(policy, "PublishAlerts")["Resource"]) == [
        "arn:aws:sns:us-east-1:%s:logvault-alerts%s" % (ACCOUNT, suffix) for suffix in ("", "-chat", "-pager")]
    keys = statement(policy, "UseTheAlertsKeys")["Resource"]
    assert "arn:aws:kms:us-east-1:%s:key/pager" % ACCOUNT in keys
    assert "arn:aws:kms:us-east-1:%s:key/not-yet-created-chat" % ACCOUNT in keys


# ------------------------------------------------- trust policies the services can satisfy
# Each service role's trust policy, rendered from the role, is evaluated by the emulator's
# trust check (local_aws/services/trust.py) with only the context keys the service is
# documented to send (docs/local-aws.md, "Trust policies"). A condition on any other key
# denies, as on AWS; these tests fail when a role conditions on such a key.

def _service_may_assume(policy, service, context):
    from local_aws.services import trust  # pylint: disable=import-outside-toplevel
    return trust.document_allows(policy, service, "us-east-1", context)


@pytest.mark.parametrize("role, name", [
    ("central_account", "_central_account_lambda_trust_policy"),
    ("stream_alerts", "_stream_alerts_trust_policy"),
])
def test_lambda_execution_role_trust_is_the_documented_form(role, name):
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html: the trust
    # policy names lambda.amazonaws.com; Lambda documents no context key for assuming it.
    policy = render(role, name, logvault_account_id=ACCOUNT)
    assert _service_may_assume(policy, "lambda", {})
    assert not _service_may_assume(policy, "firehose", {"sts:ExternalId": ACCOUNT})


def test_firehose_trust_is_satisfied_by_the_external_id_firehose_sends():
    # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    policy = render("central_account", "_central_account_firehose_trust_policy")
    assert _service_may_assume(policy, "firehose", {"sts:ExternalId": ACCOUNT})
    assert not _service_may_assume(policy, "firehose", {"sts:ExternalId": "999999999999"})
    assert not _service_may_assume(policy, "firehose", {"aws:SourceAccount": ACCOUNT})


def test_cloudwatch_logs_trust_is_satisfied_by_what_cloudwatch_logs_sends():
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CreateDestination.html
    policy = render("central_account", "_central_account_cwl_trust_policy")
    member = "111111111111"
    context = {"aws:SourceAccount": member,
               "aws:SourceArn": "arn:aws:logs:eu-west-1:%s:log-group:/app/orders:*" % member}
    assert _service_may_assume(policy, "logs", context)
    stranger = {"aws:SourceAccount": "999999999999",
                "aws:SourceArn": "arn:aws:logs:eu-west-1:999999999999:log-group:/app/orders:*"}
    assert not _service_may_assume(policy, "logs", stranger)
