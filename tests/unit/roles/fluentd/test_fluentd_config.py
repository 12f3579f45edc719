# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the configuration rendered by the role logvault.aws.fluentd.

The configuration is rendered by the role itself (ansible-playbook, include_role with
tasks_from: configure) and read back with a parser that follows fluentd's literal rules.
Real fluentd 1.16 is not installable here: the `validate:` step runs the STAND-IN
fluentd (tests/fluentd_standin, a test double), and these tests check every parameter
name against lists taken from the plugins' source code (cited below).
"""

import json
import re

import pytest

from .conftest import ENRICH, PARSER_SOURCES, TRICKY_EXPRESSION, TRICKY_PATHS

# ---------------------------------------------------------------------------------------
# Known parameters per plugin, copied from the sources of the versions the role targets.
COMMON = {"@type", "@id", "@label", "@log_level"}
KNOWN = {
    # fluent/fluentd v1.16: lib/fluent/plugin/in_tail.rb (config_param list of TailInput)
    ("source", "tail"): {
        "path", "path_delimiter", "glob_policy", "tag", "exclude_path", "rotate_wait", "pos_file",
        "pos_file_compaction_interval", "read_from_head", "refresh_interval", "read_lines_limit",
        "read_bytes_limit_per_second", "multiline_flush_interval", "emit_unmatched_lines", "enable_watch_timer",
        "enable_stat_watcher", "encoding", "from_encoding", "path_key", "open_on_every_update",
        "limit_recently_modified", "skip_refresh_on_startup", "ignore_repeated_permission_error", "path_timezone",
        "follow_inodes", "max_line_size",
    },
    # fluent-plugin-systemd 1.0.x (bundled in fluent-package v5): lib/fluent/plugin/in_systemd.rb
    ("source", "systemd"): {"path", "filters", "matches", "pos_file", "read_from_head", "strip_underscores", "tag"},
    # fluent/fluentd: lib/fluent/plugin/filter_record_transformer.rb
    ("filter", "record_transformer"): {"remove_keys", "keep_keys", "renew_record", "renew_time_key", "enable_ruby",
                                       "auto_typecast"},
    # fluent-plugins-nursery/fluent-plugin-cloudwatch-logs: lib/fluent/plugin/out_cloudwatch_logs.rb
    ("match", "cloudwatch_logs"): {
        "aws_key_id", "aws_sec_key", "aws_instance_profile_credentials_retries", "aws_use_sts", "aws_sts_role_arn",
        "aws_sts_session_name", "region", "endpoint", "log_group_name", "log_stream_name", "auto_create_stream",
        "message_keys", "max_message_length", "max_events_per_batch", "use_tag_as_group", "use_tag_as_stream",
        "log_group_name_key", "log_stream_name_key", "remove_log_group_name_key", "remove_log_stream_name_key",
        "http_proxy", "put_log_events_retry_wait", "put_log_events_retry_limit", "put_log_events_disable_retry_limit",
        "concurrency", "log_group_aws_tags", "log_group_aws_tags_key", "remove_log_group_aws_tags_key",
        "retention_in_days", "retention_in_days_key", "remove_retention_in_days_key", "json_handler",
        "log_rejected_request",
    },
    # fluent/fluentd: lib/fluent/plugin/out_null.rb (no parameters of its own)
    ("match", "null"): set(),
}
# fluent/fluentd v1.16: lib/fluent/plugin/output.rb (config_section :buffer) +
# lib/fluent/plugin/buffer.rb + lib/fluent/plugin/buf_file.rb
BUFFER = {
    "@type", "timekey", "timekey_wait", "timekey_use_utc", "timekey_zone", "flush_at_shutdown", "flush_mode",
    "flush_interval", "flush_thread_count", "flush_thread_interval", "flush_thread_burst_interval",
    "delayed_commit_timeout", "overflow_action", "retry_forever", "retry_timeout", "retry_max_times",
    "retry_secondary_threshold", "retry_type", "retry_wait", "retry_exponential_backoff_base", "retry_max_interval",
    "retry_randomize", "disable_chunk_backup",
    "chunk_limit_size", "total_limit_size", "queue_limit_length", "chunk_limit_records", "chunk_full_threshold",
    "queued_chunks_limit_size", "compress",
    "path", "path_suffix", "symlink_path", "file_permission", "dir_permission",
}
# fluent/fluentd: lib/fluent/plugin/out_secondary_file.rb
SECONDARY_FILE = {"@type", "directory", "basename", "append", "compress"}
# fluent/fluentd: lib/fluent/plugin/parser.rb (+ time parser mixin) and each parser_*.rb
PARSE_COMMON = {"@type", "types", "time_key", "null_value_pattern", "null_empty_string", "estimate_current_event",
                "keep_time_key", "timeout", "time_type", "time_format", "localtime", "utc", "timezone",
                "time_format_fallbacks"}
PARSE = {
    "regexp": {"expression", "ignorecase", "multiline"},  # parser_regexp.rb
    "json": {"json_parser", "stream_buffer_size"},  # parser_json.rb
    "syslog": {"rfc5424_time_format", "message_format", "with_priority", "parser_type", "parser_engine",
               "support_colonless_ident"},  # parser_syslog.rb
    "nginx": {"expression", "ignorecase", "multiline"},  # parser_nginx.rb (a RegexpParser)
    "apache2": set(),  # parser_apache2.rb
    "none": {"message_key"},  # parser_none.rb
    "multiline": {"format_firstline", "unmatched_lines"} | {"format%d" % i for i in range(1, 21)},  # parser_multiline.rb
}
# fluent-plugin-systemd 1.0.x: <storage> (lib/fluent/plugin/storage_local.rb + storage helper) and <entry>
STORAGE = {"@type", "usage", "persistent", "path", "mode", "dir_mode", "pretty_print"}
ENTRY = {"field_map", "field_map_strict", "fields_strip_underscores", "fields_lowercase"}
# fluent/fluentd: lib/fluent/system_config.rb (<system> and its <log> section)
SYSTEM = {"workers", "restart_worker_interval", "root_dir", "log_level", "suppress_repeated_stacktrace",
          "emit_error_log_interval", "suppress_config_dump", "log_event_verbose", "ignore_repeated_log_interval",
          "ignore_same_log_interval", "without_source", "with_source_only", "rpc_endpoint", "enable_get_dump",
          "process_name", "file_permission", "dir_permission", "counter_server", "counter_client",
          "strict_config_value", "enable_msgpack_time_support", "disable_shared_socket", "metrics",
          "enable_input_metrics", "enable_size_metrics", "enable_jit", "source_only_buffer"}
SYSTEM_LOG = {"format", "time_format", "rotate_age", "rotate_size", "forced_stacktrace_level"}


def parsed(standin, text):
    return standin.parse(text)


def walk(element):
    yield element
    for child in element.children:
        yield from walk(child)


def value(element, key):
    return element.params[key][0]


def sections(root, name):
    return [el for el in walk(root) if el.name == name]


def unknown_params(root):
    """Every parameter not in the known list of its plugin, as (section, key) pairs."""
    problems = []
    for el in walk(root):
        if el.name == "ROOT":
            continue
        keys = set(el.params)
        if el.name in ("source", "match", "filter"):
            ptype = value(el, "@type")
            known = KNOWN.get((el.name, ptype))
            if known is None:
                problems.append((el.where(), "@type " + ptype + " is not a plugin this test knows"))
                continue
            allowed = known | COMMON
        elif el.name == "buffer":
            allowed = BUFFER
        elif el.name == "secondary":
            allowed = SECONDARY_FILE if value(el, "@type") == "secondary_file" else {"@type"}
        elif el.name == "parse":
            allowed = PARSE_COMMON | PARSE.get(value(el, "@type"), set())
        elif el.name == "storage":
            allowed = STORAGE
        elif el.name == "entry":
            allowed = ENTRY
        elif el.name == "system":
            allowed = SYSTEM
        elif el.name == "log":
            allowed = SYSTEM_LOG
        elif el.name == "record":
            allowed = keys  # record_transformer: any field name
        elif el.name == "label":
            allowed = set()
        else:
            problems.append((el.where(), "section this test does not know"))
            continue
        problems.extend((el.where(), key) for key in sorted(keys - allowed))
    return problems


# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("parser", sorted(PARSER_SOURCES))
def test_each_parser_renders_a_tail_source_with_the_right_parse_section(renderings, standin, parser):
    root = parsed(standin, renderings["full"])
    (source,) = [s for s in sections(root, "source") if value(s, "@id") == "in_" + parser]
    (parse,) = [c for c in source.children if c.name == "parse"]
    spec = PARSER_SOURCES[parser]
    if spec.get("multiline_start"):
        assert value(parse, "@type") == "multiline"
        assert value(parse, "format_firstline") == "/%s/" % spec["multiline_start"]
        expected = spec["expression"] if spec["parser"] == "regexp" else "^(?<message>.*)$"
        assert value(parse, "format1") == "/%s/" % expected
        assert value(source, "multiline_flush_interval") == "5"
    else:
        assert value(parse, "@type") == spec["parser"]
        assert "multiline_flush_interval" not in source.params
    if spec["parser"] == "regexp" and not spec.get("multiline_start"):
        assert value(parse, "expression") == "/%s/" % spec["expression"]
    assert value(source, "path") == "/var/log/%s/*.log" % parser
    assert value(source, "tag") == "logvault." + parser
    assert value(source, "pos_file") == "/var/lib/fluent/pos/%s.pos" % parser
    assert value(source, "follow_inodes") == "true"
    assert value(source, "rotate_wait") == "30"
    (match,) = [m for m in sections(root, "match") if m.arg == "logvault." + parser]
    assert value(match, "log_group_name") == "/test/" + parser


def test_journald_source_uses_the_bundled_systemd_plugin(renderings, standin):
    root = parsed(standin, renderings["full"])
    (source,) = [s for s in sections(root, "source") if value(s, "@type") == "systemd"]
    assert value(source, "@type") == "systemd"
    assert value(source, "matches") == [{"_SYSTEMD_UNIT": "sshd.service"}, {"PRIORITY": "3"}]
    assert value(source, "tag") == "logvault.journal"
    (storage,) = [c for c in source.children if c.name == "storage"]
    assert value(storage, "persistent") == "true"
    assert value(storage, "path") == "/var/lib/fluent/pos/journald.json"
    (match,) = [m for m in sections(root, "match") if m.arg == "logvault.journal"]
    assert value(match, "log_group_name") == "/test/journal"


def test_regexp_quoting_round_trips_through_fluentd_literal_rules(renderings, standin):
    text = renderings["escaping"]
    root = parsed(standin, text)
    (parse,) = sections(root, "parse")
    # fluentd reads exactly the user's expression between the slashes
    assert value(parse, "expression") == "/%s/" % TRICKY_EXPRESSION
    # written single-quoted: no double-quoted string, so "#{...}" is never Ruby code
    line = [ln for ln in text.splitlines() if ln.strip().startswith("expression ")][0]
    assert line.strip().startswith("expression '/") and line.rstrip().endswith("/'")
    assert "\\'" in line and "\\\\d" in line
    compiled = standin.ruby_regexp(value(parse, "expression"), "expression", parse, False)
    assert compiled.match('10.1 "GET /x" it\'s #{not_ruby} \\ /index.html #')
    assert not compiled.match('10.1 "GET /x" its #{not_ruby} \\ /index.html #')


def test_paths_with_spaces_quotes_and_percent_survive(renderings, standin):
    root = parsed(standin, renderings["escaping"])
    (source,) = sections(root, "source")
    path_value = value(source, "path")
    # in_tail splits on "," and passes each path through strftime: % is doubled
    assert path_value.split(",") == [p.replace("%", "%%") for p in TRICKY_PATHS]
    assert [p.replace("%%", "%") for p in path_value.split(",")] == TRICKY_PATHS
    assert value(source, "exclude_path") == ["/var/log/my app/*.gz", "/var/log/100%% full/old*"]
    (match,) = sections(root, "match")[:1]
    assert value(match, "log_group_name") == "/test/tricky#1"


def test_every_parameter_is_known_to_its_plugin(renderings, standin):
    for name, text in sorted(renderings.items()):
        assert unknown_params(parsed(standin, text)) == [], name


def test_the_known_parameter_check_can_fail(standin):
    bad = "<match x>\n  @type cloudwatch_logs\n  log_group_name 'a'\n  log_stream_name 'b'\n  retry_limit 3\n</match>\n"
    assert unknown_params(standin.parse(bad)) == [("<match x> (line 1)", "retry_limit")]


def test_every_shipping_output_is_configured_not_to_lose_data(renderings, standin):
    root = parsed(standin, renderings["full"])
    outputs = [m for m in sections(root, "match") if value(m, "@type") == "cloudwatch_logs"]
    shipped = [m for m in outputs if m.parent.name == "ROOT"]
    assert len(shipped) == len(PARSER_SOURCES) + 1  # every source and the journal
    paths = set()
    for match in outputs:
        assert value(match, "put_log_events_disable_retry_limit") == "true"
        assert value(match, "auto_create_stream") == "true"  # else events for a missing stream are skipped
        assert value(match, "log_rejected_request") == "true"
        assert 0 < int(value(match, "max_message_length")) <= (262144 - 26) // 4
        assert value(match, "log_stream_name") == ENRICH["fluentd_instance_id"]
        assert value(match, "region") == ENRICH["fluentd_region"]
        assert "aws_key_id" not in match.params and "aws_sec_key" not in match.params
        (buffer,) = [c for c in match.children if c.name == "buffer"]
        assert value(buffer, "@type") == "file"
        assert value(buffer, "path").startswith("/var/lib/fluent/buffer/")
        paths.add(value(buffer, "path"))
        assert 0 < int(value(buffer, "chunk_limit_size")) <= 1048576
        assert int(value(buffer, "total_limit_size")) >= 4 * int(value(buffer, "chunk_limit_size"))
        assert value(buffer, "flush_at_shutdown") == "true"
        assert value(buffer, "retry_forever") == "true"
        assert int(value(buffer, "retry_max_interval")) > 0
    assert len(paths) == len(outputs)
    for match in shipped:
        (buffer,) = [c for c in match.children if c.name == "buffer"]
        assert value(buffer, "overflow_action") == "block"
        (secondary,) = [c for c in match.children if c.name == "secondary"]
        assert value(secondary, "@type") == "secondary_file"
        assert value(secondary, "directory") == "/var/lib/fluent/failed"


def test_fluentd_own_log_never_reaches_a_shipped_group(renderings, standin):
    root = parsed(standin, renderings["full"])
    (label,) = sections(root, "label")
    assert label.arg == "@FLUENT_LOG"
    agent = [m for m in label.children if m.name == "match" and value(m, "@type") == "cloudwatch_logs"]
    assert [value(m, "log_group_name") for m in agent] == ["/logvault/fluentd"]
    assert agent[0].arg == "fluent.{warn,error,fatal}"
    shipped_groups = {value(m, "log_group_name") for m in sections(root, "match")
                      if m.parent.name == "ROOT" and value(m, "@type") == "cloudwatch_logs"}
    assert "/logvault/fluentd" not in shipped_groups
    # no top-level match can catch fluent.* events (they are routed to the label)
    assert all(not m.arg.startswith("fluent") and m.arg != "**" for m in sections(root, "match") if m.parent.name == "ROOT")
    # nothing tails fluentd's own log directory
    assert all("/var/log/fluent/" not in value(s, "path") for s in sections(root, "source") if value(s, "@type") == "tail")


def test_records_are_enriched_with_the_instance_identity(renderings, standin):
    root = parsed(standin, renderings["full"])
    records = sections(root, "record")
    assert len(records) == 2  # shipped events and fluentd's own log
    for record in records:
        assert {k: v[0] for k, v in record.params.items()} == {
            "instance_id": ENRICH["fluentd_instance_id"], "account_id": ENRICH["fluentd_account_id"],
            "region": ENRICH["fluentd_region"], "hostname": ENRICH["fluentd_hostname"]}


def test_the_standin_dry_run_accepts_the_rendered_config_and_says_it_is_a_standin(renderings, standin, tmp_path, capsys):
    conf = tmp_path / "fluentd.conf"
    conf.write_text(renderings["full"])
    assert standin.main(["--dry-run", "-c", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "STAND-IN" in out and "real fluentd validation did NOT run" in out


@pytest.mark.parametrize("broken, message", [
    ("<source>\n  @type tail\n", "unclosed section"),
    ("<match a>\n  @type null\n</source>\n", "closes"),
    ("<buffer>\n  @type file\n</buffer>\n", "not allowed"),
    ("<match a>\n  @type cloudwatch_logs\n  log_stream_name 'x'\n</match>\n", "set only one of log_group_name"),
    ("<source>\n  @type tail\n  path '/a'\n  tag a\n  follow_inodes true\n  <parse>\n    @type none\n  </parse>\n</source>\n",
     "pos_file"),
    ("<match a>\n  @type null\n  flush_at_shutdown 'yes'\n</match>\n", "true or false"),
    ("<source>\n  @type tail\n  path \"#{`id`}\"\n  tag a\n</source>\n", "embedded Ruby"),
    ("<match a>\n  @type null\n  <buffer>\n  </buffer>\n  <secondary>\n    @type secondary_file\n"
     "    directory '/x'\n    basename 'a/b'\n  </secondary>\n</match>\n", "basename"),
])
def test_the_standin_dry_run_rejects_broken_configs(standin, tmp_path, broken, message, capsys):
    conf = tmp_path / "broken.conf"
    conf.write_text(broken)
    assert standin.main(["--dry-run", "-c", str(conf)]) == 1
    assert message in capsys.readouterr().err


def test_rendered_config_parses_every_value_as_fluentd_would(renderings, standin):
    """Every string value is single-quoted; arrays are JSON; the rest are plain words or numbers."""
    for name, text in renderings.items():
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or stripped.startswith("<"):
                continue
            raw = stripped.partition(" ")[2]
            assert raw.startswith(("'", "[")) or re.match(r"^[A-Za-z0-9_.@{},*-]+$", raw), (name, line)
            if raw.startswith("["):
                json.loads(raw)
