# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""First-run time sinks found with profile_tasks (issue 17, docs/organization-scale.md).

community.aws 10.0.0's sns_topic_info, given `topic_arn` of a topic that does not exist yet,
lists its subscriptions through AWSRetry.jittered_backoff(catch_extra_error_codes=["NotFound"]):
the NotFound is retried about ten times, 95 to 175 s per lookup on every first run. The roles
list the topics instead (one paginated ListTopics) and test membership.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _tasks(path):
    """Every task of a role's task file or of a playbook (its plays' task sections), blocks included."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or []
    stack = list(data) if isinstance(data, list) else []
    while stack:
        task = stack.pop()
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always", "pre_tasks", "tasks", "post_tasks", "handlers"):
            stack.extend(task.get(key) or [])
        yield task


def _role_and_playbook_tasks():
    """(path relative to the repository, task) of every task of the roles' task files and of the playbooks."""
    for pattern in ("roles/*/tasks/*.yml", "playbooks/*.yml"):
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            for task in _tasks(path):
                yield os.path.relpath(path, ROOT), task


def test_no_role_looks_up_an_sns_topic_by_arn():
    offenders = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))):
        for task in _tasks(path):
            args = task.get("community.aws.sns_topic_info")
            if isinstance(args, dict) and args.get("topic_arn"):
                offenders.append("%s: %s" % (os.path.relpath(path, ROOT), task.get("name")))
    assert not offenders, offenders


def _trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


def _templar(role, **variables):
    values = {}
    for part in ("defaults", "vars"):
        with open(os.path.join(ROOT, "roles", role, part, "main.yml"), encoding="utf-8") as handle:
            # Ansible trusts a role's vars files as templates, nested values included.
            values.update(_trusted(yaml.safe_load(handle) or {}))
    values.update(variables)
    return Templar(loader=DataLoader(), variables=values)


@pytest.mark.parametrize("listed, missing", [
    ([], True),
    (["arn:aws:sns:us-east-1:123456789012:other"], True),
    (["arn:aws:sns:us-east-1:123456789012:logvault-alerts"], False),
])
def test_stream_alerts_learns_whether_its_topic_exists_from_the_topic_list(listed, missing):
    templ = _templar("stream_alerts", logvault_central_account_id="123456789012", logvault_account_id="123456789012",
                     stream_alerts_topic_name="logvault-alerts", stream_alerts_region="us-east-1",
                     logvault_regions=["us-east-1"], __stream_alerts_topic_info={"result": listed})
    arn = templ.template(trust_as_template("{{ _stream_alerts_topic_arn }}"))
    assert arn == "arn:aws:sns:us-east-1:123456789012:logvault-alerts"
    assert templ.evaluate_conditional(trust_as_template("_stream_alerts_topic_arn not in _stream_alerts_existing_topic_arns")) is missing


def _task(role, task_file, name):
    """A task of a role's task file, also inside blocks."""
    for task in _tasks(os.path.join(ROOT, "roles", role, "tasks", task_file)):
        if task.get("name") == name:
            return task
    raise AssertionError("no task %r in roles/%s/tasks/%s" % (name, role, task_file))


def _when(role, task_file, name):
    when = _task(role, task_file, name)["when"]
    return when if isinstance(when, list) else [when]


