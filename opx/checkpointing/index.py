"""Finding an incident's executions through the ``incident-id-index`` GSI."""

from __future__ import annotations

from typing import Any

from opx.checkpointing.schema import TABLE_SCHEMA


def find_executions(client: Any, table_name: str, incident_id: str) -> list[str]:
    """Thread (execution) ids that checkpointed for ``incident_id``, oldest first.

    GSIs are eventually consistent: a checkpoint written a moment ago may not be
    listed yet.
    """
    schema = TABLE_SCHEMA
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": schema.gsi_name,
        "KeyConditionExpression": "#i = :i",
        "ExpressionAttributeNames": {"#i": schema.gsi_partition_key},
        "ExpressionAttributeValues": {":i": {"S": incident_id}},
        "ScanIndexForward": True,
    }
    threads: dict[str, None] = {}
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            threads.setdefault(item[schema.partition_key]["S"], None)
        last = page.get("LastEvaluatedKey")
        if not last:
            return list(threads)
        request["ExclusiveStartKey"] = last
