"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its sanity virtual environments by running
``~/.ansible/test/cache/get_pip_<version>.py`` with the packages it wants (``pip==X``).
The real script comes from ci-files.testing.ansible.com, which cannot be reached from
our machines. ``make sanity`` copies this file there when no script is cached: it runs
``ensurepip`` and then pip-installs the requested packages from the configured index,
with PIP_CERT pointing at the system CA bundle.
"""

import os
import subprocess
import sys

CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    env = dict(os.environ)
    for bundle in CA_BUNDLES:
        if os.path.exists(bundle):
            env.setdefault("PIP_CERT", bundle)
            break
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], env=env)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY_OPTIONS]
    if any(not a.startswith("-") for a in args):
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)


if __name__ == "__main__":
    main()