@pytest.mark.parametrize("state, mode, changed_regions, always, cleaned", [
    # first run or switch from log_groups: look for the filters where the policy was written
    ("present", "account_policy", ["us-east-1", "eu-west-1"], False, ["us-east-1", "eu-west-1"]),
    ("present", "account_policy", ["eu-west-1"], False, ["eu-west-1"]),
    ("present", "account_policy", [], False, []),          # rerun of a converged account: skip the listing of every group
    ("present", "account_policy", [], True, ["us-east-1", "eu-west-1"]),   # asked for at every run
    ("present", "log_groups", ["us-east-1"], False, []),   # the filters are this mode's own
    ("absent", "account_policy", [], False, ["us-east-1", "eu-west-1"]),   # offboarding removes them always
    ("absent", "log_groups", ["us-east-1"], False, ["us-east-1", "eu-west-1"]),
])
@pytest.mark.parametrize("organization", ["", "o-abcdefghij"])
def test_member_account_lists_every_log_group_only_where_the_account_policy_is_written(state, mode, changed_regions, always, cleaned,
                                                                                       organization):
    regions = ["us-east-1", "eu-west-1"]
    # The policy is written in the log groups' module run: without an organization first (existing_policy.yml), else in
    # logs.yml. A region's log groups may change while its policy does not (changed, but not account_policy_changed).
    written = "__member_account_policies_first" if (not organization and state == "present" and mode == "account_policy") \
        else "__member_account_log_groups"
    templ = _templar("member_account", member_account_state=state, member_account_subscription_mode=mode,
                     member_account_always_remove_group_filters=always, logvault_regions=regions,
                     logvault_organization_id=organization,
                     **{written: {"changed": True, "regions": dict((r, {"changed": True, "account_policy_changed": r in changed_regions})
                                                                   for r in regions)}})
    assert templ.template(trust_as_template("{{ _member_account_filter_cleanup_regions }}")) == cleaned
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "logs.yml"), encoding="utf-8") as handle:
        task = next(t for t in yaml.safe_load(handle) if t["name"].startswith("Remove this collection's per-group"))
    assert task["when"] == "_member_account_filter_cleanup_regions | length > 0"
    assert task["logvault.aws.cloudwatchlogs_subscription_filter"]["regions"] == "{{ _member_account_filter_cleanup_regions }}"


@pytest.mark.parametrize("sts, caller, account, calls_caller_info", [
    ({"sts_user": {"arn": "arn:aws:sts::222222222222:assumed-role/logvault-admin/s", "assumed_role_id": "AROA:s"}}, {}, "222222222222", False),
    ({"skipped": True}, {"account": "333333333333"}, "333333333333", True),
])
def test_member_account_reads_the_account_from_the_assumed_role_without_another_module_run(sts, caller, account, calls_caller_info):
    """Issue 17: GetCallerIdentity only when no role was assumed (the assumed-role ARN names the account)."""
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "identity.yml"), encoding="utf-8") as handle:
        read, check = yaml.safe_load(handle)
    templ = _templar("member_account", logvault_account_id="111111111111", __member_account_sts=sts, __member_account_caller=caller,
                     _member_account_credentials_account=trust_as_template(check["vars"]["_member_account_credentials_account"]))
    assert templ.evaluate_conditional(trust_as_template(read["when"])) is calls_caller_info
    assert templ.template(trust_as_template("{{ _member_account_credentials_account }}")) == account
    # the assertion fails for another account than logvault_account_id
    assert templ.evaluate_conditional(trust_as_template(check["ansible.builtin.assert"]["that"][0])) is False


# Loops whose length grows with the organization: one module run per region, or per account and
# region, is one Python process each on the control node (docs/organization-scale.md).
_GROWING_LOOPS = ("_member_account_regions", "_central_account_regions", "_central_account_canary_regions",
                  "_central_account_canary_accounts", "_central_account_member_accounts")
# Tasks that are not module runs against AWS (no process per item that imports boto3).
_NOT_MODULE_RUNS = ("ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.debug")


@pytest.mark.parametrize("role", ["member_account", "central_account"])
def test_no_aws_task_loops_over_the_regions_or_the_accounts(role):
    offenders = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml"))):
        for task in _tasks(path):
            loop = task.get("loop") or task.get("with_items") or ""
            if not isinstance(loop, str) or any(key in task for key in _NOT_MODULE_RUNS):
                continue
            if any(name in loop for name in _GROWING_LOOPS):
                offenders.append("%s: %s" % (os.path.basename(path), task.get("name")))
    assert offenders == [], "tasks that start one module run per region or account: %s" % offenders


