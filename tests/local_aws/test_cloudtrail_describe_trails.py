# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeTrails answers the trails trailNameList names (cloudtrail_describe_trails)."""

from local_aws.services import cloudtrail_describe_trails

REGION, OTHER = "eu-west-3", "ap-northeast-3"  # regions no other test puts trails in
ACCOUNT = "123456789012"


def _trails(aws_client, unique):
    s3 = aws_client("s3", region="us-east-1")
    bucket = unique("trails")
    s3.create_bucket(Bucket=bucket)
    here, there = aws_client("cloudtrail", region=REGION), aws_client("cloudtrail", region=OTHER)
    mine, theirs, far = unique("mine"), unique("theirs"), unique("far")
    arns = {}
    for client, name in ((here, theirs), (here, mine), (there, far)):
        arns[name] = client.create_trail(Name=name, S3BucketName=bucket)["TrailARN"]
    return here, mine, theirs, far, arns


def test_a_name_selects_that_trail_of_the_region_only(aws_client, unique):
    here, mine, theirs, far, arns = _trails(aws_client, unique)
    assert [t["Name"] for t in here.describe_trails(trailNameList=[mine])["trailList"]] == [mine]
    assert [t["Name"] for t in here.describe_trails(trailNameList=[theirs, mine, mine])["trailList"]] == [theirs, mine]
    # a trail of another Region: by its ARN, not by its name
    assert here.describe_trails(trailNameList=[far])["trailList"] == []
    assert [t["TrailARN"] for t in here.describe_trails(trailNameList=[arns[far]])["trailList"]] == [arns[far]]
    assert here.describe_trails(trailNameList=["no-such-trail"])["trailList"] == []
    # without names, every trail of the Region (moto's answer)
    assert {mine, theirs} <= {t["Name"] for t in here.describe_trails()["trailList"]}


def test_select_reads_names_and_arns_of_this_account_only():
    here = {"a": "trail-a", "b": "trail-b"}
    elsewhere = {("us-west-2", "c"): "trail-c"}

    def in_region(region, name):
        return elsewhere.get((region, name))

    arn = "arn:aws:cloudtrail:us-west-2:%s:trail/c" % ACCOUNT
    assert cloudtrail_describe_trails.select(here, in_region, ACCOUNT, ["b", arn, "a", "b", "x"]) == [
        "trail-b", "trail-c", "trail-a"]
    assert cloudtrail_describe_trails.select(here, in_region, ACCOUNT, [arn.replace(ACCOUNT, "111111111111")]) == []
    assert cloudtrail_describe_trails.select(here, in_region, ACCOUNT, ["arn:aws:cloudtrail:us-west-2:%s:c" % ACCOUNT]) == []
