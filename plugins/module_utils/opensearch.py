# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SigV4-signed requests to an Amazon OpenSearch Service domain endpoint.

The modules that manage what lives inside a domain (ISM policies, index templates)
talk to the domain's REST API, not to an AWS API. Each request is signed with
botocore's ``SigV4Auth`` for the service ``es``, using the credentials that the usual
AWS module options (``access_key``/``secret_key``/``session_token``/``profile``, or the
environment) resolve to through the module's boto3 session.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

try:
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.error import URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import open_url

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

SERVICE = "es"

# A DNS name (labels of letters, digits and hyphens) or an IPv4 address, optional port.
_HOST_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_REGION_IN_HOST_RE = re.compile(r"\.([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d)\.(es|aoss)\.amazonaws\.com(\.cn)?$")


def opensearch_argument_spec():
    """Options shared by every module that talks to a domain endpoint (doc fragment logvault.aws.opensearch)."""
    return dict(
        endpoint=dict(type="str", required=True, aliases=["domain_endpoint"]),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
    )


class OpenSearchError(Exception):
    """An HTTP error answered by the domain (or a failure to reach it)."""

    def __init__(self, message, status=None, error_type=None, reason=None, body=None, method=None, path=None):
        super(OpenSearchError, self).__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.reason = reason
        self.body = body
        self.method = method
        self.path = path


def validate_endpoint(value):
    """Return the base URL (``https://host[:port]``) of a domain endpoint.

    Accepts ``search-x.us-east-1.es.amazonaws.com``, ``https://search-x...`` or
    ``https://host:port``. Raises ValueError with a message that names the parameter.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("endpoint must be a non-empty domain endpoint such as search-logs-abc.us-east-1.es.amazonaws.com")
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("endpoint %r is not a valid URL or host name" % value)
    if parts.scheme != "https":
        raise ValueError("endpoint %r must use https:// (OpenSearch Service domains enforce HTTPS)" % value)
    if parts.username or parts.password:
        raise ValueError("endpoint %r must not contain credentials" % value)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("endpoint %r must be only a scheme, host and optional port (no path, query or fragment)" % value)
    host = parts.hostname or ""
    if not _HOST_RE.match(host):
        raise ValueError("endpoint %r does not contain a valid host name" % value)
    if port is not None and not 0 < port < 65536:
        raise ValueError("endpoint %r has an invalid port" % value)
    return "https://%s%s" % (host, (":%d" % port) if port else "")


def region_from_endpoint(base_url):
    """The region embedded in an AWS domain endpoint host name, or None."""
    match = _REGION_IN_HOST_RE.search(urlsplit(base_url).hostname or "")
    return match.group(1) if match else None


def _error_details(body):
    """(type, reason) from an OpenSearch error body, tolerant of odd shapes."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return None, body.strip()[:500] if body else None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("type"), error.get("reason")
    if isinstance(error, str):
        return None, error
    if "message" in data:  # the AWS front end (IAM / domain access policy)
        return data.get("__type"), data.get("Message") or data.get("message")
    return None, None


def _explain(method, path, status, error_type, reason):
    where = "%s %s" % (method, path)
    if status == 403 and error_type == "security_exception":
        return (
            "Fine-grained access control denied %s: %s. Map the signing IAM principal to an OpenSearch role "
            "with the needed permissions (security plugin role mapping, or make it the domain's master user)."
            % (where, reason)
        )
    if status == 403:
        return (
            "The domain refused %s with 403 Forbidden (%s). Check that the domain access policy allows the signing "
            "IAM principal es:ESHttp* on this domain and that the region is the domain's region."
            % (where, reason or "no reason given")
        )
    if status == 404:
        return "Not found: %s (%s)" % (where, reason or "404")
    if status == 409:
        return (
            "Conflict on %s: %s. The resource was changed by someone else since it was read "
            "(stale seq_no/primary_term); run the task again." % (where, reason or "version conflict")
        )
    return "%s failed with HTTP %s: %s" % (where, status, reason or error_type or "no details")