def test_member_account_manages_the_iam_it_owns_in_one_module_run_per_task():
    """A member account's roles and policies were 8 to 10 amazon.aws module runs (one Python process each);
    logvault.aws.iam_roles manages them, the canary's roles included, in one run. Only the roles the user names
    (member_account_fleet_policy_roles, usually none) are still looped over with amazon.aws."""
    iam_tasks = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "member_account", "tasks", "*.yml"))):
        for task in _tasks(path):
            modules = [key for key in task if key.startswith(("amazon.aws.iam_", "community.aws.iam_", "logvault.aws.iam_"))]
            if modules and "member_account_fleet_policy_roles" not in str(task.get("loop")) \
                    and "__member_account_instance_roles" not in str(task.get("loop")):
                iam_tasks.setdefault(os.path.basename(path), []).append(modules[0])
    assert iam_tasks == {
        "iam.yml": ["logvault.aws.iam_roles"],  # the account's roles and policies, and the canary's roles
        "canary_absent.yml": ["logvault.aws.iam_roles"],  # the removal, when offboarding
    }


@pytest.mark.parametrize("state, canary, count", [
    ("present", True, 4),
    # canary off: its roles are not in this run; tasks/canary_absent.yml removes them after its functions
    ("present", False, 2),
    ("absent", True, 2),
])
def test_member_account_manages_the_canary_roles_in_the_account_iam_module_run(state, canary, count):
    """Issue 17: the canary's two roles were a module run of their own (canary_roles.yml) before the account's
    other roles; they are now in the one logvault.aws.iam_roles run of iam.yml, which runs when onboarding."""
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "iam.yml"), encoding="utf-8") as handle:
        task = yaml.safe_load(handle)[0]
    templ = _templar("member_account", member_account_state=state, member_account_canary_enabled=canary,
                     logvault_account_id="111111111111", logvault_central_account_id="222222222222",
                     logvault_regions=["us-east-1"], **_trusted(task["vars"]))
    roles = templ.template(trust_as_template(task["logvault.aws.iam_roles"]["roles"]))
    names = [templ.template(role["name"]) for role in roles]
    assert names == [templ.template(trust_as_template(name)) for name in (
        "{{ member_account_fleet_role_name }}", "{{ member_account_subscription_role_name }}",
        "{{ member_account_canary_role_name }}", "{{ member_account_canary_scheduler_role_name }}")][:count]
    assert len(set(names)) == count
    for role in roles[2:]:
        assert role["state"] == "present"
        assert templ.template(role["inline_policies"])


def test_member_account_deploys_the_canary_function_and_its_schedule_in_one_module_run():
    """Issue 17: the canary's function and its schedule were two module runs per account (lambda_function, then
    scheduler_schedule); lambda_function's option schedule does both, in that order, and deletes the schedule
    before the function when the canary goes."""
    tasks = [task for name in ("main.yml", "canary_absent.yml")
             for task in _tasks(os.path.join(ROOT, "roles", "member_account", "tasks", name))]
    modules = [key for task in tasks for key in task if key.startswith(("logvault.aws.", "amazon.aws.", "community.aws."))]
    assert "logvault.aws.scheduler_schedule" not in modules
    functions = [task["logvault.aws.lambda_function"] for task in tasks if "logvault.aws.lambda_function" in task]
    assert sorted(f.get("state") for f in functions) == ["absent", "present"]
    deploy, remove = sorted(functions, key=lambda f: f["state"] == "absent")
    assert deploy["schedule"]["role_arn"] == "{{ _member_account_canary_scheduler_role_arn }}"
    assert deploy["schedule"]["schedule_expression"] == "{{ member_account_canary_schedule }}"
    assert remove["schedule"]["name"] == "{{ member_account_canary_function_name }}"


