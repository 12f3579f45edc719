# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EventBridge Scheduler schedules fire on flush; CloudWatch metric alarms are evaluated on flush.

(local_aws/services/scheduler.py and cloudwatch_alarms.py; moto stores both and runs neither.)"""

import datetime
import io
import json
import os
import time
import zipfile

import pytest

from local_aws.services import cloudwatch_alarms, lambda_runtime, scheduler

ACCOUNT = "111111111111"
PRINTER = "import json\n\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event, sort_keys=True))\n    return event\n"


def _zip(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


def _trust(service, account=None, source_arn=None):
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        statement.setdefault("Condition", {})["ArnEquals"] = {"aws:SourceArn": source_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def schedule_target(aws_client, unique):
    """A Lambda function in ACCOUNT that prints its event, and a schedule factory; schedules are
    deleted afterwards (the session's emulator would fire them on every later flush)."""
    iam, lam = aws_client("iam", ACCOUNT), aws_client("lambda", ACCOUNT)
    sched = aws_client("scheduler", ACCOUNT)
    fn_role_name = unique("fn")
    fn_role = iam.create_role(RoleName=fn_role_name, AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))["Role"]["Arn"]
    iam.put_role_policy(RoleName=fn_role_name, PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    fn = lam.create_function(FunctionName=unique("canary"), Runtime="python3.12", Role=fn_role, Handler="app.handler",
                             Code={"ZipFile": _zip(PRINTER)}, Timeout=30)["FunctionArn"]
    created = []

    def factory(trust_account=ACCOUNT, invoke_resource=None, state="ENABLED", source_arn=None):
        role = iam.create_role(RoleName=unique("sched"),
                               AssumeRolePolicyDocument=_trust("scheduler.amazonaws.com", trust_account, source_arn))
        iam.put_role_policy(RoleName=role["Role"]["RoleName"], PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": invoke_resource or fn}]}))
        name = unique("schedule")
        arn = sched.create_schedule(Name=name, ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                                    State=state, Target={
                                        "Arn": fn, "RoleArn": role["Role"]["Arn"],
                                        "Input": json.dumps({"t": "<aws.scheduler.scheduled-time>", "s": "<aws.scheduler.schedule-arn>"})})["ScheduleArn"]
        created.append(name)
        return arn

    yield fn, factory
    for name in created:
        sched.delete_schedule(Name=name)


def _firings(arn):
    return [f for f in scheduler.firings() if f["schedule"] == arn]


def _printed(aws_client, fn):
    logs = aws_client("logs", ACCOUNT)
    group = "/aws/lambda/" + fn.rsplit(":", 1)[-1]
    events = logs.filter_log_events(logGroupName=group).get("events", [])
    return [json.loads(e["message"].split("EVENT ", 1)[1]) for e in events if "EVENT " in e["message"]]


def test_each_flush_fires_an_enabled_schedule_once_with_its_context_attributes(local_aws, aws_client, schedule_target, monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "1")
    fn, make = schedule_target
    arn = make()
    disabled = make(state="DISABLED")
    before = time.time()
    local_aws.flush()
    local_aws.flush()
    fired = _firings(arn)
    assert [f["status"] for f in fired] == ["invoked", "invoked"], fired
    assert _firings(disabled) == []
    events = _printed(aws_client, fn)
    assert len(events) == 2 and all(e["s"] == arn for e in events)
    scheduled = datetime.datetime.strptime(events[0]["t"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert before - 1 <= scheduled.timestamp() <= time.time()


def test_a_role_that_does_not_trust_scheduler_for_this_account_or_may_not_invoke_is_refused(local_aws, aws_client, schedule_target, monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "1")
    _fn, make = schedule_target
    with pytest.raises(aws_client("scheduler", ACCOUNT).exceptions.ValidationException) as refused_at_create:
        make(trust_account="999999999999")
    assert "must allow AWS EventBridge Scheduler to assume the role" in str(refused_at_create.value)
    later_distrusted = make()
    no_invoke = make(invoke_resource="arn:aws:lambda:us-east-1:%s:function:something-else" % ACCOUNT)
    role_arn = aws_client("scheduler", ACCOUNT).get_schedule(Name=later_distrusted.rsplit("/", 1)[-1])["Target"]["RoleArn"]
    aws_client("iam", ACCOUNT).update_assume_role_policy(RoleName=role_arn.rsplit("/", 1)[-1],
                                                         PolicyDocument=_trust("scheduler.amazonaws.com", "999999999999"))
    local_aws.flush()
    assert [f["status"] for f in _firings(later_distrusted)] == ["refused"]
    refused = _firings(no_invoke)
    assert [f["status"] for f in refused] == ["refused"] and "lambda:InvokeFunction" in refused[0]["reason"]


def test_the_source_arn_is_the_schedule_group(local_aws, aws_client, schedule_target, monkeypatch):
    """Cross-service confused deputy prevention: aws:SourceArn is the schedule group's ARN, not the schedule's."""
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "1")
    _fn, make = schedule_target
    group = "arn:aws:scheduler:us-east-1:%s:schedule-group/default" % ACCOUNT
    fired = make(source_arn=group)
    with pytest.raises(aws_client("scheduler", ACCOUNT).exceptions.ValidationException):
        make(source_arn="arn:aws:scheduler:us-east-1:%s:schedule/default/*" % ACCOUNT)
    local_aws.flush()
    assert [f["status"] for f in _firings(fired)] == ["invoked"]


def test_rate_schedules_fire_in_the_background_when_their_time_comes(schedule_target):
    _fn, make = schedule_target
    arn = make()
    assert scheduler.rate_seconds("rate(5 minutes)") == 300 and scheduler.rate_seconds("rate(1 day)") == 86400
    schedule = [s for _a, _r, s in scheduler._schedules() if s.arn == arn][0]  # pylint: disable=protected-access
    created = float(schedule.creation_date)
    assert scheduler._due(schedule, created + 10) is None  # pylint: disable=protected-access
    assert scheduler._due(schedule, created + 301) == created + 300  # pylint: disable=protected-access
    assert scheduler._due(schedule, created + 302) is None, "one occurrence fires once"  # pylint: disable=protected-access


SLEEPER = ("import json\nimport time\n\ndef handler(event, context):\n    started = time.time()\n    time.sleep(1.5)\n"
           "    print('SPAN ' + json.dumps([started, time.time()]))\n")


def test_schedules_due_together_fire_concurrently(local_aws, aws_client, unique, monkeypatch):
    """Each schedule fires on its own on AWS: three due at the same flush run at the same time
    (their Lambda invocations overlap), not one after the other."""
    monkeypatch.setenv("LOGVAULT_AWS_SCHEDULER_CONCURRENCY", "3")
    iam, lam, sched = aws_client("iam", ACCOUNT), aws_client("lambda", ACCOUNT), aws_client("scheduler", ACCOUNT)
    fn_role_name = unique("fn")
    fn_role = iam.create_role(RoleName=fn_role_name, AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))["Role"]["Arn"]
    iam.put_role_policy(RoleName=fn_role_name, PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    role = iam.create_role(RoleName=unique("sched"), AssumeRolePolicyDocument=_trust("scheduler.amazonaws.com", ACCOUNT))
    iam.put_role_policy(RoleName=role["Role"]["RoleName"], PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}))
    functions, names = [], []
    for _index in range(3):
        functions.append(lam.create_function(FunctionName=unique("sleeper"), Runtime="python3.12", Role=fn_role, Handler="app.handler",
                                             Code={"ZipFile": _zip(SLEEPER)}, Timeout=30)["FunctionArn"])
        names.append(unique("schedule"))
        sched.create_schedule(Name=names[-1], ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": functions[-1], "RoleArn": role["Role"]["Arn"]})
    try:
        local_aws.flush()
    finally:
        for name in names:
            sched.delete_schedule(Name=name)
    logs = aws_client("logs", ACCOUNT)
    spans = []
    for fn in functions:
        events = logs.filter_log_events(logGroupName="/aws/lambda/" + fn.rsplit(":", 1)[-1])["events"]
        spans.extend(json.loads(e["message"].split("SPAN ", 1)[1]) for e in events if "SPAN " in e["message"])
    assert len(spans) == 3, spans
    # Sequential firings cannot overlap: the last one would start after the first one ended.
    assert max(start for start, _end in spans) < min(end for _start, end in spans), spans


def test_a_scheduler_concurrency_that_is_not_a_whole_number_is_refused(monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_SCHEDULER_CONCURRENCY", "many")
    with pytest.raises(ValueError, match="LOGVAULT_AWS_SCHEDULER_CONCURRENCY must be a whole number"):
        scheduler._fire_together([("1", "r", None, 0), ("1", "r", None, 0)])  # pylint: disable=protected-access
    monkeypatch.setenv("LOGVAULT_AWS_SCHEDULER_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="must be >= 1"):
        scheduler._fire_together([("1", "r", None, 0), ("1", "r", None, 0)])  # pylint: disable=protected-access


@pytest.fixture
def alarms(aws_client, unique):
    cw = aws_client("cloudwatch", ACCOUNT)
    names = []

    def factory(treat, periods=3, datapoints=None, namespace=None):
        name = unique("alarm")
        args = dict(AlarmName=name, Namespace=namespace or "Test/" + name, MetricName="Missing", Statistic="Maximum",
                    Dimensions=[{"Name": "Account", "Value": "a"}], Period=300, EvaluationPeriods=periods,
                    Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData=treat)
        if datapoints:
            args["DatapointsToAlarm"] = datapoints
        cw.put_metric_alarm(**args)
        names.append(name)
        return name, args["Namespace"]

    yield cw, factory
    cw.delete_alarms(AlarmNames=names)
    cloudwatch_alarms.set_clock(None)


def _state(cw, name):
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


def _put(cw, namespace, value, when, dims=None):
    cw.put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": "Missing", "Value": value, "Timestamp": datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc),
        "Dimensions": dims or [{"Name": "Account", "Value": "a"}]}])


def test_missing_data_treatments_and_m_of_n(local_aws, alarms):
    cw, make = alarms
    now = (int(time.time()) // 300) * 300 + 150
    cloudwatch_alarms.set_clock(now)
    breaching, _ns1 = make("breaching")
    missing, _ns2 = make("missing")
    not_breaching, _ns3 = make("notBreaching")
    local_aws.flush()
    assert (_state(cw, breaching), _state(cw, missing), _state(cw, not_breaching)) == ("ALARM", "INSUFFICIENT_DATA", "OK")

    two_of_three, namespace = make("missing", periods=3, datapoints=2)
    _put(cw, namespace, 1, now - 300)
    _put(cw, namespace, 0, now)
    _put(cw, namespace, 5, now, dims=[{"Name": "Account", "Value": "b"}])  # other dimensions: another metric
    local_aws.flush()
    assert _state(cw, two_of_three) == "OK", "one breaching period of two with data"
    _put(cw, namespace, 2, now - 600)
    local_aws.flush()
    assert _state(cw, two_of_three) == "ALARM", "two of three periods breach"
    cloudwatch_alarms.set_clock(now + 900)
    local_aws.flush()
    assert _state(cw, two_of_three) == "INSUFFICIENT_DATA", "every period of the range is missing"


NICENESS = "import os\n\ndef handler(event, context):\n    print('NICE %d' % os.nice(0))\n"


def test_background_firings_run_at_a_lower_cpu_priority_than_the_ones_a_client_waits_for(local_aws, aws_client, schedule_target, monkeypatch):
    """On AWS a scheduled function runs on Lambda's fleet: the emulator's background firings must
    not take the CPU of the clients it serves (LOGVAULT_AWS_BACKGROUND_NICE); a flush is waited for."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    monkeypatch.setenv("LOGVAULT_AWS_BACKGROUND_NICE", "7")
    fn, make = schedule_target
    aws_client("lambda", ACCOUNT).update_function_code(FunctionName=fn, ZipFile=_zip(NICENESS))
    arn = make()
    own = os.nice(0)
    local_aws.flush()
    with hooks._PASS_LOCK:  # pylint: disable=protected-access
        scheduler._NEXT_DUE[arn] = time.time() - 1  # pylint: disable=protected-access
        assert scheduler.poll() >= 1
    scheduler.drain()
    group = "/aws/lambda/" + fn.rsplit(":", 1)[-1]
    events = aws_client("logs", ACCOUNT).filter_log_events(logGroupName=group)["events"]
    printed = [int(e["message"].split("NICE ", 1)[1]) for e in events if "NICE " in e["message"]]
    assert printed == [own, min(19, own + 7)], printed
    monkeypatch.setenv("LOGVAULT_AWS_BACKGROUND_NICE", "20")
    with hooks.background(), pytest.raises(ValueError, match="LOGVAULT_AWS_BACKGROUND_NICE must be a whole number from 0 to 19"):
        lambda_runtime.background_niceness()
    assert lambda_runtime.background_niceness() == 0, "outside the background worker nothing is niced"


def test_the_background_poller_does_not_wait_for_the_functions_it_fires(local_aws, aws_client, schedule_target):
    """Hundreds of canaries come due together at organization scale: the poller (which holds the
    pass lock that the other pollers and a flush need) only queues them."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    fn, make = schedule_target
    aws_client("lambda", ACCOUNT).update_function_code(FunctionName=fn, ZipFile=_zip(SLEEPER))
    arns = [make(), make()]
    local_aws.flush()
    with hooks._PASS_LOCK:  # pylint: disable=protected-access
        for arn in arns:
            scheduler._NEXT_DUE[arn] = time.time() - 1  # pylint: disable=protected-access
        started = time.monotonic()
        queued = scheduler.poll()
        took = time.monotonic() - started
        again = scheduler.poll()
    assert queued >= 2 and took < 1.0, (queued, took)  # each function sleeps 1.5 s
    assert again == 0, "an occurrence is fired once"
    scheduler.drain()
    assert [[f["status"] for f in _firings(arn)] for arn in arns] == [["invoked", "invoked"]] * 2
