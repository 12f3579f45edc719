# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB UpdateTimeToLive: one change per table per hour.

What moto 5.2.5 does: every UpdateTimeToLive call is applied at once, as often as asked.

What AWS does (DynamoDB API Reference, "UpdateTimeToLive"): "It can take up to one hour
for the change to fully process. Any additional UpdateTimeToLive calls for the same table
during this one hour duration result in a ValidationException." The answer is
``ValidationException`` ``Time to live has been modified multiple times within a fixed
interval``.

What this patch does: a successful UpdateTimeToLive records the time on the table
object; another call for that table within ``LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS``
(AWS: 3600; the suite's default is in ``local_aws/settings.py``) is refused with that
answer and changes nothing. A table deleted and created again is a new table (no
refusal). ``now`` is a module-level function so tests can move the clock.
"""

import time

from local_aws import settings

AWS_INTERVAL_SECONDS = 3600
MESSAGE = "Time to live has been modified multiple times within a fixed interval"


def now():
    return time.time()


def install():
    from moto.dynamodb.models import DynamoDBBackend  # pylint: disable=import-outside-toplevel

    if getattr(DynamoDBBackend, "_logvault_ttl_interval", False):
        return
    DynamoDBBackend._logvault_ttl_interval = True  # pylint: disable=protected-access
    original = DynamoDBBackend.update_time_to_live

    def update_time_to_live(self, table_name, ttl_spec):
        from moto.dynamodb.exceptions import MockValidationException  # pylint: disable=import-outside-toplevel

        table = self.tables.get(table_name)
        changed_at = getattr(table, "_logvault_ttl_changed_at", None) if table is not None else None
        interval = settings.get_float("LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS")
        if changed_at is not None and now() - changed_at < interval:
            raise MockValidationException(MESSAGE)
        original(self, table_name, ttl_spec)
        table = self.tables.get(table_name)
        if table is not None:
            table._logvault_ttl_changed_at = now()  # pylint: disable=protected-access

    DynamoDBBackend.update_time_to_live = update_time_to_live
