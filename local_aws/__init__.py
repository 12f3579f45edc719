# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local AWS emulator for logvault.aws: moto in server mode plus the behaviours the
pipeline needs (see docs/local-aws.md).

    from local_aws.server import start
    with start(port=0) as emu:
        logs = local_aws.client("logs", account_id="111111111111", endpoint=emu.endpoint)
        ...
        emu.flush()
"""

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_PORT = 4566


def credentials(account_id=DEFAULT_ACCOUNT_ID, endpoint=None, region=DEFAULT_REGION, role_name="logvault-test"):
    """Credentials (dict with aws_access_key_id, aws_secret_access_key, aws_session_token)
    for ``account_id``. The default account uses the plain key ``testing``; any other
    account is reached with sts:AssumeRole into ``arn:aws:iam::<account>:role/<role_name>``,
    exactly as on AWS."""
    import boto3  # pylint: disable=import-outside-toplevel

    base = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if account_id == DEFAULT_ACCOUNT_ID:
        return dict(base, aws_session_token=None)
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=region, **base)
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::%s:role/%s" % (account_id, role_name),
        RoleSessionName="local-aws-%s" % account_id,
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def client(service, account_id=DEFAULT_ACCOUNT_ID, endpoint=None, region=DEFAULT_REGION):
    """A boto3 client for ``service`` acting as ``account_id`` against the emulator at
    ``endpoint`` (default: the emulator most recently started in this process)."""
    import boto3  # pylint: disable=import-outside-toplevel
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    endpoint = endpoint or hooks.get_endpoint()
    if not endpoint:
        raise ValueError("endpoint is required: no local AWS emulator runs in this process")
    creds = credentials(account_id, endpoint=endpoint, region=region)
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **creds)
