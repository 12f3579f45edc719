# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""STAND-IN for /opt/fluent/bin/fluentd -- a TEST DOUBLE, NOT fluentd.

The real fluent-package (fluentd 1.16) cannot be installed on the machines that run
logvault.aws's tests, so the molecule scenario `fluentd` and the unit tests install this
script in its place. It implements only `--dry-run -c FILE`, and what it checks is a
structural subset of what fluentd's own dry run checks:

* the config parses with fluentd's literal rules (lib/fluent/config/literal_parser.rb):
  single-quoted strings know only \\' and \\\\, double-quoted strings may not embed Ruby
  here, [..] / {..} values are JSON;
* <source>/<match>/<filter>/<label>/<system> are balanced and nested where fluentd allows
  them; <buffer> and <secondary> appear at most once and only inside <match>;
* the parameters each plugin requires are present (tail: path, tag, <parse>, pos_file
  with follow_inodes; cloudwatch_logs: exactly one log group and one log stream option;
  file buffer: a unique path; secondary_file: directory), booleans and integers are well
  formed, and regular expressions compile (with Python's re, after turning Ruby's
  (?<name>...) into (?P<name>...); Onigmo-only syntax is therefore reported as an error).

It never claims to be fluentd: every run prints "STAND-IN" and real fluentd validation
did not run.
"""

import json
import re
import sys

BANNER = "fluentd STAND-IN (logvault.aws test double, not fluentd)"

BOOL_PARAMS = {
    "follow_inodes", "read_from_head", "flush_at_shutdown", "retry_forever", "auto_create_stream",
    "put_log_events_disable_retry_limit", "log_rejected_request", "persistent",
    "fields_strip_underscores", "fields_lowercase", "append",
}
INT_PARAMS = {
    "chunk_limit_size", "total_limit_size", "flush_thread_count", "max_message_length",
    "rotate_wait", "refresh_interval", "flush_interval", "retry_max_interval",
    "multiline_flush_interval", "put_log_events_retry_wait",
}
REGEXP_PARAMS = {"expression", "format_firstline"} | {"format%d" % i for i in range(1, 21)}
ENUMS = {
    "overflow_action": {"throw_exception", "block", "drop_oldest_chunk"},
    "flush_mode": {"default", "lazy", "interval", "immediate"},
    "retry_type": {"exponential_backoff", "periodic"},
}
# where each directive may appear (parent directive name; None = top level)
PARENTS = {
    "system": {None},
    "log": {"system"},
    "source": {None, "label"},
    "match": {None, "label"},
    "filter": {None, "label"},
    "label": {None},
    "worker": {None},
    "buffer": {"match"},
    "secondary": {"match"},
    "parse": {"source", "filter"},
    "storage": {"source"},
    "entry": {"source"},
    "record": {"filter"},
    "format": {"match", "secondary"},
    "inject": {"match"},
}


class ConfigError(Exception):
    pass


class Element(object):
    def __init__(self, name, arg, line, parent):
        self.name = name
        self.arg = arg
        self.line = line
        self.parent = parent
        self.params = {}
        self.children = []

    def where(self):
        return "<%s%s> (line %d)" % (self.name, (" " + self.arg) if self.arg else "", self.line)


def parse_value(raw, lineno):
    """Parse one value the way fluentd's LiteralParser does (subset)."""
    if raw.startswith("'"):
        out, i = [], 1
        while i < len(raw):
            if raw.startswith("\\'", i):
                out.append("'")
                i += 2
            elif raw.startswith("\\\\", i):
                out.append("\\")
                i += 2
            elif raw[i] == "'":
                rest = raw[i + 1:].strip()
                if rest and not rest.startswith("#"):
                    raise ConfigError("line %d: unexpected text after a single-quoted string: %r" % (lineno, rest))
                return "".join(out)
            else:
                out.append(raw[i])
                i += 1
        raise ConfigError("line %d: unterminated single-quoted string" % lineno)
    if raw.startswith('"'):
        out, i = [], 1
        escapes = {'"': '"', "'": "'", "r": "\r", "n": "\n", "t": "\t", "f": "\f", "b": "\b"}
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt in escapes:
                    out.append(escapes[nxt])
                elif nxt.isalnum():
                    raise ConfigError("line %d: unexpected back-slash escape character '%s'" % (lineno, nxt))
                else:
                    out.append(nxt)
                i += 2
            elif raw.startswith("#{", i):
                raise ConfigError("line %d: embedded Ruby code \"#{...}\" is not supported by the stand-in" % lineno)
            elif c == '"':
                return "".join(out)
            else:
                out.append(c)
                i += 1
        raise ConfigError("line %d: unterminated double-quoted string" % lineno)
    if raw.startswith("[") or raw.startswith("{"):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ConfigError("line %d: invalid JSON value: %s" % (lineno, exc))
    return raw.rstrip()