class OpenSearchClient:
    """Signs and sends JSON requests to one domain endpoint."""

    def __init__(self, base_url, region, credentials, validate_certs=True, ca_path=None, timeout=30):
        self.base_url = base_url
        self.region = region
        self.credentials = credentials
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout

    def url(self, path, query=None):
        quoted = "/".join(quote(part, safe="") for part in path.strip("/").split("/"))
        url = "%s/%s" % (self.base_url, quoted)
        if query:
            url += "?" + urlencode(sorted(query.items()))
        return url

    def signed_headers(self, method, url, data, content_type="application/json", extra_headers=None):
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        headers.update(extra_headers or {})
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(self.credentials, SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())

    def request(self, method, path, body=None, query=None, headers=None):
        """Send a signed JSON request; return (status, decoded JSON or None).

        ``body`` may be any JSON value (the Dashboards bulk APIs take a list). Raises
        OpenSearchError for any HTTP status >= 400 or a connection failure.
        """
        data = json.dumps(body, sort_keys=True).encode("utf-8") if body is not None else None
        status, raw = self.send(method, path, data, query=query, headers=headers)
        if not raw:
            return status, None
        try:
            return status, json.loads(to_native(raw, errors="surrogate_or_strict"))
        except ValueError:
            raise OpenSearchError(
                "%s %s returned a body that is not JSON: %r" % (method, path, raw[:200]), status=status, method=method, path=path,
            )

    def send(self, method, path, data=None, query=None, headers=None, content_type="application/json"):
        """Send signed bytes (``data``, or no body when None); return (status, raw body bytes)."""
        url = self.url(path, query)
        signed = self.signed_headers(method, url, data if data is not None else b"", content_type, headers)
        try:
            response = open_url(
                url, data=data, headers=signed, method=method,
                validate_certs=self.validate_certs, ca_path=self.ca_path, timeout=self.timeout,
                follow_redirects="none", use_proxy=True,
            )
            return response.getcode(), response.read()
        except HTTPError as e:
            raw = e.read() if hasattr(e, "read") else b""
            text = to_native(raw or b"", errors="surrogate_or_strict")
            error_type, reason = _error_details(text)
            raise OpenSearchError(
                _explain(method, "/" + path.strip("/"), e.code, error_type, reason),
                status=e.code, error_type=error_type, reason=reason, body=text, method=method, path=path,
            )
        except URLError as e:
            raise OpenSearchError(
                "Cannot reach the OpenSearch endpoint %s: %s" % (self.base_url, to_native(getattr(e, "reason", e))),
                method=method, path=path,
            )
        except Exception as e:  # ssl, socket and timeout errors surface under several types
            raise OpenSearchError(
                "Request %s %s to %s failed: %s" % (method, path, self.base_url, to_native(e)), method=method, path=path,
            )


def get_credentials(module):
    """Frozen credentials from the module's AWS options through a boto3 session."""
    dummy, dummy, params = get_aws_connection_info(module)
    session = boto3.session.Session(
        profile_name=params.get("profile_name"),
        aws_access_key_id=params.get("aws_access_key_id"),
        aws_secret_access_key=params.get("aws_secret_access_key"),
        aws_session_token=params.get("aws_session_token"),
    )
    credentials = session.get_credentials()
    if credentials is None:
        module.fail_json(
            msg="No AWS credentials to sign OpenSearch requests with: set access_key/secret_key (and session_token), "
            "profile, or the AWS_* environment variables."
        )
    return credentials.get_frozen_credentials()


def signing_region(module, base_url):
    """The region to sign data-plane requests with.

    An explicit O(region) wins; then the region in the endpoint's host name (a domain answers only
    to signatures scoped to its own region); only then the environment's or profile's region
    (module.region), for endpoints without one (a custom domain name or a local test server).
    """
    return explicit_region(module) or region_from_endpoint(base_url) or module.region


def explicit_region(module):
    """O(region) when the task gave it, None when it is unset or came from the environment.

    amazon.aws's O(region) option falls back to AWS_REGION, then AWS_DEFAULT_REGION
    (env_fallback), so a value equal to that fallback is treated as the environment's.
    """
    region = module.params.get("region")
    if not region:
        return None
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return None if region == os.environ[name] else region
    return region


def validated_connection_params(module):
    """Validate endpoint and region before any request; fail naming the parameter."""
    try:
        base_url = validate_endpoint(module.params["endpoint"])
    except ValueError as e:
        module.fail_json(msg=to_native(e))
    if module.params.get("timeout") is not None and module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got %s" % module.params["timeout"])
    region = signing_region(module, base_url)
    if not region:
        module.fail_json(msg="region is required: it cannot be derived from endpoint %s" % base_url)
    if not REGION_RE.match(region):
        module.fail_json(msg="region %r is not a valid AWS region name (for example us-east-1)" % region)
    return base_url, region


def opensearch_client(module, base_url, region):
    """Build the client once input is validated."""
    return OpenSearchClient(
        base_url,
        region,
        get_credentials(module),
        validate_certs=module.params.get("validate_certs", True),
        ca_path=module.params.get("ca_path"),
        timeout=module.params.get("timeout") or 30,
    )


def fail_opensearch(module, error, msg):
    """fail_json with the explained OpenSearch error and its raw details."""
    module.fail_json(
        msg="%s: %s" % (msg, error.message),
        status=error.status,
        error_type=error.error_type,
        reason=error.reason,
    )
