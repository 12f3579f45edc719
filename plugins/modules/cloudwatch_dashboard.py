#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
version_added: 0.1.0
short_description: Manage a CloudWatch dashboard from its JSON body
description:
  - Creates, updates or deletes a CloudWatch dashboard (C(PutDashboard), C(DeleteDashboards)).
  - The body is compared with C(GetDashboard)'s as JSON (key order and formatting ignored), so a
    dashboard that means the same is no change.
  - C(PutDashboard) answers with C(DashboardValidationMessages), each a C(DataPath) and a C(Message).
    When the body is invalid AWS refuses it (C(InvalidParameterInput)) and the module fails listing each
    message by its field; when the dashboard was saved with warnings the module returns them in
    RV(validation_messages) and warns
    (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html)).
  - Neither amazon.aws 10.1.2 nor community.aws 10.0.0 has a module for CloudWatch dashboards.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the dashboard (1 to 255 letters, digits, V(-) or V(_)).
    required: true
    type: str
  body:
    description:
      - The dashboard body (a dict, or a JSON string) with its C(widgets) list
        (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)).
      - Required when O(state=present).
    type: json
  state:
    description:
      - V(present) creates or updates the dashboard, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly (the body is only validated by
    AWS when it is put); with C(--diff) the module returns the body before and after.
seealso:
  - name: PutDashboard API
    description: The CloudWatch API this module calls.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Put the pipeline's health dashboard
  logvault.aws.cloudwatch_dashboard:
    name: logvault-health
    body: "{{ lookup('ansible.builtin.template', 'health_dashboard.json.j2') }}"

- name: Delete it
  logvault.aws.cloudwatch_dashboard:
    name: logvault-health
    state: absent
"""

RETURN = r"""
dashboard:
  description: The dashboard after the task; empty when O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the dashboard.
      type: str
      returned: when the dashboard exists
      sample: logvault-health
    arn:
      description: ARN of the dashboard (absent in check mode before creation).
      type: str
      returned: when known
      sample: arn:aws:cloudwatch::123456789012:dashboard/logvault-health
    body:
      description: The body as a dict.
      type: dict
      returned: when the dashboard exists
      sample: {widgets: []}
validation_messages:
  description: C(PutDashboard)'s warnings, each with C(data_path) and C(message).
  returned: when the dashboard was put
  type: list
  elements: dict
  sample: [{data_path: /widgets/0/properties/metrics/0, message: "Should NOT have more than 2 items"}]
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def fail(module, param, msg):
    module.fail_json(msg="%s %s" % (param, msg), parameter=param)


def parse_body(module):
    """The body as a dict, validated before any AWS call."""
    body = module.params["body"]
    try:
        value = json.loads(body) if isinstance(body, str) else body
    except ValueError as e:
        fail(module, "body", "must be JSON: %s" % e)
    if not isinstance(value, dict) or not isinstance(value.get("widgets"), list):
        fail(module, "body", "must be an object with a 'widgets' list")
    for index, widget in enumerate(value["widgets"]):
        if not isinstance(widget, dict) or not isinstance(widget.get("type"), str):
            fail(module, "body", "widgets[%d] must be an object with a 'type'" % index)
    return value


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def messages(items):
    return [{"data_path": m.get("DataPath", ""), "message": m.get("Message", "")} for m in items or []]


def refusal_messages(error):
    """The DashboardValidationMessages of an InvalidParameterInput answer (query protocol error
    detail), as far as botocore parsed them."""
    response = getattr(error, "response", {}) or {}
    for place in (response, response.get("Error") or {}):
        for key in ("dashboardValidationMessages", "DashboardValidationMessages"):
            if isinstance(place.get(key), list):
                return messages(place[key])
    return []


def get_dashboard(module, client, name):
    try:
        answer = client.get_dashboard(aws_retry=True, DashboardName=name)
    except is_boto3_error_code("ResourceNotFound"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to get dashboard %s" % name)
    try:
        body = json.loads(answer.get("DashboardBody") or "{}")
    except ValueError:
        body = {"unparsable": answer.get("DashboardBody")}
    return {"name": answer.get("DashboardName", name), "arn": answer.get("DashboardArn"), "body": body}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            body=dict(type="json"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
        required_if=[("state", "present", ["body"])],
    )
    name = module.params["name"]
    if not NAME.match(name):
        fail(module, "name", "must be 1 to 255 letters, digits, '-' or '_', got %r" % name)
    body = parse_body(module) if module.params["state"] == "present" else None
    try:
        client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch")

    current = get_dashboard(module, client, name)
    before = current or {}
    if module.params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            try:
                client.delete_dashboards(aws_retry=True, DashboardNames=[name])
            except is_boto3_error_code("ResourceNotFound"):
                pass
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete dashboard %s" % name)
        result = dict(changed=changed, dashboard={})
        if module._diff:
            result["diff"] = dict(before=before, after={})
        module.exit_json(**result)

    changed = current is None or canonical(current["body"]) != canonical(body)
    after = {"name": name, "arn": before.get("arn"), "body": body}
    result = dict(changed=changed, dashboard=after)
    if changed and not module.check_mode:
        try:
            answer = client.put_dashboard(aws_retry=True, DashboardName=name, DashboardBody=canonical(body))
        except is_boto3_error_code(["InvalidParameterInput", "InvalidParameterInputException"]) as e:
            found = refusal_messages(e)
            detail = "; ".join("%s: %s" % (m["data_path"], m["message"]) for m in found)
            module.fail_json_aws(e, msg="CloudWatch refused the body of dashboard %s%s" % (name, (": " + detail) if detail else ""),
                                 validation_messages=found)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Failed to put dashboard %s" % name)
        result["validation_messages"] = messages(answer.get("DashboardValidationMessages"))
        for item in result["validation_messages"]:
            module.warn("dashboard %s: %s: %s" % (name, item["data_path"], item["message"]))
        if not after["arn"]:
            stored = get_dashboard(module, client, name)
            after["arn"] = (stored or {}).get("arn")
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