def parse(text):
    root = Element("ROOT", "", 0, None)
    cur = root
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = re.match(r"^</([A-Za-z0-9_@]+)\s*>$", stripped)
        if m:
            if cur is root:
                raise ConfigError("line %d: </%s> closes nothing" % (lineno, m.group(1)))
            if m.group(1) != cur.name:
                raise ConfigError("line %d: </%s> closes %s" % (lineno, m.group(1), cur.where()))
            cur = cur.parent
            continue
        m = re.match(r"^<([A-Za-z0-9_@]+)(?:\s+([^>]*?))?\s*>$", stripped)
        if m:
            el = Element(m.group(1), m.group(2) or "", lineno, cur)
            cur.children.append(el)
            cur = el
            continue
        m = re.match(r"^(\S+)(?:\s+(.*))?$", stripped)
        key, raw = m.group(1), (m.group(2) or "")
        if cur is root:
            raise ConfigError("line %d: parameter %s outside any section" % (lineno, key))
        if key in cur.params:
            raise ConfigError("line %d: %s given twice in %s" % (lineno, key, cur.where()))
        cur.params[key] = (parse_value(raw, lineno), lineno)
    if cur is not root:
        raise ConfigError("unclosed section %s" % cur.where())
    return root


def ruby_regexp(value, key, el, slashes_required):
    body = value
    if value.startswith("/"):
        end = value.rindex("/")
        if end == 0 or (not slashes_required and end < len(value) - 3):
            raise ConfigError("%s in %s: invalid regexp, missing right slash" % (key, el.where()))
        if slashes_required and end != len(value) - 1:
            raise ConfigError("%s in %s: must be written /regexp/" % (key, el.where()))
        body = value[1:end]
    elif slashes_required:
        raise ConfigError("%s in %s: must be written /regexp/" % (key, el.where()))
    try:
        return re.compile(re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", body))
    except re.error as exc:
        raise ConfigError("%s in %s: invalid regexp (checked with Python re): %s" % (key, el.where(), exc))


def check(root):
    seen_ids, pos_files, buffer_paths = set(), set(), set()
    counts = {"source": 0, "match": 0, "filter": 0}

    def walk(el, parent_name):
        if el.name not in PARENTS:
            raise ConfigError("unknown section %s" % el.where())
        if parent_name not in PARENTS[el.name]:
            raise ConfigError("%s is not allowed inside <%s>" % (el.where(), parent_name or "top level"))
        if el.name in counts:
            counts[el.name] += 1
        names = [c.name for c in el.children]
        for once in ("buffer", "secondary", "parse", "storage", "entry", "record", "log"):
            if names.count(once) > 1:
                raise ConfigError("%s has more than one <%s>" % (el.where(), once))
        if el.name in ("source", "match", "filter") and "@type" not in el.params:
            raise ConfigError("%s has no @type" % el.where())
        if el.name in ("match", "filter") and not el.arg:
            raise ConfigError("%s has no tag pattern" % el.where())
        if el.name == "label" and not el.arg.startswith("@"):
            raise ConfigError("%s: a label name starts with @" % el.where())
        if "@id" in el.params:
            ident = el.params["@id"][0]
            if ident in seen_ids:
                raise ConfigError("duplicate @id %s" % ident)
            seen_ids.add(ident)
        for key, (value, lineno) in el.params.items():
            if key in BOOL_PARAMS and value not in ("true", "false"):
                raise ConfigError("line %d: %s must be true or false, got %r" % (lineno, key, value))
            if key in INT_PARAMS and not re.match(r"^[0-9]+$", str(value)):
                raise ConfigError("line %d: %s must be an integer, got %r" % (lineno, key, value))
            if key in ENUMS and value not in ENUMS[key]:
                raise ConfigError("line %d: %s must be one of %s" % (lineno, key, ", ".join(sorted(ENUMS[key]))))
        ptype = el.params.get("@type", (None, 0))[0]
        if el.name == "source" and ptype == "tail":
            for req in ("path", "tag"):
                if req not in el.params:
                    raise ConfigError("%s: tail needs %s" % (el.where(), req))
            if "parse" not in names:
                raise ConfigError("%s: <parse> section is required" % el.where())
            if el.params.get("follow_inodes", ("false", 0))[0] == "true" and "pos_file" not in el.params:
                raise ConfigError("%s: can't follow inodes without pos_file" % el.where())
            if "pos_file" in el.params:
                pos = el.params["pos_file"][0]
                if pos in pos_files:
                    raise ConfigError("%s: another tail source already uses pos_file %s" % (el.where(), pos))
                pos_files.add(pos)
        if el.name == "parse":
            ptype = el.params.get("@type", (None, 0))[0]
            if ptype is None:
                raise ConfigError("%s has no @type" % el.where())
            if ptype == "regexp":
                if "expression" not in el.params:
                    raise ConfigError("%s: regexp parser needs expression" % el.where())
                if not ruby_regexp(el.params["expression"][0], "expression", el, False).groupindex:
                    raise ConfigError("%s: expression has no named captures" % el.where())
            if ptype == "multiline":
                if "format1" not in el.params:
                    raise ConfigError("%s: multiline parser needs format1" % el.where())
                keys = sorted((k for k in el.params if re.match(r"^format\d+$", k)), key=lambda k: int(k[6:]))
                for key in keys:
                    ruby_regexp(el.params[key][0], key, el, True)
                joined = "".join(el.params[k][0][1:-1] for k in keys)
                if not ruby_regexp("/%s/" % joined, "format1..N", el, True).groupindex:
                    raise ConfigError("%s: multiline formats have no named captures" % el.where())
                if "format_firstline" in el.params:
                    ruby_regexp(el.params["format_firstline"][0], "format_firstline", el, True)
        if el.name == "match" and ptype == "cloudwatch_logs":
            for kind in ("group", "stream"):
                opts = ["log_%s_name" % kind, "use_tag_as_%s" % kind, "log_%s_name_key" % kind]
                if sum(1 for o in opts if o in el.params) != 1:
                    raise ConfigError("%s: set only one of %s" % (el.where(), ", ".join(opts)))
            if "aws_key_id" in el.params or "aws_sec_key" in el.params:
                print("%s: warning: static AWS keys in %s" % (BANNER, el.where()))
        if el.name == "buffer":
            if el.params.get("@type", ("memory", 0))[0] == "file":
                if "path" not in el.params:
                    raise ConfigError("%s: file buffer needs path" % el.where())
                path = el.params["path"][0]
                if path in buffer_paths:
                    raise ConfigError("%s: buffer path %s is used twice" % (el.where(), path))
                buffer_paths.add(path)
        if el.name == "secondary":
            if el.params.get("@type", (None, 0))[0] == "secondary_file":
                if "directory" not in el.params:
                    raise ConfigError("%s: secondary_file needs directory" % el.where())
                if "/" in el.params.get("basename", ("dump.bin", 0))[0]:
                    raise ConfigError("%s: basename should not include `/`" % el.where())
                if "%" in el.params["directory"][0] + el.params.get("basename", ("", 0))[0]:
                    raise ConfigError("%s: basename or directory has a time format placeholder" % el.where())
            if "buffer" not in [c.name for c in el.parent.children]:
                raise ConfigError("%s: <secondary> needs a buffered output" % el.where())
        for child in el.children:
            walk(child, el.name)

    for child in root.children:
        walk(child, None)
    return counts


def main(argv):
    if "--version" in argv:
        print("%s 1.16-standin" % BANNER)
        return 0
    if "--dry-run" not in argv or "-c" not in argv:
        sys.stderr.write("%s: only `--dry-run -c FILE` is implemented; this is not fluentd and cannot run.\n" % BANNER)
        return 2
    path = argv[argv.index("-c") + 1]
    try:
        with open(path, encoding="utf-8") as handle:
            counts = check(parse(handle.read()))
    except (ConfigError, OSError, ValueError) as exc:
        sys.stderr.write("%s: config error in %s: %s\n" % (BANNER, path, exc))
        return 1
    print("%s: %s is structurally valid (%d source, %d filter, %d match); real fluentd validation did NOT run."
          % (BANNER, path, counts["source"], counts["filter"], counts["match"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
