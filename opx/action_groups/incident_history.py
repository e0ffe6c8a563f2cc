"""Action group ``incident-history``: read-only lookups of past incidents in DynamoDB.

* ``GET /incidents/{incidentId}`` -- one incident (``GetItem``); 404 if absent.
* ``GET /services/{serviceName}/incidents`` -- a service's incidents, newest first
  (``Query`` on the ``service`` / ``created_at`` index, at most :data:`MAX_PAGES`
  pages).

The table is named by ``INCIDENT_HISTORY_TABLE``; its layout is
:func:`table_definition` (partition key ``incident_id``; ``created_at`` is an ISO 8601
UTC string, so text order is time order). Only ``GetItem`` and ``Query`` are ever
sent. Items are answered as plain JSON: numbers exact, sets sorted, long strings and
lists shortened (flagged ``truncated``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from pydantic import Field, ValidationInfo, field_validator

from opx.action_groups.aws import Pages, call, client
from opx.action_groups.contract import ActionError, Operation, dispatch
from opx.action_groups.params import Params, UtcDateTime, iso
from opx.action_groups.registry import INCIDENT_HISTORY_TABLE_ENV

GROUP = "incident-history"
PARTITION_KEY = "incident_id"
SERVICE_INDEX = "service-created_at-index"
MAX_LIMIT = 25
MAX_PAGES = 3
MAX_VALUE_CHARS = 1000
MAX_LIST_ITEMS = 20
#: How far back a service lookup reaches when ``since`` is not given.
DEFAULT_LOOKBACK = timedelta(days=365)
INCIDENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


def table_definition(name: str) -> dict[str, Any]:
    """The ``CreateTable`` request of the table this group reads (for tests, local
    runs and infrastructure): on-demand, keyed by incident, indexed by service/time."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": "service", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": SERVICE_INDEX,
                "KeySchema": [
                    {"AttributeName": "service", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


class IncidentLookup(Params):
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)


class ServiceIncidents(Params):
    service_name: str = Field(min_length=1, max_length=512)
    since: UtcDateTime | None = None
    until: UtcDateTime | None = None
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and until <= since:
            raise ValueError("must be after since")
        return until


def _table() -> str:
    name = os.environ.get(INCIDENT_HISTORY_TABLE_ENV, "").strip()
    if not name:
        raise ActionError(500, "CONFIGURATION_ERROR", f"{INCIDENT_HISTORY_TABLE_ENV} is not set")
    return name


def plain(value: Any) -> tuple[Any, bool]:
    """A deserialized DynamoDB value as JSON, and whether it had to be shortened."""
    if isinstance(value, Decimal):
        return (int(value) if value == value.to_integral_value() else value), False
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            return value[: MAX_VALUE_CHARS - 1] + "…", True
        return value, False
    if isinstance(value, Binary):
        return {"binaryBytes": len(value.value)}, False
    if isinstance(value, Mapping):
        pairs = {key: plain(item) for key, item in sorted(value.items())}
        return {k: v for k, (v, _) in pairs.items()}, any(cut for _, cut in pairs.values())
    if isinstance(value, set | frozenset | list):
        items = sorted(value, key=_set_order) if isinstance(value, set | frozenset) else value
        converted = [plain(item) for item in items[:MAX_LIST_ITEMS]]
        cut = len(items) > MAX_LIST_ITEMS or any(c for _, c in converted)
        return [v for v, _ in converted], cut
    return value, False


def _set_order(member: Any) -> Any:
    """DynamoDB sets are homogeneous: numbers by value, strings by text, binaries by bytes."""
    return member.value if isinstance(member, Binary) else member


def _item(raw: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    deserializer = TypeDeserializer()
    return plain({key: deserializer.deserialize(value) for key, value in raw.items()})


def get_incident(query: IncidentLookup) -> dict[str, Any]:
    response = call(
        client("dynamodb").get_item,
        TableName=_table(),
        Key={PARTITION_KEY: {"S": query.incident_id}},
    )
    if "Item" not in response:
        raise ActionError(
            404, "INCIDENT_NOT_FOUND", f"no incident {query.incident_id} in the history"
        )
    item, truncated = _item(response["Item"])
    return {"incident": item, "truncated": truncated}


def list_service_incidents(query: ServiceIncidents) -> dict[str, Any]:
    until = query.until or datetime.now(UTC)
    since = query.since or until - DEFAULT_LOOKBACK
    request = {
        "TableName": _table(),
        "IndexName": SERVICE_INDEX,
        "KeyConditionExpression": "#service = :service AND #created BETWEEN :since AND :until",
        "ExpressionAttributeNames": {"#service": "service", "#created": "created_at"},
        "ExpressionAttributeValues": {
            ":service": {"S": query.service_name},
            ":since": {"S": iso(since)},
            ":until": {"S": iso(until)},
        },
        "ScanIndexForward": False,
        "Limit": query.limit,
    }
    incidents: list[dict[str, Any]] = []
    truncated = False
    reader = Pages(
        client("dynamodb").query,
        request,
        max_pages=MAX_PAGES,
        token=("ExclusiveStartKey", "LastEvaluatedKey"),
    )
    for page in reader:
        for raw in page.get("Items", []):
            item, cut = _item(raw)
            incidents.append(item)
            truncated |= cut
        if len(incidents) >= query.limit:
            break
    return {
        "serviceName": query.service_name,
        "since": iso(since),
        "until": iso(until),
        "incidents": incidents[: query.limit],
        "truncated": truncated or len(incidents) > query.limit,
        "more": reader.more,
    }


OPERATIONS = (
    Operation("/incidents/{incidentId}", "GET", "getIncident", IncidentLookup, get_incident),
    Operation(
        "/services/{serviceName}/incidents",
        "GET",
        "listServiceIncidents",
        ServiceIncidents,
        list_service_incidents,
    ),
)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point of the ``incident-history`` action group."""
    return dispatch(GROUP, OPERATIONS, event)
