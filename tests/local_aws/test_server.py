# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starting and stopping the emulator, patch discovery, pollers and flush, accounts."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request

import pytest

from local_aws import hooks, server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY = "local-aws ready on http://127.0.0.1:%d (state in memory; POST /_logvault/flush delivers now)"


def _post(url, data=b""):
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=30) as resp:
        return resp.status, json.loads(resp.read().decode("utf-8"))


def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class _Queue(object):
    """Test double of a service poller: handles up to ``per_pass`` queued items per call."""

    def __init__(self, per_pass=1):
        self.items = []
        self.done = []
        self.per_pass = per_pass
        self.lock = threading.Lock()

    def poll(self):
        with self.lock:
            batch, self.items = self.items[:self.per_pass], self.items[self.per_pass:]
        self.done.extend(batch)
        return len(batch)


@pytest.fixture()
def queue():
    q = _Queue()
    hooks.register_poller(q.poll)
    yield q
    hooks.unregister_poller(q.poll)


def test_endpoint_and_port(local_aws):
    assert local_aws.port > 0
    assert local_aws.endpoint == "http://127.0.0.1:%d" % local_aws.port
    assert hooks.get_endpoint() == local_aws.endpoint


def test_every_service_from_one_endpoint(aws_client, unique):
    name = unique("svc")
    aws_client("s3").create_bucket(Bucket=name)
    aws_client("kinesis").create_stream(StreamName=name, ShardCount=1)
    aws_client("logs").create_log_group(logGroupName=name)
    aws_client("s3").head_bucket(Bucket=name)  # raises when missing
    assert aws_client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamName"] == name
    assert aws_client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupName"] == name


def test_flush_runs_pollers_until_nothing_is_left(local_aws, queue):
    queue.items = list(range(7))
    summary = local_aws.flush()
    assert queue.done == list(range(7))
    assert summary["settled"] is True
    assert summary["errors"] == []
    name = "%s.%s" % (queue.poll.__module__, queue.poll.__qualname__)
    assert summary["by_poller"][name] == 7
    # 7 passes handle one item each, the 8th handles nothing (other pollers may add passes).
    assert summary["passes"] >= 8
    assert summary["handled"] >= 7


def test_flush_over_http(local_aws, queue):
    queue.items = ["a", "b", "c"]
    status, body = _post(local_aws.endpoint + "/_logvault/flush")
    assert status == 200
    assert queue.done == ["a", "b", "c"]
    assert body["settled"] is True
    assert body["handled"] >= 3


def test_flush_over_http_needs_post(local_aws):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(local_aws.endpoint + "/_logvault/flush", timeout=30)
    assert err.value.code == 405


def test_flush_is_bounded(local_aws):
    calls = []

    def endless():
        calls.append(1)
        return 1

    hooks.register_poller(endless)
    try:
        summary = local_aws.flush(max_passes=5)
    finally:
        hooks.unregister_poller(endless)
    assert summary["settled"] is False
    assert summary["passes"] == 5
    assert len(calls) == 5


def test_a_failing_poller_is_reported_and_others_still_run(local_aws, queue):
    def broken():
        raise RuntimeError("boom")

    hooks.register_poller(broken)
    queue.items = [1, 2]
    try:
        summary = local_aws.flush()
    finally:
        hooks.unregister_poller(broken)
    assert queue.done == [1, 2]
    assert {"poller": "%s.%s" % (broken.__module__, broken.__qualname__), "error": "RuntimeError: boom"} in summary["errors"]


def test_background_thread_delivers_without_flush(local_aws, queue):  # pylint: disable=unused-argument
    queue.per_pass = 10
    queue.items = ["x"]
    deadline = time.monotonic() + 10
    while not queue.done and time.monotonic() < deadline:
        time.sleep(0.1)
    assert queue.done == ["x"]


def test_register_poller_is_idempotent(queue):
    hooks.register_poller(queue.poll)
    assert [p for p in hooks.pollers() if p == queue.poll] == [queue.poll]


def test_patch_discovery_calls_install_once(tmp_path, monkeypatch):
    from local_aws import services

    (tmp_path / "zz_probe.py").write_text(textwrap.dedent("""
        CALLS = []

        def install():
            CALLS.append(1)
    """))
    (tmp_path / "zz_helper.py").write_text("VALUE = 1\n")  # no install(): imported, not installed
    monkeypatch.setattr(services, "__path__", list(services.__path__) + [str(tmp_path)])
    try:
        first = server.install_patches()
        second = server.install_patches()
        probe = sys.modules["local_aws.services.zz_probe"]
        assert probe.CALLS == [1]
        assert "local_aws.services.zz_probe" in first
        assert "local_aws.services.zz_helper" not in second
        assert "local_aws.services.logs" in first
    finally:
        server._INSTALLED[:] = [n for n in server._INSTALLED if not n.startswith("local_aws.services.zz_")]
        for name in ("local_aws.services.zz_probe", "local_aws.services.zz_helper"):
            sys.modules.pop(name, None)


