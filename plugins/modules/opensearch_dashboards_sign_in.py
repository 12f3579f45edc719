#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_dashboards_sign_in
version_added: 0.1.0
short_description: Set how people sign in to OpenSearch Dashboards (SAML or Amazon Cognito) on an OpenSearch Service domain
description:
  - Manages the two Dashboards sign-in settings of an existing Amazon OpenSearch Service domain through
    C(UpdateDomainConfig) - C(AdvancedSecurityOptions.SAMLOptions) (SAML 2.0 single sign-on, for example with
    AWS IAM Identity Center as the identity provider) and C(CognitoOptions) (Amazon Cognito user and identity
    pools) - comparing them with C(DescribeDomainConfig) first and writing only when they differ.
  - Exists because C(community.aws.opensearch) 10.0.0 cannot set either. It writes SAML settings under the key
    C(SamlOptions), while the API names it C(SAMLOptions), so enabling SAML raises a C(KeyError); and it reads
    the Cognito suboptions as C(cognito_user_pool_id), C(cognito_identity_pool_id) and C(cognito_role_arn), names
    its own argument spec does not define, so the pool ids and the role are never sent.
  - A domain supports one Dashboards authentication method at a time; Cognito must be disabled before SAML is
    enabled. The module refuses O(saml.enabled) and O(cognito.enabled) both true, and when it switches from one
    to the other it sends the update that disables first.
  - SAML needs fine-grained access control on the domain; the module checks it before any write.
  - Input is validated before any AWS call and errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  domain_name:
    description:
      - Name of the domain (3 to 28 lowercase letters, digits or V(-), starting with a letter).
    required: true
    type: str
  saml:
    description:
      - SAML authentication for OpenSearch Dashboards. Not managed when omitted.
    type: dict
    suboptions:
      enabled:
        description: Whether SAML sign-in is on. V(false) turns it off on the domain.
        type: bool
        default: false
      idp_metadata_content:
        description:
          - The identity provider's SAML 2.0 metadata, as XML text (an C(EntityDescriptor)). For metadata published
            at a URL, pass its content, for example with C(lookup('ansible.builtin.url', URL, split_lines=false)).
          - Required when O(saml.enabled=true).
        type: str
      idp_entity_id:
        description:
          - The identity provider's entity id; it must equal the C(entityID) of the metadata. Required when
            O(saml.enabled=true).
        type: str
      subject_key:
        description: SAML assertion attribute holding the user name. Empty or unset leaves the AWS default (C(NameID)).
        type: str
        default: ''
      roles_key:
        description:
          - SAML assertion attribute holding the user's backend roles (for example the IdP groups). Empty or unset
            leaves the AWS default (C(roles)). OpenSearch role mappings name these values as backend roles.
        type: str
        default: ''
      master_backend_role:
        description:
          - IdP backend role (group) mapped to the domain's full-admin C(all_access) role. AWS never returns it,
            so it is sent whenever the SAML settings are written, and a change of this value alone is not seen.
        type: str
        default: ''
      session_timeout_minutes:
        description: Idle time after which a Dashboards session ends, 1 to 1440 minutes.
        type: int
        default: 60
  cognito:
    description:
      - Amazon Cognito authentication for OpenSearch Dashboards. Not managed when omitted.
    type: dict
    suboptions:
      enabled:
        description: Whether Cognito sign-in is on. V(false) turns it off on the domain.
        type: bool
        default: false
      user_pool_id:
        description: The Cognito user pool id (C(us-east-1_AbC123)). Required when O(cognito.enabled=true).
        type: str
      identity_pool_id:
        description: The Cognito identity pool id (C(us-east-1:uuid)). Required when O(cognito.enabled=true).
        type: str
      role_arn:
        description:
          - ARN of the IAM role with the C(AmazonOpenSearchServiceCognitoAccess) policy that lets OpenSearch Service
            configure the pools. Required when O(cognito.enabled=true).
        type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff) the module returns the
    settings before and after.
  - In check mode a domain that does not exist yet counts as having neither method on. Outside check mode a missing
    domain fails the task.
  - Each write starts a configuration change of the domain; the module does not wait for it to finish.
seealso:
  - name: SAML authentication for OpenSearch Dashboards
    description: SAMLOptions, fine-grained access control as a prerequisite, one authentication method at a time.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/saml.html
  - name: Configuring Amazon Cognito authentication for OpenSearch Dashboards
    description: CognitoOptions and the AmazonOpenSearchServiceCognitoAccess role.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/cognito-auth.html
  - module: community.aws.opensearch
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Sign in to Dashboards through IAM Identity Center (SAML)
  logvault.aws.opensearch_dashboards_sign_in:
    domain_name: logvault-search
    saml:
      enabled: true
      idp_metadata_content: "{{ lookup('ansible.builtin.file', 'identity-center-metadata.xml') }}"
      idp_entity_id: https://portal.sso.us-east-1.amazonaws.com/saml/assertion/MTIzNDU2Nzg5MDEy
      roles_key: groups
      master_backend_role: 4458d4c8-0011-70d8-8b1e-6e0c12345678
    cognito:
      enabled: false

