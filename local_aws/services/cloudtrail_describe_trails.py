# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeTrails: ``trailNameList`` selects the trails, as AWS answers it.

What moto 5.2.5 does: ``DescribeTrails`` ignores ``trailNameList`` and answers every trail of the
region (and the account's shadow trails). A client that asks for one trail by name, as
``amazon.aws.cloudtrail`` does (``describe_trails(trailNameList=[name])``, then the first trail of
the answer), gets another trail whenever the account holds one: it then reads (``GetTrailStatus``,
``ListTags``) and could update that other trail.

What AWS does (CloudTrail API reference, DescribeTrails,
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html):
``trailNameList`` "Specifies a list of trail names, trail ARNs, or both, of the trails to
describe". With an empty list, the trails of the current Region (and, unless
``includeShadowTrails`` is false, their shadow trails) are returned. "If one or more trail names
are specified, information is returned only if the names match the names of trails belonging
only to the current Region and current account. To return information about a trail in another
Region, you must specify its trail ARN."

What this patch does: with a non-empty ``trailNameList``, the answer holds, in the order asked and
once each, the trail of the current Region and account with each name, and the trail each ARN
of this account names (in the ARN's Region). A name or ARN that matches no trail adds nothing
(the API reference lists no not-found error for DescribeTrails). Without names, moto's answer is
kept.
"""

import json


def select(trails_here, trail_in_region, account, names):
    """The trails ``names`` (names and ARNs) select. ``trails_here`` maps name -> trail of the current
    Region and account; ``trail_in_region(region, name)`` gives a trail of this account in another
    Region (or None)."""
    found = []
    for value in names:
        if value.startswith("arn:"):
            parts = value.split(":", 5)
            if len(parts) != 6 or parts[2] != "cloudtrail" or parts[4] != account or not parts[5].startswith("trail/"):
                continue
            trail = trail_in_region(parts[3], parts[5][len("trail/"):])
        else:
            trail = trails_here.get(value)
        if trail is not None and all(trail is not other for other in found):
            found.append(trail)
    return found


def install():
    from moto.cloudtrail.models import cloudtrail_backends  # pylint: disable=import-outside-toplevel
    from moto.cloudtrail.responses import CloudTrailResponse  # pylint: disable=import-outside-toplevel

    if getattr(CloudTrailResponse.describe_trails, "logvault_patched", False):
        return

    original = CloudTrailResponse.describe_trails

    def describe_trails(self):
        names = self._get_param("trailNameList") or []
        if not names:
            return original(self)
        backend = self.cloudtrail_backend
        account = backend.account_id
        regions = cloudtrail_backends[account]

        def trail_in_region(region, name):
            if region not in regions.regions:
                return None
            return regions[region].trails.get(name)

        found = select(backend.trails, trail_in_region, account, names)
        return json.dumps({"trailList": [t.description(include_region=True) for t in found]})

    describe_trails.logvault_patched = True
    CloudTrailResponse.describe_trails = describe_trails
