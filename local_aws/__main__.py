# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m local_aws [--port N] [--host H]``: serve the emulator in the foreground.

The port defaults to $LOGVAULT_AWS_PORT, else 4566. Prints one ready line, then
serves until SIGINT or SIGTERM.
"""

import argparse
import logging
import os
import signal
import sys
import time

from local_aws import DEFAULT_PORT


def _port(value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError("port must be an integer from 0 to 65535, got %r" % (value,))
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("port must be an integer from 0 to 65535, got %r" % (value,))
    return port


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local_aws", description="Local AWS emulator for logvault.aws (moto + logvault behaviours).")
    parser.add_argument("--port", type=_port, default=None,
                        help="TCP port (default: $LOGVAULT_AWS_PORT, else %d; 0 picks a free port)" % DEFAULT_PORT)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    port = args.port
    if port is None:
        env = os.environ.get("LOGVAULT_AWS_PORT")
        if env:
            try:
                port = _port(env)
            except argparse.ArgumentTypeError as exc:
                parser.error("LOGVAULT_AWS_PORT: %s" % exc)
        else:
            port = DEFAULT_PORT

    logging.basicConfig(level=logging.WARNING, format="local-aws: %(levelname)s %(message)s")
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    # A signal handler runs in the main thread between two bytecodes, possibly while that
    # thread holds a lock (Event.wait holds its Condition's). So the handler takes no
    # lock at all: it sets a flag that the main loop polls. Any number of signals (make
    # and the process group both send one) only set it again.
    stopping = []

    def _stop(signum, frame):  # pylint: disable=unused-argument
        stopping.append(signum)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        emu = start(port=port, host=args.host, verbose=args.verbose)
    except OSError as exc:
        print("local-aws: cannot listen on %s:%s: %s" % (args.host, port, exc), file=sys.stderr)
        return 1
    print("local-aws ready on %s (state in memory; POST /_logvault/flush delivers now)" % emu.endpoint, flush=True)
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