@pytest.mark.parametrize("organization, state, mode, probe, first, late, with_policy, removal", [
    # no delivery role: the log groups and the account policy are written first, all regions or none; no look before
    ("", "present", "account_policy", False, True, False, True, False),
    # the policy names the delivery role: look first, write the log groups and the policy after IAM (logs.yml)
    ("o-abcdefghij", "present", "account_policy", True, False, True, True, False),
    # per-group filters: the log groups alone, and this collection's account policy removed
    ("", "present", "log_groups", False, False, True, False, True),
    # offboarding: the policy removed, the log groups left alone
    ("o-abcdefghij", "absent", "account_policy", False, False, False, False, True),
])
def test_member_account_writes_the_log_groups_and_the_account_policy_in_one_module_run(organization, state, mode, probe, first, late,
                                                                                       with_policy, removal):
    """Issue 17: a look (check mode) and then a write of the account policy were two module runs per account, and the
    log groups a third; the policy is now written in the log groups' module run (cloudwatchlogs_log_groups, option
    account_policy), first and with all_or_nothing when it needs no delivery role."""
    tasks = {}
    for task_file in ("existing_policy.yml", "logs.yml"):
        with open(os.path.join(ROOT, "roles", "member_account", "tasks", task_file), encoding="utf-8") as handle:
            for task in yaml.safe_load(handle):
                if any(key in task for key in ("logvault.aws.cloudwatchlogs_account_policy", "logvault.aws.cloudwatchlogs_log_groups")):
                    tasks[task["name"]] = task
    assert len(tasks) == 4
    look = tasks["Look for an account-level subscription filter policy of another name in every region"]
    write_first = tasks["Manage the log groups and subscribe every log group through the account-level policy in every region, "
                        "first (all regions or none)"]
    write_late = tasks["Manage the log groups in every region, and with an organization the account-level policy that subscribes them"]
    remove = tasks["Remove this collection's account-level subscription filter policy in every region"]
    assert look["check_mode"] is True
    assert write_first["logvault.aws.cloudwatchlogs_log_groups"]["account_policy"]["all_or_nothing"] is True
    assert remove["logvault.aws.cloudwatchlogs_account_policy"]["state"] == "absent"
    templ = _templar("member_account", logvault_organization_id=organization, logvault_account_id="111111111111",
                     logvault_central_account_id="222222222222", member_account_state=state, member_account_subscription_mode=mode)

    def runs(task):
        conditions = task["when"] if isinstance(task["when"], list) else [task["when"]]
        return all(templ.evaluate_conditional(trust_as_template(c)) for c in conditions)

    if state == "present" and mode == "account_policy":  # main.yml imports existing_policy.yml only then
        assert runs(look) is probe and runs(write_first) is first
    assert (runs(write_late), runs(remove)) == (late, removal)
    assert templ.evaluate_conditional(trust_as_template("_member_account_policy_with_groups | bool")) is with_policy
    assert write_late["logvault.aws.cloudwatchlogs_log_groups"]["account_policy"] == \
        "{{ _member_account_policy_spec if (_member_account_policy_with_groups | bool) else omit }}"
    spec = templ.template(trust_as_template("{{ _member_account_policy_spec }}"))
    assert spec["role_arn"] == "arn:aws:iam::111111111111:role/logvault/logvault-cwl-delivery"  # the delivery role of iam.yml
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "main.yml"), encoding="utf-8") as handle:
        block = yaml.safe_load(handle)[2]["block"]
    order = [t.get("ansible.builtin.import_tasks") or t.get("ansible.builtin.include_tasks", {}).get("file") for t in block]
    assert order.index("existing_policy.yml") < order.index("iam.yml") < order.index("logs.yml")


