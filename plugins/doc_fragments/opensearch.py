# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """Connection options of the modules that call an OpenSearch Service domain endpoint.

    They match ``opensearch_argument_spec()`` in plugins/module_utils/opensearch.py.
    """

    DOCUMENTATION = r"""
options:
  endpoint:
    description:
      - The domain endpoint, for example C(search-logs-abc123.us-east-1.es.amazonaws.com) or
        C(https://vpc-logs-abc123.us-east-1.es.amazonaws.com). Only HTTPS is accepted; a port is allowed.
      - When O(region) is not set, requests are signed for the region in the endpoint's host name, even when
        the environment (C(AWS_REGION), C(AWS_DEFAULT_REGION)) or the profile names another one, because a domain
        accepts only signatures scoped to its own region
        (U(https://docs.aws.amazon.com/opensearch-service/latest/developerguide/request-signing.html)).
        The environment's or profile's region is used only for an endpoint without a region in its name.
    type: str
    required: true
    aliases: [domain_endpoint]
  ca_path:
    description:
      - PEM file of the certificate authorities used to verify the domain's TLS certificate.
      - Defaults to the system trust store. Set O(validate_certs=false) to skip verification (not recommended).
    type: path
  timeout:
    description: Seconds to wait for each HTTP response from the domain.
    type: int
    default: 30
"""
