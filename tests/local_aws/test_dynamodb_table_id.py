# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB TableId in table descriptions (local_aws/services/dynamodb_table_id.py)."""

import uuid


def _create(dynamodb, name):
    return dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )["TableDescription"]


def test_table_id_is_a_uuid_stable_for_the_table(aws_client, unique):
    dynamodb = aws_client("dynamodb")
    name = unique("table")
    created = _create(dynamodb, name)
    table_id = created["TableId"]
    assert str(uuid.UUID(table_id)) == table_id
    assert dynamodb.describe_table(TableName=name)["Table"]["TableId"] == table_id
    assert dynamodb.describe_table(TableName=name)["Table"]["TableId"] == table_id
    updated = dynamodb.update_table(TableName=name, BillingMode="PROVISIONED",
                                    ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert updated["TableDescription"]["TableId"] == table_id


def test_tables_have_their_own_ids_and_a_recreated_table_a_new_one(aws_client, unique):
    dynamodb = aws_client("dynamodb")
    first, second = unique("table"), unique("table")
    first_id = _create(dynamodb, first)["TableId"]
    second_id = _create(dynamodb, second)["TableId"]
    assert first_id != second_id
    deleted = dynamodb.delete_table(TableName=first)["TableDescription"]
    assert deleted["TableId"] == first_id
    assert _create(dynamodb, first)["TableId"] not in (first_id, second_id)
