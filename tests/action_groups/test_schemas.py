"""Schemas and handlers agree: every schema path is handled, every handled path is in
the schema, with the same parameter names, requirements and types -- the bug the
original modules shipped (a schema path no handler matched, so every call was a 404).
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from opx.action_groups.contract import Operation
from opx.action_groups.registry import ACTION_GROUPS, ActionGroup, by_name

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "opx" / "action_groups" / "schemas"
IDS = [group.name for group in ACTION_GROUPS]


def _operations(group: ActionGroup) -> tuple[Operation, ...]:
    return importlib.import_module(group.handler.rpartition(".")[0]).OPERATIONS


def _schema_operations(group: ActionGroup) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method.upper()): operation
        for path, methods in group.load_schema()["paths"].items()
        for method, operation in methods.items()
    }


def test_the_registry_is_the_contract_the_stack_is_built_from() -> None:
    assert [(g.name, g.handler, g.schema, g.actions, g.env) for g in ACTION_GROUPS] == [
        (
            "cloudwatch-metrics",
            "opx.action_groups.cloudwatch_metrics.handler",
            "cloudwatch-metrics.json",
            ("cloudwatch:GetMetricData",),
            (),
        ),
        (
            "incident-history",
            "opx.action_groups.incident_history.handler",
            "incident-history.json",
            ("dynamodb:GetItem", "dynamodb:Query"),
            ("INCIDENT_HISTORY_TABLE",),
        ),
        (
            "logs-insights",
            "opx.action_groups.logs_insights.handler",
            "logs-insights.json",
            ("logs:GetQueryResults", "logs:StartQuery", "logs:StopQuery"),
            (),
        ),
        (
            "xray",
            "opx.action_groups.xray.handler",
            "xray.json",
            ("xray:GetServiceGraph", "xray:GetTraceSummaries"),
            (),
        ),
    ]
    assert all(callable(g.load_handler()) for g in ACTION_GROUPS)
    with pytest.raises(KeyError, match="known: cloudwatch-metrics, incident-history"):
        by_name("metrics")


def test_every_schema_file_belongs_to_a_group_and_ships_in_the_package() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(g.schema for g in ACTION_GROUPS)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["opx"]
    assert "action_groups/schemas/*.json" in package_data


@pytest.mark.parametrize("group", ACTION_GROUPS, ids=IDS)
def test_schema_paths_and_handled_paths_are_the_same(group: ActionGroup) -> None:
    in_schema = {key: op["operationId"] for key, op in _schema_operations(group).items()}
    handled = {(o.api_path, o.http_method): o.operation_id for o in _operations(group)}
    assert in_schema == handled


@pytest.mark.parametrize("group", ACTION_GROUPS, ids=IDS)
def test_schemas_meet_what_bedrock_requires(group: ActionGroup) -> None:
    schema = group.load_schema()
    assert schema["openapi"] == "3.0.0"
    assert schema["info"]["title"] and schema["info"]["version"]
    ids = [op["operationId"] for op in _schema_operations(group).values()]
    assert len(ids) == len(set(ids))
    for (path, _), operation in _schema_operations(group).items():
        assert len(operation["description"]) >= 40, path
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in ("path", "query"), parameter
            assert parameter["description"] and "type" in parameter["schema"], parameter
        if "requestBody" in operation:
            assert list(operation["requestBody"]["content"]) == ["application/json"]
        assert list(operation["responses"]["200"]["content"]) == ["application/json"]
        placeholders = set(re.findall(r"\{(\w+)\}", path))
        path_parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert placeholders == path_parameters, path
        assert all(p["required"] for p in operation.get("parameters", []) if p["in"] == "path")


def _declared(operation: dict[str, Any]) -> dict[str, tuple[str, str | None, bool]]:
    """Parameter name -> (OpenAPI type, format, required), path/query and body alike."""
    out = {
        p["name"]: (p["schema"]["type"], p["schema"].get("format"), bool(p.get("required")))
        for p in operation.get("parameters", [])
    }
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = content.get("schema", {})
    for name, prop in body.get("properties", {}).items():
        out[name] = (prop["type"], prop.get("format"), name in body.get("required", []))
    return out


def _accepted(model: type[BaseModel]) -> dict[str, tuple[str, str | None, bool]]:
    """Field alias -> (JSON type, format, required) of a parameter model."""
    schema = model.model_json_schema(by_alias=True)
    out = {}
    for name, prop in schema["properties"].items():
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        (option,) = options
        out[name] = (option["type"], option.get("format"), name in schema.get("required", []))
    return out


def _compatible(declared: tuple[str, str | None], accepted: tuple[str, str | None]) -> bool:
    """Bedrock sends every value as a string: an object parameter is declared as a
    string the handler parses (``dimensions``); everything else must agree exactly."""
    return declared == accepted or (declared[0] == "string" and accepted[0] == "object")


@pytest.mark.parametrize(
    "operation",
    [o for g in ACTION_GROUPS for o in _operations(g)],
    ids=lambda o: o.operation_id,
)
def test_parameter_names_types_and_requirements_agree(operation: Operation) -> None:
    group = next(g for g in ACTION_GROUPS if operation in _operations(g))
    declared = _declared(_schema_operations(group)[(operation.api_path, operation.http_method)])
    accepted = _accepted(operation.params)
    assert sorted(declared) == sorted(accepted)
    for name, (kind, fmt, required) in declared.items():
        assert required == accepted[name][2], f"{name}: required in schema {required}"
        assert _compatible((kind, fmt), accepted[name][:2]), (name, (kind, fmt), accepted[name])