def test_health(local_aws):
    with urllib.request.urlopen(local_aws.endpoint + "/_logvault/health", timeout=30) as resp:
        body = json.loads(resp.read().decode("utf-8"))
    assert body["status"] == "ready"
    assert "local_aws.services.logs" in body["patches"]


@pytest.mark.parametrize("account_id", ["111111111111", "222222222222"])
def test_assume_role_switches_account(aws_client, unique, account_id):
    identity = aws_client("sts", account_id=account_id).get_caller_identity()
    assert identity["Account"] == account_id
    assert identity["Arn"].startswith("arn:aws:sts::%s:assumed-role/" % account_id)
    name = unique("acct")
    aws_client("kinesis", account_id=account_id).create_stream(StreamName=name, ShardCount=1)
    arn = aws_client("kinesis", account_id=account_id).describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    assert arn == "arn:aws:kinesis:us-east-1:%s:stream/%s" % (account_id, name)
    # The resource exists in that account only.
    with pytest.raises(aws_client("kinesis").exceptions.ResourceNotFoundException):
        aws_client("kinesis").describe_stream_summary(StreamName=name)


def test_plain_credentials_are_the_central_account(aws_client):
    assert aws_client("sts").get_caller_identity()["Account"] == "123456789012"


def test_new_emulator_starts_empty_after_the_last_one_stopped():
    script = textwrap.dedent("""
        import local_aws
        from local_aws.server import start
        with start(port=0) as emu:
            local_aws.client("kinesis", endpoint=emu.endpoint).create_stream(StreamName="kept", ShardCount=1)
            second = start(port=0)  # runs alongside: shares the state
            names = local_aws.client("kinesis", endpoint=second.endpoint).list_streams()["StreamNames"]
            second.stop()
            assert names == ["kept"], names
        with start(port=0) as emu:
            names = local_aws.client("kinesis", endpoint=emu.endpoint).list_streams()["StreamNames"]
            assert names == [], names
            org = local_aws.client("organizations", endpoint=emu.endpoint)
            org.create_organization(FeatureSet="ALL")
            member = org.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]["AccountId"]
        with start(port=0) as emu:
            # The member account of the previous organization is free again.
            org = local_aws.client("organizations", account_id=member, endpoint=emu.endpoint)
            org.create_organization(FeatureSet="ALL")
        print("OK")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_stop_lets_a_pass_under_way_finish_against_a_live_endpoint():
    """The last emulator stops the pollers before its server and endpoint go: a poller in the
    middle of a pass (a scheduled canary invocation) still reaches the emulator."""
    script = textwrap.dedent("""
        import threading, time, urllib.request
        from local_aws import hooks
        from local_aws.server import start
        started, seen = threading.Event(), []
        def slow_poller():
            started.set()
            time.sleep(1.0)
            endpoint = hooks.get_endpoint()
            seen.append(endpoint)
            if endpoint:
                seen.append(urllib.request.urlopen(endpoint + "/_logvault/health", timeout=5).status)
            return 0
        emu = start(port=0)
        hooks.register_poller(slow_poller)
        assert started.wait(30), "the background pass did not start"
        emu.stop()
        hooks.unregister_poller(slow_poller)
        print(seen)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    seen = result.stdout.strip()
    assert seen.startswith("['http://127.0.0.1:") and seen.endswith(", 200]"), (seen, result.stderr)


def _serve(env_port=None, args=()):
    env = dict(os.environ)
    env.pop("LOGVAULT_AWS_PORT", None)
    if env_port is not None:
        env["LOGVAULT_AWS_PORT"] = str(env_port)
    return subprocess.Popen([sys.executable, "-m", "local_aws"] + list(args), cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("how", ["env", "flag"])
def test_module_entry_point(how):
    port = _free_port()
    proc = _serve(env_port=port) if how == "env" else _serve(env_port=1, args=["--port", str(port)])
    try:
        line = proc.stdout.readline().rstrip("\n")
        assert line == READY % port
        status, body = _post("http://127.0.0.1:%d/_logvault/flush" % port)
        assert status == 200 and body["settled"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line in total
    assert "/_logvault/flush" not in err  # requests are not logged unless --verbose


def test_module_entry_point_verbose_logs_requests():
    port = _free_port()
    proc = _serve(args=["--port", str(port), "--verbose"])
    try:
        assert proc.stdout.readline().rstrip("\n") == READY % port
        _post("http://127.0.0.1:%d/_logvault/flush" % port)
    finally:
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, err
    assert '"POST /_logvault/flush HTTP/1.1" 200' in err


def test_module_entry_point_rejects_a_bad_port():
    proc = _serve(env_port="http")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "LOGVAULT_AWS_PORT" in err
    assert out == ""


def test_kinesis_requests_and_background_writes_do_not_race(local_aws, aws_client, unique):
    """GetRecords over HTTP while a poller thread writes to the same shard in-process."""
    from local_aws.services import logs as logs_patch

    name = unique("race")
    kinesis = aws_client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    stop = threading.Event()
    errors = []

    def writer():
        while not stop.is_set():
            try:
                logs_patch._put_record(arn, b"x" * 64, "key")
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(repr(exc))

    thread = threading.Thread(target=writer)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so a missing lock shows up
    thread.start()
    try:
        deadline = time.monotonic() + 3
        reads = 0
        while time.monotonic() < deadline:
            iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            kinesis.get_records(ShardIterator=iterator, Limit=10000)
            reads += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert errors == []
    assert reads > 0


def test_module_entry_point_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _serve(args=["--port", str(port)])
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot listen on 127.0.0.1:%d" % port in err
    assert out == ""


def test_start_on_a_busy_port_raises(local_aws):
    with pytest.raises(OSError, match="cannot listen on 127.0.0.1:%d" % local_aws.port):
        server.start(port=local_aws.port)
    assert hooks.get_endpoint() == local_aws.endpoint


def test_is_flushing_is_true_only_inside_flush(local_aws):
    seen = []

    def probe():
        seen.append((threading.current_thread().name, hooks.is_flushing()))
        return 0

    assert hooks.is_flushing() is False
    hooks.register_poller(probe)
    try:
        with hooks._PASS_LOCK:  # keeps the background thread out of this block
            local_aws.flush()
            hooks.run_pass()  # what the background thread does
        main = [flag for name, flag in seen if name == threading.current_thread().name]
        assert main == [True, False]
        _post(local_aws.endpoint + "/_logvault/flush")
    finally:
        hooks.unregister_poller(probe)
    me = threading.current_thread().name
    background = [flag for name, flag in seen if name == "local-aws-pollers"]
    over_http = [flag for name, flag in seen if name not in (me, "local-aws-pollers")]
    assert set(background) <= {False}
    assert over_http and set(over_http) == {True}
    assert hooks.is_flushing() is False


def test_module_entry_point_stops_on_a_signal_that_arrives_while_the_wait_holds_its_lock():
    """Issue 13 item 10: `make local-aws` wedged on SIGTERM. The handler called
    ``Event.set()`` while the main thread was inside ``Event.wait()`` holding the same
    (non-reentrant) lock, so the handler blocked forever. This script delivers SIGTERM
    exactly inside that window (deterministically, instead of hoping for the race),
    then a second SIGTERM as `make` and the process group do; the emulator must exit 0."""
    port = _free_port()
    script = textwrap.dedent("""
        import os, signal, sys, threading

        class _SignalInsideTheLock(threading.Event):
            # Test double: a signal delivered while the waiting thread holds the Event's lock.
            fired = False

            def wait(self, timeout=None):
                # The main loop's wait (a timeout, the main thread), not Thread.start()'s.
                if (not _SignalInsideTheLock.fired and timeout is not None
                        and threading.current_thread() is threading.main_thread()):
                    _SignalInsideTheLock.fired = True
                    with self._cond:
                        os.kill(os.getpid(), signal.SIGTERM)
                        os.kill(os.getpid(), signal.SIGTERM)
                        for _ in range(1000):  # the handlers run at this loop's jumps, lock held
                            pass
                return super().wait(timeout)

        threading.Event = _SignalInsideTheLock
        from local_aws.__main__ import main
        sys.exit(main(["--port", "%d"]))
    """ % port)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().rstrip("\n")
        proc.send_signal(signal.SIGTERM)  # as `make` and the process group do
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail("the emulator wedged on SIGTERM delivered while its main loop held a lock:\n" + err)
    assert proc.returncode == 0, err
    assert ready == READY % port
    assert out == ""


def test_module_entry_point_stops_on_a_burst_of_signals():
    port = _free_port()
    proc = _serve(args=["--port", str(port)])
    try:
        assert proc.stdout.readline().rstrip("\n") == READY % port
    finally:
        for dummy in range(20):
            proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, err