- name: Sign in through Amazon Cognito instead
  logvault.aws.opensearch_dashboards_sign_in:
    domain_name: logvault-search
    saml:
      enabled: false
    cognito:
      enabled: true
      user_pool_id: us-east-1_AbC123xyz
      identity_pool_id: us-east-1:2a8e8f1c-1111-2222-3333-444455556666
      role_arn: arn:aws:iam::123456789012:role/service-role/CognitoAccessForAmazonOpenSearch
"""

RETURN = r"""
saml_enabled:
  description: Whether SAML sign-in is on after the task (or would be, in check mode).
  returned: always
  type: bool
  sample: true
cognito_enabled:
  description: Whether Cognito sign-in is on after the task (or would be, in check mode).
  returned: always
  type: bool
  sample: false
updates:
  description: The settings written (or that would be), in order, C(saml) and/or C(cognito).
  returned: always
  type: list
  elements: str
  sample: [cognito, saml]
"""

import re
from xml.etree import ElementTree

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
# Patterns of UserPoolId, IdentityPoolId and RoleArn in the OpenSearch Service API model.
USER_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
IDENTITY_POOL_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::[0-9]+:role/.+$")
SAML_METADATA_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def saml_problem(saml):
    """(parameter, message) of the first invalid SAML setting, or None."""
    if not saml["enabled"]:
        return None
    metadata = (saml.get("idp_metadata_content") or "").strip()
    if not metadata:
        return "saml.idp_metadata_content", "saml.idp_metadata_content is required when saml.enabled is true"
    if len(metadata) > 1048576:
        return "saml.idp_metadata_content", "saml.idp_metadata_content is longer than the 1,048,576 characters AWS accepts"
    try:
        root = ElementTree.fromstring(metadata)
    except ElementTree.ParseError as e:
        return "saml.idp_metadata_content", "saml.idp_metadata_content is not well-formed XML: %s" % to_native(e)
    if root.tag != "{%s}EntityDescriptor" % SAML_METADATA_NS:
        return "saml.idp_metadata_content", ("saml.idp_metadata_content must be SAML 2.0 metadata (an md:EntityDescriptor "
                                             "element), got the root element %s" % root.tag)
    entity_id = saml.get("idp_entity_id") or ""
    if not 8 <= len(entity_id) <= 512:
        return "saml.idp_entity_id", "saml.idp_entity_id is required when saml.enabled is true (8 to 512 characters)"
    if root.get("entityID") and root.get("entityID") != entity_id:
        return "saml.idp_entity_id", ("saml.idp_entity_id %r differs from the entityID %r of saml.idp_metadata_content"
                                      % (entity_id, root.get("entityID")))
    if not 1 <= saml["session_timeout_minutes"] <= 1440:
        return "saml.session_timeout_minutes", ("saml.session_timeout_minutes must be between 1 and 1440, got %s"
                                                % saml["session_timeout_minutes"])
    if len(saml.get("master_backend_role") or "") > 256:
        return "saml.master_backend_role", "saml.master_backend_role is longer than 256 characters"
    for key in ("subject_key", "roles_key"):
        if len(saml.get(key) or "") > 64:
            return "saml.%s" % key, "saml.%s is longer than 64 characters" % key
    return None


def cognito_problem(cognito):
    if not cognito["enabled"]:
        return None
    for key, pattern, example in (("user_pool_id", USER_POOL_ID, "us-east-1_AbC123"),
                                  ("identity_pool_id", IDENTITY_POOL_ID, "us-east-1:2a8e8f1c-..."),
                                  ("role_arn", ROLE_ARN, "arn:aws:iam::123456789012:role/CognitoAccessForAmazonOpenSearch")):
        value = cognito.get(key) or ""
        if not value:
            return "cognito.%s" % key, "cognito.%s is required when cognito.enabled is true" % key
        if not pattern.match(value):
            return "cognito.%s" % key, "cognito.%s %r is not valid (for example %s)" % (key, value, example)
    return None


def desired_saml(saml):
    """The comparable SAML settings (unset keys are left to AWS and not compared)."""
    if not saml["enabled"]:
        return {"Enabled": False}
    wanted = {"Enabled": True, "Idp": {"MetadataContent": saml["idp_metadata_content"].strip(), "EntityId": saml["idp_entity_id"]},
              "SessionTimeoutMinutes": saml["session_timeout_minutes"]}
    if saml.get("subject_key"):
        wanted["SubjectKey"] = saml["subject_key"]
    if saml.get("roles_key"):
        wanted["RolesKey"] = saml["roles_key"]
    return wanted


def current_saml(options, wanted):
    """What AWS reports, in the keys of ``wanted`` (SAMLOptionsOutput)."""
    options = options or {}
    if not options.get("Enabled"):
        return {"Enabled": False}
    idp = options.get("Idp") or {}
    current = {"Enabled": True, "Idp": {"MetadataContent": (idp.get("MetadataContent") or "").strip(), "EntityId": idp.get("EntityId")},
               "SessionTimeoutMinutes": options.get("SessionTimeoutMinutes") or 60}
    for key in ("SubjectKey", "RolesKey"):
        if key in wanted:
            current[key] = options.get(key) or ""
    return current


def desired_cognito(cognito):
    if not cognito["enabled"]:
        return {"Enabled": False}
    return {"Enabled": True, "UserPoolId": cognito["user_pool_id"], "IdentityPoolId": cognito["identity_pool_id"],
            "RoleArn": cognito["role_arn"]}


def current_cognito(options):
    options = options or {}
    if not options.get("Enabled"):
        return {"Enabled": False}
    return dict((k, options.get(k)) for k in ("Enabled", "UserPoolId", "IdentityPoolId", "RoleArn"))


def read_config(module, client, domain):
    try:
        return client.describe_domain_config(aws_retry=True, DomainName=domain)["DomainConfig"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the configuration of OpenSearch domain %s" % domain)


def main():
    saml_spec = dict(
        enabled=dict(type="bool", default=False),
        idp_metadata_content=dict(type="str"),
        idp_entity_id=dict(type="str"),
        subject_key=dict(type="str", default="", no_log=False),
        roles_key=dict(type="str", default="", no_log=False),
        master_backend_role=dict(type="str", default=""),
        session_timeout_minutes=dict(type="int", default=60),
    )
    cognito_spec = dict(
        enabled=dict(type="bool", default=False),
        user_pool_id=dict(type="str"),
        identity_pool_id=dict(type="str"),
        role_arn=dict(type="str"),
    )
    argument_spec = dict(
        domain_name=dict(type="str", required=True),
        saml=dict(type="dict", options=saml_spec),
        cognito=dict(type="dict", options=cognito_spec),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    domain = module.params["domain_name"]
    saml, cognito = module.params["saml"], module.params["cognito"]
    if not DOMAIN_NAME.match(domain):
        module.fail_json(msg="domain_name must be 3 to 28 lowercase letters, digits or '-', starting with a letter, got %r"
                             % domain, parameter="domain_name")
    if saml and cognito and saml["enabled"] and cognito["enabled"]:
        module.fail_json(msg="saml.enabled and cognito.enabled are both true: an OpenSearch Service domain supports one "
                             "Dashboards authentication method at a time (Cognito must be off before SAML is on). Turn one off.",
                         parameter="saml.enabled")
    for problem in (saml_problem(saml) if saml else None, cognito_problem(cognito) if cognito else None):
        if problem:
            module.fail_json(msg=problem[1], parameter=problem[0])

    try:
        client = module.client("opensearch", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to OpenSearch Service")
    config = read_config(module, client, domain)
    if config is None and not module.check_mode:
        module.fail_json(msg="OpenSearch domain %s does not exist; create it first (community.aws.opensearch)" % domain,
                         domain_name=domain)
    config = config or {}  # check mode: the task that creates the domain did not run
    security = (config.get("AdvancedSecurityOptions") or {}).get("Options") or {}

    before, after, writes = {}, {}, []
    if saml is not None:
        wanted = desired_saml(saml)
        before["saml"] = current_saml(security.get("SAMLOptions"), wanted)
        after["saml"] = wanted
        if before["saml"] != wanted:
            if wanted["Enabled"] and config and not security.get("Enabled"):
                module.fail_json(msg="SAML sign-in needs fine-grained access control, which is off on domain %s" % domain,
                                 parameter="saml.enabled")
            send = dict(wanted)
            if saml.get("master_backend_role") and wanted["Enabled"]:
                send["MasterBackendRole"] = saml["master_backend_role"]
            # The current fine-grained access control switches are sent with the SAML settings, unchanged.
            options = {"Enabled": bool(security.get("Enabled")), "SAMLOptions": send}
            if "InternalUserDatabaseEnabled" in security:
                options["InternalUserDatabaseEnabled"] = security["InternalUserDatabaseEnabled"]
            writes.append(("saml", wanted["Enabled"], {"AdvancedSecurityOptions": options}))
    if cognito is not None:
        wanted = desired_cognito(cognito)
        before["cognito"] = current_cognito((config.get("CognitoOptions") or {}).get("Options"))
        after["cognito"] = wanted
        if before["cognito"] != wanted:
            writes.append(("cognito", wanted["Enabled"], {"CognitoOptions": wanted}))
    writes.sort(key=lambda w: w[1])  # the update that turns a method off goes first

    if not module.check_mode:
        for name, dummy, request in writes:
            try:
                client.update_domain_config(aws_retry=True, DomainName=domain, **request)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to update the %s sign-in settings of OpenSearch domain %s"
                                     % ("SAML" if name == "saml" else "Cognito", domain))

    result = dict(
        changed=bool(writes), updates=[w[0] for w in writes],
        saml_enabled=bool((after.get("saml") or before.get("saml") or current_saml(security.get("SAMLOptions"), {}))["Enabled"]),
        cognito_enabled=bool((after.get("cognito") or current_cognito((config.get("CognitoOptions") or {}).get("Options")))["Enabled"]),
    )
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
