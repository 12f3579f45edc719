# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Object Lock configuration and bucket metrics configurations (local_aws/services/s3_config.py)."""

import botocore.exceptions
import pytest


def test_object_lock_default_retention_returns_only_what_was_set(aws_client, unique):
    s3 = aws_client("s3")
    name = unique("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}}})
    retention = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "GOVERNANCE", "Days": 365}


def test_metrics_configuration_round_trip(aws_client, unique):
    s3 = aws_client("s3")
    name = unique("metrics")
    s3.create_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3.get_bucket_metrics_configuration(Bucket=name, Id="EntireBucket")
    assert err.value.response["Error"]["Code"] == "NoSuchConfiguration"
    s3.put_bucket_metrics_configuration(Bucket=name, Id="EntireBucket", MetricsConfiguration={"Id": "EntireBucket"})
    got = s3.get_bucket_metrics_configuration(Bucket=name, Id="EntireBucket")["MetricsConfiguration"]
    assert got == {"Id": "EntireBucket"}
    s3.delete_bucket_metrics_configuration(Bucket=name, Id="EntireBucket")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_metrics_configuration(Bucket=name, Id="EntireBucket")
