# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An inline policy of a role created by CloudFormation reads back as JSON (GetRolePolicy),
as on AWS; moto 5.2.5 returned Python's repr of the template's mapping."""

import json
from urllib.parse import unquote


def test_cloudformation_inline_policy_is_json(aws_client, unique):
    name = unique("cfn-role")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}]}
    template = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": name,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "inline", "PolicyDocument": document}]}}}}
    aws_client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template),
                                              Capabilities=["CAPABILITY_NAMED_IAM"])
    value = aws_client("iam").get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"]
    assert (json.loads(unquote(value)) if isinstance(value, str) else value) == document
