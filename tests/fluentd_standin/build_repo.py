# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a signed flat apt repository holding a STAND-IN `fluent-package` (a test double).

The real fluent-package 5.x cannot be downloaded on the machines that run logvault.aws's
tests. This script builds, with dpkg-deb, a package of the same name whose fluentd and
fluent-gem are the small stand-in scripts next to it (see README.md), then a flat
repository (Packages, Release, InRelease) signed by a throw-away GPG key, so that the
role's repository URL and key variables are exercised for real by apt.

    python3 build_repo.py OUTPUT_DIR [--version 5.0.7-1]

OUTPUT_DIR receives: the .deb, Packages(.gz), Release, InRelease, key.asc (the public
key, armored). Requires dpkg-deb and gpg on the machine that builds.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "fluent-package"

CONTROL = """Package: {name}
Version: {version}
Architecture: all
Maintainer: logvault.aws tests <noreply@logvault.invalid>
Depends: python3
Section: admin
Priority: optional
Description: STAND-IN for fluent-package (logvault.aws test double, NOT fluentd)
 Built by tests/fluentd_standin/build_repo.py for the molecule scenario `fluentd`.
 /opt/fluent/bin/fluentd only checks a configuration's structure (--dry-run) and
 /opt/fluent/bin/fluent-gem only records what it was asked to install.
"""

POSTINST = """#!/bin/sh
# STAND-IN fluent-package postinst (test double): the user and directories of fluent-package v5.
set -e
if [ "$1" = configure ]; then
    getent group _fluentd >/dev/null || groupadd --system _fluentd
    getent passwd _fluentd >/dev/null || useradd --system --gid _fluentd --home-dir /var/lib/fluent \\
        --no-create-home --shell /usr/sbin/nologin _fluentd
    install -d -o _fluentd -g _fluentd -m 0755 /var/log/fluent
    install -d -o root -g root -m 0755 /var/lib/fluent-package-standin
fi
exit 0
"""

DEFAULT_CONF = """# STAND-IN default configuration of the logvault.aws fluent-package test double.
<source>
  @type forward
</source>
<match **>
  @type stdout
</match>
"""


def run(cmd, **kwargs):
    subprocess.run(cmd, check=True, **kwargs)


def build_deb(workdir, out, version):
    root = os.path.join(workdir, "pkg")
    for sub in ("DEBIAN", "opt/fluent/bin", "usr/lib/systemd/system", "etc/fluent", "usr/share/doc/" + PACKAGE):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for source, script in (("fluentd.py", "fluentd"), ("fluent_gem.py", "fluent-gem")):
        dest = os.path.join(root, "opt/fluent/bin", script)
        with open(os.path.join(HERE, source), encoding="utf-8") as src, open(dest, "w", encoding="utf-8") as dst:
            dst.write("#!/usr/bin/python3\n" + src.read())
        os.chmod(dest, 0o755)
    shutil.copyfile(os.path.join(HERE, "fluentd.service"), os.path.join(root, "usr/lib/systemd/system/fluentd.service"))
    with open(os.path.join(root, "etc/fluent/fluentd.conf"), "w", encoding="utf-8") as handle:
        handle.write(DEFAULT_CONF)
    shutil.copyfile(os.path.join(HERE, "README.md"), os.path.join(root, "usr/share/doc", PACKAGE, "README.STAND-IN.md"))
    with open(os.path.join(root, "DEBIAN/control"), "w", encoding="utf-8") as handle:
        handle.write(CONTROL.format(name=PACKAGE, version=version))
    with open(os.path.join(root, "DEBIAN/conffiles"), "w", encoding="utf-8") as handle:
        handle.write("/etc/fluent/fluentd.conf\n")
    postinst = os.path.join(root, "DEBIAN/postinst")
    with open(postinst, "w", encoding="utf-8") as handle:
        handle.write(POSTINST)
    os.chmod(postinst, 0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.access(path, os.X_OK):
                os.chmod(path, 0o644)
    deb = os.path.join(out, "%s_%s_all.deb" % (PACKAGE, version))
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, deb], stdout=subprocess.DEVNULL)
    return deb


def control_fields(deb):
    return subprocess.run(["dpkg-deb", "--field", deb], check=True, capture_output=True, text=True).stdout.rstrip("\n")


def digests(path):
    data = open(path, "rb").read()
    return len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # nosec - apt index field


def build_indexes(out, deb):
    size, md5, sha256 = digests(deb)
    stanza = "%s\nFilename: ./%s\nSize: %d\nMD5sum: %s\nSHA256: %s\n" % (
        control_fields(deb), os.path.basename(deb), size, md5, sha256)
    with open(os.path.join(out, "Packages"), "w", encoding="utf-8") as handle:
        handle.write(stanza)
    with open(os.path.join(out, "Packages"), "rb") as src, gzip.open(os.path.join(out, "Packages.gz"), "wb") as dst:
        dst.write(src.read())
    lines = ["Origin: logvault-standin", "Label: logvault.aws STAND-IN fluent-package (test double)",
             "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()), "MD5Sum:"]
    entries = []
    for name in ("Packages", "Packages.gz"):
        size, md5, sha256 = digests(os.path.join(out, name))
        entries.append((name, size, md5, sha256))
    lines += [" %s %d %s" % (entry[2], entry[1], entry[0]) for entry in entries]
    lines.append("SHA256:")
    lines += [" %s %d %s" % (entry[3], entry[1], entry[0]) for entry in entries]
    with open(os.path.join(out, "Release"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def sign(out, workdir):
    home = os.path.join(workdir, "gnupg")
    os.makedirs(home, mode=0o700)
    gpg = ["gpg", "--batch", "--quiet", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", ""]
    uid = "logvault.aws STAND-IN repository key (throw-away, tests only) <noreply@logvault.invalid>"
    run(gpg + ["--quick-generate-key", uid, "ed25519", "sign", "1d"])
    run(gpg + ["--yes", "--clearsign", "--output", os.path.join(out, "InRelease"), os.path.join(out, "Release")])
    run(gpg + ["--yes", "--armor", "--detach-sign", "--output", os.path.join(out, "Release.gpg"), os.path.join(out, "Release")])
    with open(os.path.join(out, "key.asc"), "wb") as handle:
        handle.write(subprocess.run(gpg + ["--armor", "--export", uid], check=True, capture_output=True).stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir")
    parser.add_argument("--version", default="5.0.7-1", help="Debian version of the stand-in package")
    args = parser.parse_args(argv)
    out = os.path.abspath(args.output_dir)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    workdir = tempfile.mkdtemp(prefix="fluentd-standin-")
    try:
        deb = build_deb(workdir, out, args.version)
        build_indexes(out, deb)
        sign(out, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("STAND-IN fluent-package %s repository (test double) written to %s" % (args.version, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
