# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changing moto's answer on its way out of the emulator's WSGI front."""


def rewritten(app, environ, start_response, change):
    """Answer with moto's (``app``'s) answer to ``environ``, its body replaced by ``change(status, body)``
    and its Content-Length set to the new body's length."""
    answered = {}

    def keep(status, headers, exc_info=None):  # pylint: disable=unused-argument
        answered.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(app(environ, keep))
    status = answered.get("status", "500 Internal Server Error")
    body = change(status, body)
    headers = [(k, v) for k, v in answered.get("headers", []) if k.lower() != "content-length"]
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]
