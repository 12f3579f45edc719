# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maximum session duration of an IAM role: 3600 to 43200 seconds, as on AWS.

What moto 5.2.5 does: CreateRole and UpdateRole store any ``MaxSessionDuration`` (50000, or
100 from a client that does not validate parameters), and GetRole returns it.

What AWS does (IAM API Reference, CreateRole and UpdateRole, ``MaxSessionDuration``: "Valid
Range: Minimum value of 3600. Maximum value of 43200.",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html): a value out of that
range is refused with ``ValidationError`` and nothing changes. botocore checks only the
minimum before it sends a request; the maximum is the service's to refuse.

What this patch does: CreateRole (CloudFormation's ``AWS::IAM::Role`` too) and UpdateRole
refuse a value out of the range with ``ValidationError`` ``1 validation error detected: Value
'<value>' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less
than or equal to 43200`` (``greater than or equal to 3600`` below it), before the role is
created or changed. moto's UpdateRole already applies the documented default of one hour to a
``MaxSessionDuration`` it is not given.
"""

import functools
import inspect

MINIMUM = 3600
MAXIMUM = 43200


def check(value):
    """Raise AWS's ValidationError for a MaxSessionDuration out of range (None: not given)."""
    from moto.iam.exceptions import ValidationError  # pylint: disable=import-outside-toplevel

    if value is None:
        return
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError("1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy "
                              "constraint: Member must be an integer" % (value,))
    if number < MINIMUM:
        bound = "greater than or equal to %d" % MINIMUM
    elif number > MAXIMUM:
        bound = "less than or equal to %d" % MAXIMUM
    else:
        return
    raise ValidationError("1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy "
                          "constraint: Member must have value %s" % (value, bound))


def _checked(cls, name):
    original = getattr(cls, name)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        check(signature.bind(self, *args, **kwargs).arguments.get("max_session_duration"))
        return original(self, *args, **kwargs)

    setattr(cls, name, wrapper)


def install():
    from moto.iam.models import IAMBackend  # pylint: disable=import-outside-toplevel

    if getattr(IAMBackend, "_logvault_session_duration", False):
        return
    IAMBackend._logvault_session_duration = True  # pylint: disable=protected-access
    for name in ("create_role", "update_role"):
        _checked(IAMBackend, name)