@pytest.mark.parametrize("organization, state, mode, cleanup, included", [
    # the log groups and the policy were written first (existing_policy.yml): nothing left for logs.yml
    ("", "present", "account_policy", [], False),
    # ... unless per-group filters are to be removed where the policy was just written
    ("", "present", "account_policy", ["us-east-1"], True),
    ("o-abcdefghij", "present", "account_policy", [], True),
    ("", "present", "log_groups", [], True),
    ("", "absent", "account_policy", [], True),
])
def test_member_account_includes_logs_yml_only_when_it_has_work(organization, state, mode, cleanup, included):
    """Issue 17: in the common case (account policy, no organization) every task of logs.yml was skipped on every
    run, and each skipped task is a worker process per account; main.yml now includes the file only when one of
    its tasks can run."""
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "main.yml"), encoding="utf-8") as handle:
        block = yaml.safe_load(handle)[2]["block"]
    include = [t for t in block if t.get("ansible.builtin.include_tasks", {}).get("file") == "logs.yml"]
    assert len(include) == 1 and not any(t.get("ansible.builtin.import_tasks") == "logs.yml" for t in block)
    templ = _templar("member_account", logvault_organization_id=organization, logvault_account_id="111111111111",
                     logvault_central_account_id="222222222222", member_account_state=state, member_account_subscription_mode=mode,
                     _member_account_filter_cleanup_regions=cleanup)
    assert templ.evaluate_conditional(trust_as_template(include[0]["when"])) is included
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "logs.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    runnable = []
    for task in tasks:
        conditions = task["when"] if isinstance(task["when"], list) else [task["when"]]
        if all(templ.evaluate_conditional(trust_as_template(c)) for c in conditions):
            runnable.append(task["name"])
    # When the include is taken, one of its tasks runs; when it is not, none would have.
    assert bool(runnable) is included, runnable


def test_member_account_keeps_the_tasks_of_other_cases_behind_includes():
    """The canary's removal and the fleet policy on the user's own roles are included only when they apply:
    an onboarded account with the canary meets one skipped include for each, not one skipped task per task."""
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "main.yml"), encoding="utf-8") as handle:
        block = yaml.safe_load(handle)[2]["block"]
    removal = [t for t in block if t.get("ansible.builtin.include_tasks", {}).get("file") == "canary_absent.yml"]
    assert len(removal) == 1 and removal[0]["when"] == "not (_member_account_canary_present | bool)"
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "iam.yml"), encoding="utf-8") as handle:
        iam = yaml.safe_load(handle)
    fleet = [t for t in iam if t.get("ansible.builtin.include_tasks", {}).get("file") == "fleet_policy_roles.yml"]
    assert len(fleet) == 1 and "member_account_fleet_policy_roles | length > 0" in fleet[0]["when"]
    assert [t["name"] for t in iam if "ansible.builtin.include_tasks" not in t] == [
        "Manage the fleet role and its instance profile, the fleet and log-reader policies, the delivery role and the canary's roles"]


def _central_iam_includes():
    """The include_tasks of tasks/iam_roles.yml in central_account's task files, by task name."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "central_account", "tasks", "*.yml"))):
        for task in _tasks(path):
            include = task.get("ansible.builtin.include_tasks")
            if isinstance(include, dict) and include.get("file") == "iam_roles.yml":
                found[task["name"]] = task["vars"]["_central_account_iam_roles"]
    return found


def test_central_account_manages_the_roles_of_each_iam_include_in_one_module_run():
    """Issue 17: the central roles were one amazon.aws.iam_role run per role and one amazon.aws.iam_policy run per
    inline policy (13 module runs in five includes), then one logvault.aws.iam_roles run per phase (five); every
    phase's roles are now one include, one module run."""
    assert len(_central_iam_includes()) == 1
    with open(os.path.join(ROOT, "roles", "central_account", "tasks", "iam_roles.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    assert [[key for key in task if "." in key] for task in tasks] == [["logvault.aws.iam_roles"]]
    assert not any(key in tasks[0] for key in ("loop", "with_items", "when", "register"))


PHASES_WITH_ROLES = {"central_account_destinations", "central_account_firehose", "central_account_canary",
                     "central_account_lambda", "central_account_opensearch"}


@pytest.mark.parametrize("canary", [True, False])
def test_central_account_manages_every_phase_role_in_the_one_include_tagged_with_each_phase(canary):
    """The include carries the tag of every phase that hands one of its roles to a service, so that --tags <phase>
    still manages that phase's role; the canary's roles only when the canary is enabled."""
    main = os.path.join(ROOT, "roles", "central_account", "tasks", "main.yml")
    (task,) = [t for t in _tasks(main) if (t.get("ansible.builtin.include_tasks") or {}).get("file") == "iam_roles.yml"]
    assert set(task["tags"]) == PHASES_WITH_ROLES
    assert set(task["ansible.builtin.include_tasks"]["apply"]["tags"]) == PHASES_WITH_ROLES
    assert "when" not in task
    templ = _templar("central_account", central_account_canary_enabled=canary, logvault_central_account_id="123456789012",
                     logvault_account_id="123456789012", logvault_regions=["us-east-1"])
    roles = templ.template(trust_as_template(task["vars"]["_central_account_iam_roles"]))
    names = [role["name"] for role in roles]
    expected = ["logvault-cwl-to-kinesis", "logvault-archive-firehose", "logvault-transform", "logvault-search-admin",
                "logvault-search-firehose"] + (["logvault-canary-monitor", "logvault-canary-monitor-scheduler"] if canary else [])
    assert names == expected
    # The search admin role has no inline policy (the domain maps it as master user); every other role has one.
    assert [name for name, role in zip(names, roles) if "policy" not in role] == ["logvault-search-admin"]


def test_central_account_gives_each_role_its_trust_policy_inline_policy_session_duration_and_tags():
    with open(os.path.join(ROOT, "roles", "central_account", "tasks", "iam_roles.yml"), encoding="utf-8") as handle:
        task = yaml.safe_load(handle)[0]
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logvault-a/*"}]}
    templ = _templar("central_account", central_account_tags={"owner": "security"},
                     _central_account_iam_roles=[dict(name="logvault-a", description="with a policy", trust=trust, policy=policy),
                                                 dict(name="logvault-b", description="trust only", trust=trust)],
                     **_trusted(task["vars"]))
    roles = templ.template(trust_as_template(task["logvault.aws.iam_roles"]["roles"]))
    assert roles == [
        dict(name="logvault-a", description="with a policy", assume_role_policy_document=trust, inline_policies={"logvault-a": policy},
             max_session_duration=3600, tags={"owner": "security"}),
        dict(name="logvault-b", description="trust only", assume_role_policy_document=trust, inline_policies={},
             max_session_duration=3600, tags={"owner": "security"}),
    ]
    assert isinstance(roles[0]["max_session_duration"], int)


def test_stream_alerts_manages_its_role_and_inline_policy_in_one_module_run():
    """Issue 17: the alerts Lambda's role was three module runs on the central account's serial path
    (amazon.aws.iam_role_info, iam_role, iam_policy); logvault.aws.iam_roles does it in one, with the
    same trust policy, inline policy, session duration and tags."""
    with open(os.path.join(ROOT, "roles", "stream_alerts", "tasks", "iam.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    assert [[key for key in task if "." in key] for task in tasks] == [["logvault.aws.iam_roles"]]
    (role,) = tasks[0]["logvault.aws.iam_roles"]["roles"]
    assert role["name"] == "{{ stream_alerts_role_name }}"
    assert role["assume_role_policy_document"] == "{{ _stream_alerts_trust_policy }}"
    assert role["inline_policies"] == "{{ {stream_alerts_role_name: _stream_alerts_policy} }}"
    assert role["max_session_duration"] == 3600 and role["tags"] == "{{ stream_alerts_tags }}"
    assert not any(key in tasks[0] for key in ("loop", "when"))


# The topic lists only serve check mode (a new topic cannot go through sns_topic in check mode): a real run
# skips them, one module run less per topic on the central account's serial path. Each entry: the list task,
# then the task that manages the topic and its check-mode stand-in, which read the list.
TOPIC_LISTS = [
    ("central_account", "alarms.yml", "List the topics of the account to look up the alarm topic",
     "Manage the alarm topic, publishable only by this account's CloudWatch alarms",
     "Report that the alarm topic would be created (check mode, new topic)"),
    ("central_account", "key_alarm.yml", "List the SNS topics to learn whether the key alarm topic exists",
     "Manage the key alarm topic, publishable only by the key alarm rules",
     "Report that the key alarm topic would be created (check mode, new topic)"),
    ("stream_alerts", "sns.yml", "List the topics of the account (to know which outputs' topics exist)",
     "Manage each output's topic with its topic policy and subscriptions",
     "Report that the outputs' topics would be created (check mode, new topics)"),
]


@pytest.mark.parametrize("role, task_file, listing, manage, stand_in", TOPIC_LISTS)
@pytest.mark.parametrize("check_mode", [False, True])
def test_the_topic_list_runs_only_in_check_mode_and_a_real_run_manages_the_topic_without_it(role, task_file, listing,
                                                                                            manage, stand_in, check_mode):
    list_task = _task(role, task_file, listing)
    registered = list_task["register"]
    runs = Templar(loader=DataLoader(), variables={"ansible_check_mode": check_mode}).evaluate_conditional(
        trust_as_template(list_task["when"]))
    assert runs is check_mode
    # What the list task registered: a skipped result in a real run; in check mode, an empty account.
    result = {"result": []} if check_mode else {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    item = {"topic_arn": "arn:aws:sns:us-east-1:123456789012:logvault-alerts-main"}
    templ = _templar(role, logvault_central_account_id="123456789012", logvault_account_id="123456789012",
                     stream_alerts_region="us-east-1", central_account_region="us-east-1", logvault_regions=["us-east-1"],
                     ansible_check_mode=check_mode, item=item, **{registered: result})
    for name, expected in ((manage, not check_mode), (stand_in, check_mode)):
        task = _task(role, task_file, name)
        local = {k: trust_as_template(v) for k, v in (task.get("vars") or {}).items()}
        templ.available_variables = dict(templ.available_variables, **local)
        assert templ.evaluate_conditional(trust_as_template(task["when"])) is expected, name


KEY_LOOKUPS = [
    ("central_account", "main.yml", "Look up the pipeline's KMS key, so that any phase can run on its own (--tags)",
     "__central_account_kms", "_central_account_key_arn"),
    ("stream_alerts", "keys.yml", "Look up the alerts KMS key", "__stream_alerts_kms", "_stream_alerts_key_arn"),
]


@pytest.mark.parametrize("role, task_file, name, managed, key_var", KEY_LOOKUPS)
@pytest.mark.parametrize("run_tags, skip_tags, looks_up", [
    (["all"], [], False),                       # a whole run: the KMS phase's result names the key
    (["central_account_kms", "stream_alerts_sns"], [], True),
    (["central_account_firehose", "stream_alerts_lambda"], [], True),   # the KMS phase does not run
    (["all"], ["central_account_kms", "stream_alerts_sns"], True),
    (["all"], ["central_account_athena"], True),
])
def test_a_whole_run_reads_the_key_from_its_kms_phase_instead_of_looking_it_up(role, task_file, name, managed, key_var,
                                                                               run_tags, skip_tags, looks_up):
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    variables = {"ansible_run_tags": run_tags, "ansible_skip_tags": skip_tags, "central_account_state": "present",
                 "logvault_central_account_id": "123456789012", "logvault_account_id": "123456789012",
                 "stream_alerts_region": "us-east-1", "logvault_regions": ["us-east-1"]}
    templ = _templar(role, **variables)
    task = _task(role, task_file, name)
    assert templ.evaluate_conditional(trust_as_template(task["when"])) is looks_up
    if not looks_up:
        # What the key's tasks registered: the lookup skipped, the KMS phase's amazon.aws.kms_key result.
        templ.available_variables = dict(templ.available_variables, **{
            task["register"]: {"changed": False, "skipped": True}, managed: {"changed": False, "key_arn": arn}})
        assert templ.template(trust_as_template("{{ %s }}" % key_var)) == arn


def test_the_central_account_looks_up_its_key_when_it_tears_the_pipeline_down():
    templ = _templar("central_account", ansible_run_tags=["all"], ansible_skip_tags=[], central_account_state="absent")
    task = _task("central_account", "main.yml", KEY_LOOKUPS[0][2])
    assert templ.evaluate_conditional(trust_as_template(task["when"])) is True


SERVICE_LOG_GROUPS_TASK = ("Manage the transform Lambda's, the Firehose streams' and OpenSearch's log groups with retention and "
                           "KMS encryption")


def test_central_account_manages_the_log_groups_of_its_services_in_one_module_run():
    """The transform Lambda's, both Firehose streams' and OpenSearch's log groups: one module run, each group with its
    phase's retention, tagged with the three phases (three module runs until 2026-12-08, two of them with a copy of
    the same Jinja loop)."""
    task = _task("central_account", "main.yml", SERVICE_LOG_GROUPS_TASK)
    assert "logvault.aws.cloudwatchlogs_log_groups" in task and "loop" not in task
    assert sorted(task["tags"]) == ["central_account_firehose", "central_account_lambda", "central_account_opensearch"]
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    days = {"central_account_transform_log_retention_days": "7", "central_account_firehose_log_retention_days": "30",
            "central_account_opensearch_log_retention_days": "90"}
    templ = _templar("central_account", __central_account_kms={"key_arn": arn}, **days)
    groups = templ.template(trust_as_template(task["logvault.aws.cloudwatchlogs_log_groups"]["log_groups"]))
    expected = [(templ.template(trust_as_template("{{ _central_account_function_log_group }}")), 7)]
    for groups_var, days_var in (("_central_account_firehose_log_groups", "central_account_firehose_log_retention_days"),
                                 ("_central_account_opensearch_log_groups", "central_account_opensearch_log_retention_days")):
        names = list(templ.template(trust_as_template("{{ %s }}" % groups_var)).values())
        assert len(names) == 2
        expected += [(name, int(days[days_var])) for name in names]
    assert groups == [{"name": name, "retention_days": retention, "kms_key_arn": arn} for name, retention in expected]
    # no phase manages a log group of its own any more
    for task_file in ("lambda.yml", "firehose.yml", "opensearch.yml"):
        with open(os.path.join(ROOT, "roles", "central_account", "tasks", task_file), encoding="utf-8") as handle:
            text = handle.read()
        assert "cloudwatchlogs_log_group" not in text, task_file


_OTHER = {"failed": True, "parameter": "account_policy.policy_name", "other_policies_by_region": {"eu-west-1": ["datadog"]},
          "regions": {"us-east-1": {"skipped": True}, "eu-west-1": {"failed": True, "other_policies": ["datadog"]}}}
_DENIED = {"failed": True, "other_policies_by_region": {"eu-west-1": ["datadog"]},
           "regions": {"us-east-1": {"failed": True, "error_code": "AccessDeniedException"},
                       "eu-west-1": {"failed": True, "other_policies": ["datadog"]}}}


@pytest.mark.parametrize("result, task_fails, reported", [
    ({"changed": False, "regions": {"us-east-1": {"changed": False}}}, False, []),
    (_OTHER, False, ["eu-west-1: datadog"]),                                   # the assertion reports it, in the user's terms
    (_DENIED, True, ["eu-west-1: datadog"]),                                   # another error in a region: the task fails
    ({"failed": True, "msg": "account_policy.policy_name must not start with aws/"}, True, []),  # before any AWS call
])
@pytest.mark.parametrize("organization", ["", "o-abcdefghij"])
def test_member_account_existing_policy_tasks_fail_on_any_error_but_another_policy(result, task_fails, reported, organization):
    """The probe (with an organization) and the first write of the policy (without) share one failure condition and
    one report of the other policies (existing_policy.yml)."""
    with open(os.path.join(ROOT, "roles", "member_account", "tasks", "existing_policy.yml"), encoding="utf-8") as handle:
        probe, first, check = yaml.safe_load(handle)
    task = first if not organization else probe
    registered = task["register"]
    templ = _templar("member_account", member_account_state="present", member_account_subscription_mode="account_policy",
                     logvault_regions=["us-east-1", "eu-west-1"], logvault_organization_id=organization,
                     **{registered: result, ("__member_account_policy_probe" if not organization else "__member_account_policies_first"):
                        {"skipped": True}})
    assert templ.template(trust_as_template("{{ %s }}" % task["when"])) is True
    assert templ.template(trust_as_template("{{ %s }}" % task["failed_when"])) is task_fails
    assert templ.template(trust_as_template(check["vars"]["_member_account_other_policies"])) == reported
