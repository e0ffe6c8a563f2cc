"""The bundled corpus as a whole: complete, reproducible from its specs
(``specs/<name>.yaml``, ``opx-harness author``), and each scenario doing -- under a real
replay -- what its name and description promise.

Snapshots pin every byte of a replay; these tests pin the *intent* of each scenario, so
a re-approved snapshot cannot quietly turn "throttled twice then succeeds" into
something else. A scenario's intent is either a spec's ``expect`` block (checked by
``opx-harness author`` itself) or a ``@check`` below, for what ``expect`` cannot say.

The per-scenario authoring rules (description length, tags, realistic tokens, priced
models, distinct clock starts) are enforced where an author meets them -- the spec's
validation (:mod:`harness.specs.model`) and ``opx-harness author`` -- not here.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.cli import author as author_cli
from harness.replayer import ReplayResult, replay
from harness.scenario import (
    Scenario,
    discover,
    load_scenario,
)
from harness.specs import load_spec
from harness.specs.model import ExecutorSpec
from opx.events import cloudwatch_incident_id
from opx.state import ALL_AGENTS, PARALLEL_AGENTS, STRATEGY_AGENT

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SPECS = ROOT / "specs"
#: The executor corpus (action-group scenarios have their own: tests/action_groups).
NAMES = [path.stem for path in discover(SCENARIOS) if load_scenario(path).kind == "executor"]
ACCOUNT = "123456789012"
KB400 = 400 * 1024


def _specs(*names: str) -> list[Path]:
    return [SPECS / f"{name}.yaml" for name in names]


@functools.cache
def _scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.json")


@functools.cache
def _replayed(name: str) -> ReplayResult:
    return replay(_scenario(name))


def _body(result: ReplayResult, index: int = 0) -> dict[str, Any]:
    return result.responses[index]["body"]


def _calls(result: ReplayResult, agent: str) -> list[dict[str, Any]]:
    return [call for call in result.bedrock_calls if call["agent"] == agent]


def _agent_result(result: ReplayResult, agent: str) -> dict[str, Any]:
    state = result.final_state
    assert state is not None
    return state["strategy"] if agent == STRATEGY_AGENT else state["hypotheses"][agent]


# --------------------------------------------------------------------------- the corpus


def test_corpus_has_at_least_14_distinct_scenarios() -> None:
    names = [_scenario(name).name for name in NAMES]
    assert len(names) >= 14
    assert len(set(names)) == len(names)
    assert names == NAMES  # every file is named after its scenario


@pytest.mark.slow
def test_author_check_passes() -> None:
    """The committed files are byte for byte what ``opx-harness author`` writes from the
    specs (in a fresh process, so this also proves authoring is deterministic across
    runs)."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "author",
            "--check",
            "--out",
            str(SCENARIOS),
            *map(str, _specs(*NAMES)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert f"{len(NAMES)} scenario files up to date" in run.stdout


def test_check_names_an_edited_and_a_missing_file(tmp_path: Path) -> None:
    rendered = author_cli.render(_specs("invalid-event", "redelivered-event"))
    edited = _scenario("invalid-event").model_copy(update={"description": "hand edit"})
    (tmp_path / "invalid-event.json").write_text(edited.to_json(), encoding="utf-8")
    assert author_cli.stale(rendered, tmp_path) == [
        f"{tmp_path / 'invalid-event.json'}: differs from what opx-harness author writes",
        f"{tmp_path / 'redelivered-event.json'}: missing",
    ]
    text = rendered["invalid-event.json"]
    assert '-  "description": "hand edit",' in author_cli.short_diff(
        tmp_path / "invalid-event.json", text
    )


def test_author_writes_only_changed_files(tmp_path: Path) -> None:
    rendered = author_cli.render(_specs("invalid-event"))
    assert rendered["invalid-event.json"] == (SCENARIOS / "invalid-event.json").read_text()
    (tmp_path / "recorded-elsewhere.json").write_text("{}\n", encoding="utf-8")
    assert author_cli.write(rendered, tmp_path) == ["invalid-event.json"]
    assert author_cli.write(rendered, tmp_path) == []  # unchanged files are not rewritten
    assert author_cli.stale(rendered, tmp_path) == []
    assert (tmp_path / "recorded-elsewhere.json").read_text() == "{}\n"  # never deleted


@pytest.mark.parametrize("name", NAMES)
def test_scenario_file_is_valid_readable_and_realistic(name: str) -> None:
    path = SCENARIOS / f"{name}.json"
    text = path.read_text(encoding="utf-8")
    scenario = _scenario(name)
    assert scenario.to_json() == text  # the canonical file form, nothing hand-mangled
    # Only the documentation account and example.com addresses.
    assert set(re.findall(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})", text)) <= {ACCOUNT}
    for event in scenario.events:
        # A non-object event (event-validation-bounds) has no account to check; nor has
        # one whose account is not 12 digits (refused there): it cannot be a real one.
        assert (
            not isinstance(event, dict)
            or event["account"] == ACCOUNT
            or not re.fullmatch(r"[0-9]{12}", event["account"])
        )
    # The domain after an "@" that follows a local-part character (a lookbehind, not a
    # leading [\w.+-]+: that backtracks quadratically over long base64 payloads).
    for email in re.findall(r"(?<=[\w.+-])@([\w-]+(?:\.[\w-]+)+)", text):
        assert email == "example.com" or email.endswith(".example.com"), email
    for interaction in scenario.interactions:
        assert (interaction.service, interaction.operation) == (
            "bedrock-agent-runtime",
            "InvokeAgent",
        )
        assert isinstance(interaction.request["inputText"], dict)  # decoded for reviewers


@pytest.mark.parametrize("name", NAMES)
def test_replay_is_repeatable(name: str) -> None:
    assert replay(_scenario(name)).to_canonical_json() == _replayed(name).to_canonical_json()


# --------------------------------------------------------------------------- per scenario

Check = Callable[[ReplayResult], None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


def _expects(name: str) -> bool:
    """Whether the scenario's spec pins its intent (``expect``, checked when authored)."""
    path = SPECS / f"{name}.yaml"
    spec = load_spec(path) if path.exists() else None
    return isinstance(spec, ExecutorSpec) and spec.expect is not None


def test_every_scenario_pins_its_intent() -> None:
    """Each scenario says what it is for: an ``expect`` block in its spec or a ``@check``
    here -- and no ``@check`` outlives its scenario."""
    assert set(CHECKS) <= set(NAMES), sorted(set(CHECKS) - set(NAMES))
    unpinned = [name for name in NAMES if name not in CHECKS and not _expects(name)]
    assert unpinned == [], f"add expect: to specs/<name>.yaml for {unpinned}"


def _succeeded_with(result: ReplayResult, top_action: str) -> dict[str, Any]:
    body = _body(result)
    assert result.responses[0]["statusCode"] == 200
    assert body["status"] == "SUCCEEDED"
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SUCCESS")
    assert body["errors"] == []
    assert body["recommendation"]["top_action"] == top_action
    assert len(result.bedrock_calls) == 6
    assert result.clock["slept_s"] == []
    return body


@check("apigw-5xx-after-deploy")
def _apigw(result: ReplayResult) -> None:
    body = _succeeded_with(result, "rollback")
    assert result.final_state["incident"]["severity"] == "SEV1"
    assert body["consensus"]["agreement_level"] == "HIGH"
    # The env overrides reach the requests: production-style agent and alias ids.
    interactions = _scenario("apigw-5xx-after-deploy").interactions
    assert {i.request["agentId"] for i in interactions} >= {"K3ZQ7WD1MA", "T4GC1YV6RN"}
    assert "TSTALIASID" not in {i.request["agentAliasId"] for i in interactions}
    assert result.final_state["cost"]["models"][STRATEGY_AGENT] == (
        "anthropic.claude-3-7-sonnet-20250219-v1:0"  # the us. profile, normalized
    )


@check("incident-published-twice")
def _published_twice(result: ReplayResult) -> None:
    """A producer's retry is a new event: its own execution, paid in full, and both
    executions found under the incident, oldest first."""
    bodies = [r["body"] for r in result.responses]
    assert [r["statusCode"] for r in result.responses] == [200, 200]
    assert {b["incident_id"] for b in bodies} == {"INC-2027-0610-0001"}
    first, second = (b["execution_id"] for b in bodies)
    assert first != second
    assert len(result.bedrock_calls) == 12
    assert result.index == {"INC-2027-0610-0001": [first, second]}


@check("rds-failover")
def _rds(result: ReplayResult) -> None:
    body = _succeeded_with(result, "restart")
    assert result.final_state["budget_usd"] == "1.00"  # no budget_usd: the default
    assert body["cost"]["budget"]["state"] == "OK"
    assert result.final_state["cost"]["models"]["knowledge-rag"] == "amazon.nova-pro-v1:0"


@check("lambda-timeout-cold-starts")
def _lambda(result: ReplayResult) -> None:
    body = _succeeded_with(result, "scale_out")
    assert body["consensus"]["agents"]["historical-pattern"]["partial"] is True
    assert _agent_result(result, "historical-pattern")["output"]["status"] == "PARTIAL"


@check("dynamodb-throttling")
def _dynamodb(result: ReplayResult) -> None:
    body = _succeeded_with(result, "scale_out")
    minority = {
        opinion["agent"]: opinion["action"] for opinion in body["consensus"]["minority_opinions"]
    }
    assert minority == {"knowledge-rag": "config_change"}


@check("cloudwatch-native-alarm")
def _cloudwatch(result: ReplayResult) -> None:
    _succeeded_with(result, "scale_out")
    event = _scenario("cloudwatch-native-alarm").events[0]
    assert (event["source"], event["detail-type"]) == (
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
    )
    incident = result.final_state["incident"]
    assert incident["incident_id"] == cloudwatch_incident_id(
        event["resources"][0], event["detail"]["state"]["timestamp"]
    )
    assert incident["service"] == "search-api"  # the ServiceName dimension
    assert incident["severity"] == "SEV2"  # none named in the alarm: the default
    [signal] = incident["signals"]
    assert (signal["threshold"], signal["observed_value"]) == (85.0, 97.3)
    assert result.final_state["budget_usd"] == "0.25"  # OPX_DEFAULT_BUDGET_USD override


@check("agent-malformed-output")
def _malformed(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "DEGRADED"
    assert body["errors"] == [
        {
            "agent": "knowledge-rag",
            "code": "MALFORMED_OUTPUT",
            "message": "no JSON object found in the completion",
        }
    ]
    failed = _agent_result(result, "knowledge-rag")
    assert failed["responses"][-1]["completion"].startswith("Here is my analysis")
    assert Decimal(body["cost"]["per_agent"]["knowledge-rag"]) > 0  # billed all the same
    assert body["recommendation"]["top_action"] == "disable_feature_flag"
    assert len(result.bedrock_calls) == 6


@check("agent-throttled-then-succeeds")
def _throttled(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "SUCCEEDED"
    calls = _calls(result, "signal-intelligence")
    assert [(c["attempt"], c["outcome"]) for c in calls] == [
        (0, "fault:throttlingException"),
        (1, "fault:throttlingException"),
        (2, "answer"),
    ]
    assert [c["input_tokens"] for c in calls] == [0, 0, 2720]
    assert _agent_result(result, "signal-intelligence")["attempts"] == 3
    assert result.clock["slept_s"] == [0.5, 1.0]
    assert len(result.bedrock_calls) == 8


@check("agent-access-denied")
def _access_denied(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "DEGRADED"
    [call] = _calls(result, "risk-blast-radius")
    assert call["outcome"] == "error:AccessDeniedException"
    denied = _agent_result(result, "risk-blast-radius")
    assert denied["status"] == "FAILURE" and denied["attempts"] == 1  # not retried
    assert denied["error"]["code"] == "AGENT_INVOCATION_FAILED"
    assert "bedrock:InvokeAgent" in denied["error"]["message"]
    assert result.clock["slept_s"] == []
    assert body["consensus"]["failed_agents"] == [
        {"agent": "risk-blast-radius", "status": "FAILURE", "code": "AGENT_INVOCATION_FAILED"}
    ]


@check("all-agents-failing")
def _all_failing(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "FAILED"
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "FAILURE")
    assert {e["agent"]: e["code"] for e in body["errors"]} == {
        "change-intelligence": "RETRIES_EXHAUSTED",
        "historical-pattern": "AGENT_INVOCATION_FAILED",
        "knowledge-rag": "RETRIES_EXHAUSTED",
        "response-strategy": "RETRIES_EXHAUSTED",
        "risk-blast-radius": "MALFORMED_OUTPUT",
        "signal-intelligence": "AGENT_INVOCATION_FAILED",
    }
    assert body["consensus"]["outcome"] == "NO_VOTERS"
    attempts = {agent: len(_calls(result, agent)) for agent in ALL_AGENTS}
    assert attempts == {
        "change-intelligence": 4,
        "historical-pattern": 1,
        "knowledge-rag": 4,
        "response-strategy": 4,
        "risk-blast-radius": 1,
        "signal-intelligence": 1,
    }
    assert result.clock["slept_s"] == [0.5] * 3 + [1.0] * 3 + [2.0] * 3
    # Only the truncated completion carried billable tokens.
    per_agent = body["cost"]["per_agent"]
    assert [a for a in per_agent if Decimal(per_agent[a]) > 0] == ["risk-blast-radius"]


@check("budget-exceeded")
def _budget(result: ReplayResult) -> None:
    # A fifth of 0.10 USD admits no first-wave call's worst case: nothing is paid.
    body = _body(result)
    assert body["status"] == "FAILED"
    assert result.bedrock_calls == []
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SKIPPED")
    assert {e["code"] for e in body["errors"]} == {"BUDGET_EXCEEDED"}
    budget = body["cost"]["budget"]
    assert budget["spent_usd"] == "0.000000"
    assert Decimal(budget["budget_usd"]) == Decimal("0.10")
    assert body["consensus"]["skipped_agents"] == [
        {"agent": agent, "code": "BUDGET_EXCEEDED"} for agent in sorted(ALL_AGENTS)
    ]


@check("agents-conflict")
def _conflict(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "SUCCEEDED"
    consensus = body["consensus"]
    [conflict] = [c for c in consensus["conflicts"] if c["topic"] == "primary_action"]
    assert {p["action"] for p in conflict["positions"]} == {"failover", "rollback", "scale_out"}
    assert consensus["agreement_level"] == "LOW"
    assert len(consensus["minority_opinions"]) >= 3
    assert min(a["confidence"] for a in consensus["agents"].values()) >= 0.83


@check("invalid-event")
def _invalid(result: ReplayResult) -> None:
    [response] = result.responses
    assert response["statusCode"] == 400
    assert response["body"]["error"] == "INPUT_VALIDATION_FAILED"
    assert [d["field"] for d in response["body"]["details"]] == [
        "detail.budget_usd",
        "detail.incident_id",
        "detail.priority",
        "detail.severity",
        "detail.signals",
        "detail.title",
    ]
    assert _scenario("invalid-event").interactions == []
    assert result.bedrock_calls == []
    assert result.final_state is None and result.checkpoints == []
    assert [m["Outcome"] for m in result.metrics] == ["invalid_input"]


@check("redelivered-event")
def _redelivered(result: ReplayResult) -> None:
    first, second = result.responses
    assert first["statusCode"] == 200 and _body(result)["status"] == "SUCCEEDED"
    assert second == first
    assert len(result.bedrock_calls) == 6
    assert sorted(c["agent"] for c in result.bedrock_calls) == sorted(ALL_AGENTS)
    assert [m["Outcome"] for m in result.metrics] == ["succeeded", "succeeded"]


@check("concurrent-duplicate-delivery")
def _concurrent(result: ReplayResult) -> None:
    first, second = result.responses
    assert (first["statusCode"], second["statusCode"]) == (200, 409)
    assert _body(result)["status"] == "SUCCEEDED"
    assert second["body"]["error"] == "EXECUTION_IN_PROGRESS"
    assert second["body"]["execution_id"] == first["body"]["execution_id"]
    # One set of Bedrock calls: every agent paid exactly once.
    assert sorted(c["agent"] for c in result.bedrock_calls) == sorted(ALL_AGENTS)
    assert [m["Outcome"] for m in result.metrics] == ["in_progress", "succeeded"]


@check("large-evidence-bundle")
def _large(result: ReplayResult) -> None:
    _succeeded_with(result, "config_change")
    incident = result.final_state["incident"]
    assert len(json.dumps(incident).encode()) > KB400  # larger than one DynamoDB item
    assert len(incident["evidence_bundle"]["log_lines"]) == 4200
    for interaction in _scenario("large-evidence-bundle").interactions:
        shown = interaction.request["inputText"]["context"]["incident"]["evidence_bundle"]
        assert shown["truncated"] is True
        assert len(shown["excerpt"]) == 20_000
        assert shown["original_chars"] > KB400


@check("fenced-json-output")
def _fenced(result: ReplayResult) -> None:
    _succeeded_with(result, "config_change")
    knowledge = _agent_result(result, "knowledge-rag")
    assert "```json" in knowledge["responses"][-1]["completion"]
    assert knowledge["output"]["confidence"] == 0.85


@check("unpriced-model")
def _unpriced(result: ReplayResult) -> None:
    _succeeded_with(result, "no_action")
    cost = result.final_state["cost"]
    assert cost["unpriced_models"] == ["anthropic.claude-opus-4-20250514-v1:0"]
    # Priced at the table's highest rates (0.003 in / 0.015 out per 1K): never free.
    assert cost["per_agent"][STRATEGY_AGENT] == "0.013890"


@check("consensus-two-voter-split")
def _two_voters(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "DEGRADED"
    consensus = body["consensus"]
    voting = {a for a, v in consensus["agents"].items() if v.get("voted", True)}
    assert sorted(f["agent"] for f in consensus["failed_agents"]) == sorted(
        set(ALL_AGENTS) - {"change-intelligence", "signal-intelligence"}
    )
    assert {"change-intelligence", "signal-intelligence"} <= voting
    [conflict] = consensus["conflicts"]
    assert conflict["topic"] == "primary_action"
    assert [(p["action"], p["agents"], p["weight_share"]) for p in conflict["positions"]] == [
        ("rollback", ["change-intelligence"], 0.5),
        ("scale_out", ["signal-intelligence"], 0.5),
    ]
    assert consensus["agreement_level"] == "MEDIUM"  # two voters: more than one voice
    assert [m["agent"] for m in consensus["minority_opinions"]] == ["signal-intelligence"]
    # response-strategy: throttled on every attempt, four calls, no answer.
    assert [c["outcome"] for c in _calls(result, STRATEGY_AGENT)] == [
        "fault:ThrottlingException"
    ] * 3 + ["error:ThrottlingException"]


@check("consensus-confidence-conflict")
def _confidence_conflict(result: ReplayResult) -> None:
    body = _succeeded_with(result, "restart")
    consensus = body["consensus"]
    assert consensus["agreement_level"] == "HIGH"
    [conflict] = consensus["conflicts"]
    assert conflict == {
        "topic": "confidence",
        "spread": 0.62,
        "highest": {"agents": ["signal-intelligence"], "confidence": 0.93},
        "lowest": {"agents": ["knowledge-rag"], "confidence": 0.31},
    }


@check("model-arn-ids")
def _model_arns(result: ReplayResult) -> None:
    _succeeded_with(result, "rollback")
    cost = result.final_state["cost"]
    assert cost["unpriced_models"] == []
    models = {c["agent"]: c["model_id"] for c in result.bedrock_calls}
    assert models["change-intelligence"].startswith("arn:aws:bedrock:us-east-1::foundation-model/")
    assert "inference-profile/us.anthropic" in models["signal-intelligence"]
    assert models["historical-pattern"].startswith("eu.")
    # Normalized to the base model in the cost report, and priced as it.
    assert cost["models"]["change-intelligence"] == "anthropic.claude-3-5-sonnet-20241022-v2:0"
    assert cost["models"]["signal-intelligence"] == "anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert cost["models"]["historical-pattern"] == "anthropic.claude-3-5-haiku-20241022-v1:0"
    # CHECKPOINT_TTL_DAYS=7: every item expires a week after it was written.
    assert {item["ttl"]["N"].split("+")[1] for item in result.table} == {"7d"}


@check("agent-failure-trace")
def _failure_trace(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "DEGRADED"
    assert body["errors"] == [
        {
            "agent": "knowledge-rag",
            "code": "EMPTY_COMPLETION",
            "message": "the agent returned no text; failure trace: "
            "Knowledge base retrieval timed out",
        },
        {
            "agent": "risk-blast-radius",
            "code": "EMPTY_COMPLETION",
            "message": "the agent returned no text",
        },
    ]
    # Billed although they failed: the model ran.
    assert result.final_state["cost"]["per_agent"]["knowledge-rag"] != "0.000000"


@check("agent-two-failure-traces")
def _two_failure_traces(result: ReplayResult) -> None:
    """Two failure traces with different reasons: the first (the cause) is named, not
    the follow-on abort that came after it."""
    body = _body(result)
    assert body["status"] == "DEGRADED"
    [error] = [e for e in body["errors"] if e["agent"] == "knowledge-rag"]
    assert error["message"] == (
        "the agent returned no text; failure trace: Knowledge base retrieval timed out"
    )


def _lease_lasts(seconds: int) -> Check:
    """An ``invocation-time-*`` scenario: the lease its release left behind lasts what the
    invocation's time left buys (rounded up to whole seconds; none left -> the default)."""

    def verify(result: ReplayResult) -> None:
        [lease] = [item for item in result.table if item["checkpoint_id"]["S"] == "!lease"]
        assert lease["expires_at"]["N"] == f"clock.start+{seconds}s"
        assert [r["statusCode"] for r in result.responses] == [500, 200]

    return verify


for _name, _seconds in {
    "invocation-time-0ms": 900,
    "invocation-time-999ms": 1,
    "invocation-time-1000ms": 1,
    "invocation-time-1001ms": 2,
}.items():
    check(_name)(_lease_lasts(_seconds))


@check("config-error")
def _config_error(result: ReplayResult) -> None:
    [response] = result.responses
    assert response["statusCode"] == 500
    assert response["body"]["error"] == "CONFIGURATION_ERROR"
    assert "OPX_AGENT_MAX_ATTEMPTS" in response["body"]["message"]
    assert result.bedrock_calls == [] and result.table == []
    assert [m["Outcome"] for m in result.metrics] == ["error"]


@check("event-validation-bounds")
def _event_bounds(result: ReplayResult) -> None:
    # Exactly the fields over a limit are named: a value *at* a limit is accepted.
    assert [r["statusCode"] for r in result.responses] == [400] * 15
    assert [[d["field"] for d in r["body"]["details"]] for r in result.responses] == [
        ["$"],
        ["detail-type", "id"],
        ["detail-type", "id"],
        ["detail.service", "detail.title"],
        ["detail.service", "detail.severity"],
        ["source/detail-type"],
        ["detail.signals"],
        ["detail.alarmName", "detail.state.timestamp"],
        ["detail.state.value"],
        ["detail.budget_usd", "detail.incident_id", "detail.signals", "detail.title"],
        ["detail.budget_usd", "detail.incident_id"],
        ["account", "source"],
        ["account"],
        ["source/detail-type"],
        ["source/detail-type"],
    ]
    assert result.responses[0]["body"]["details"][0]["message"].endswith("got list")
    assert "aws.health/AWS Health Event" in result.responses[5]["body"]["details"][0]["message"]
    assert result.bedrock_calls == [] and result.table == []


@check("bounds-event-accepted")
def _event_at_limits(result: ReplayResult) -> None:
    """Budget 1000, 128/512/1024 characters, 100 signals, one character each: all read.
    Evidence of 20000 characters is shown whole, of 20001 truncated; a stored error of
    1000 characters is kept whole, of 1001 cut to 1000."""
    assert [r["statusCode"] for r in result.responses] == [200] * 4
    assert [_body(result, i)["status"] for i in range(4)] == [
        "DEGRADED",
        "FAILED",
        "FAILED",
        "DEGRADED",
    ]
    assert _body(result, 0)["cost"]["budget"]["budget_usd"] == "1000.000000"
    assert [len(_body(result, i)["incident_id"]) for i in (1, 2)] == [128, 1]
    assert len(result.bedrock_calls) == 2 * len(ALL_AGENTS)
    evidence = [
        i.request["inputText"]["context"]["incident"]["evidence_bundle"]
        for i in _scenario("bounds-event-accepted").interactions
        if i.request["inputText"]["agent"] == "signal-intelligence"
    ]
    assert sorted(e.get("truncated", False) for e in evidence) == [False, True]
    for index in (0, 3):
        messages = {e["agent"]: e["message"] for e in _body(result, index)["errors"]}
        assert len(messages["knowledge-rag"]) == 1000
        assert not messages["knowledge-rag"].endswith("...")
        assert len(messages["risk-blast-radius"]) == 1000
        assert messages["risk-blast-radius"].endswith("...")


@check("bounds-agent-output")
def _output_at_limits(result: ReplayResult) -> None:
    """At every contract limit: accepted; one past: CONTRACT_VIOLATION naming the field."""
    body = _body(result)
    assert body["agents"] == {
        "change-intelligence": "SUCCESS",
        "historical-pattern": "FAILURE",
        "knowledge-rag": "FAILURE",
        "response-strategy": "SUCCESS",
        "risk-blast-radius": "FAILURE",
        "signal-intelligence": "SUCCESS",
    }
    fields = {
        e["agent"]: re.findall(r"(\S+) \[", e["message"])
        for e in body["errors"]
        if e["code"] == "CONTRACT_VIOLATION"
    }
    per_field = [
        "confidence",
        "hypothesis",
        "findings.recommendations.0.type",
        "findings.recommendations.0.description",
        "findings.recommendations.0.confidence",
    ]
    assert fields == {
        "historical-pattern": per_field,
        "knowledge-rag": per_field,
        "risk-blast-radius": ["findings.recommendations"],
    }


@check("bounds-config-minimums")
def _config_minimums(result: ReplayResult) -> None:
    """Every numeric setting at its minimum is accepted: a 200, not a 500."""
    [response] = result.responses
    assert response["statusCode"] == 200
    assert _body(result)["agents"] == dict.fromkeys(ALL_AGENTS, "SKIPPED")
    assert result.bedrock_calls == []


@check("config-at-the-bounds")
def _config_bounds(result: ReplayResult) -> None:
    # TTL 1, budget 0 and an empty flag are accepted; 11 attempts is one too many.
    [response] = result.responses
    assert response["statusCode"] == 500
    assert response["body"]["message"] == "OPX_AGENT_MAX_ATTEMPTS=11 is outside 1..10"
    assert result.bedrock_calls == [] and result.table == []


@check("consensus-single-voter")
def _single_voter(result: ReplayResult) -> None:
    body = _body(result)
    consensus = body["consensus"]
    # One voter: agreement is capped at LOW although its first choice has the whole weight.
    assert consensus["participating_agents"] == ["change-intelligence"]
    assert (consensus["agreement_ratio"], consensus["agreement_level"]) == (1.0, "LOW")
    # Two spellings of rollback at equal confidence: the smaller description is kept.
    [rollback] = body["recommendation"]["actions"]
    assert rollback["description"] == "Revert the signature library to 3.2."
    outcomes = {
        agent: [c["outcome"] for c in _calls(result, agent)]
        for agent in ("change-intelligence", "signal-intelligence", "knowledge-rag")
    }
    # Codes botocore cannot name ("503", the status) are retried on the status: every one
    # of 500, 502, 503 and 504 is pinned here.
    assert outcomes["change-intelligence"] == [
        "fault:Throttling",
        "fault:503",
        "fault:502",
        "answer",
    ]
    assert outcomes["signal-intelligence"] == ["fault:504"] * 3 + ["error:504"]
    assert outcomes["knowledge-rag"] == ["fault:500", "answer"]
    assert result.clock["slept_s"].count(0.5) == 4  # one first backoff per retried agent
    errors = {e["agent"]: e for e in body["errors"]}
    assert errors["signal-intelligence"]["code"] == "RETRIES_EXHAUSTED"
    assert errors["signal-intelligence"]["message"].endswith("last error 504: Gateway Timeout")
    denied = errors["historical-pattern"]["message"]
    assert len(denied) == 1000 and denied.endswith("...")
    assert errors["knowledge-rag"]["message"].endswith("hypothesis [string_too_long]")


@check("consensus-no-recommendations")
def _no_recommendations(result: ReplayResult) -> None:
    body = _body(result)
    consensus = body["consensus"]
    assert consensus["outcome"] == "NO_ACTIONS"
    assert len(consensus["participating_agents"]) == 6  # the array-wrapped answer counts
    # The lead is the highest weight x confidence, not the first voter by name.
    assert body["recommendation"]["lead_hypothesis"]["agent"] == "signal-intelligence"
    [conflict] = consensus["conflicts"]
    assert conflict["topic"] == "confidence"
    assert conflict["lowest"] == {
        "agents": ["knowledge-rag", "risk-blast-radius"],
        "confidence": 0.32,
    }


@check("consensus-two-voter-spread")
def _two_voter_spread(result: ReplayResult) -> None:
    consensus = _body(result)["consensus"]
    assert consensus["participating_agents"] == ["response-strategy", "signal-intelligence"]
    [conflict] = consensus["conflicts"]
    assert conflict["topic"] == "confidence" and conflict["spread"] == 0.54
    output = _agent_result(result, "signal-intelligence")["output"]
    assert len(output["hypothesis"]) == 4000  # the contract's limit, accepted


@check("budget-exceeded-by-last-call")
def _exceeded_by_last_call(result: ReplayResult) -> None:
    body = _body(result)
    # Nobody failed: DEGRADED comes from the budget alone.
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SUCCESS") and body["errors"] == []
    assert body["cost"]["budget"]["state"] == "EXCEEDED"
    assert body["status"] == "DEGRADED"


@check("agent-unreachable")
def _unreachable(result: ReplayResult) -> None:
    body = _body(result)
    errors = {e["agent"]: e for e in body["errors"]}
    assert sorted(errors) == ["knowledge-rag", "signal-intelligence"]
    assert {e["code"] for e in errors.values()} == {"AGENT_UNREACHABLE"}
    assert errors["signal-intelligence"]["message"].startswith("ReadTimeoutError: ")
    assert errors["knowledge-rag"]["message"].startswith("ConnectionClosedError: ")
    # Not retried: one call each, the answer scripted after the fault never served.
    assert [c["outcome"] for c in _calls(result, "signal-intelligence")] == [
        "error:ReadTimeoutError"
    ]
    assert [c["outcome"] for c in _calls(result, "knowledge-rag")] == [
        "error:ConnectionClosedError"
    ]


@check("config-empty-agent-id")
def _empty_agent_id(result: ReplayResult) -> None:
    # Max attempts 10 and the flag 'no' are accepted; an empty id is not "unset".
    [response] = result.responses
    assert response["statusCode"] == 500
    assert response["body"]["message"].startswith("OPX_AGENT_KNOWLEDGE_RAG_ID / ")
    assert result.bedrock_calls == [] and result.table == []


@check("in-memory-redelivery")
def _in_memory_redelivery(result: ReplayResult) -> None:
    first, second = result.responses
    assert first == second and first["statusCode"] == 200
    assert len(result.bedrock_calls) == 6  # the redelivery is answered from memory
    assert result.table == []  # no checkpoint table on this stage
    assert first["body"]["cost"]["budget"]["budget_usd"] == "0.350000"  # the default budget


@check("agent-output-edge-cases")
def _edge_outputs(result: ReplayResult) -> None:
    body = _body(result)
    assert body["status"] == "DEGRADED"
    assert body["errors"] == [
        {
            "agent": "knowledge-rag",
            "code": "MALFORMED_OUTPUT",
            "message": "no JSON object found in the completion",
        },
        {
            "agent": "risk-blast-radius",
            "code": "CONTRACT_VIOLATION",
            # 1e999 is read as infinity: not finite, rather than over 1 -- the answer's
            # confidence and its recommendation's alike.
            "message": "output violates the agent contract at: confidence [finite_number]; "
            "findings.recommendations.0.description [string_too_short]; "
            "findings.recommendations.0.confidence [finite_number]",
        },
    ]
    # The object right after a stray "{" is found, not one nested inside it.
    change = _agent_result(result, "change-intelligence")["output"]
    assert change["confidence"] == 0.72
    consensus = body["consensus"]
    assert consensus["agents"]["change-intelligence"]["primary_action"] == "config_change"
    # Two spellings of one action: one vote, the more confident entry (0.85).
    assert consensus["agents"]["signal-intelligence"]["primary_action"] == "scale_out"
    [scale_out] = [a for a in body["recommendation"]["actions"] if a["type"] == "scale_out"]
    signal = [v for v in scale_out["by_agent"] if v["agent"] == "signal-intelligence"]
    assert signal == [
        {"agent": "signal-intelligence", "confidence": 0.85, "description": "Add two nodes."}
    ]


def _refused(result: ReplayResult, reason: str, *, item: str = "") -> None:
    """A seeded, tampered checkpoint table: 500 CHECKPOINT_CORRUPT naming the item
    (its sort key) and why, no Bedrock call, and the read-back refuses it too."""
    (response,) = result.responses
    assert response["statusCode"] == 500
    body = response["body"]
    assert body["error"] == "CHECKPOINT_CORRUPT"
    assert reason in body["message"]
    assert ", item '#" in body["message"] and item in body["message"]
    assert result.bedrock_calls == []
    assert [m["Outcome"] for m in result.metrics] == ["error"]
    assert result.checkpoints == []
    assert result.unreadable is not None and reason in result.unreadable


#: Seeded-table scenarios refused as CHECKPOINT_CORRUPT: why, and the item's key part.
#: ``checkpoint-payload-truncated`` is cut to exactly its 32-byte digest: the pin
#: still holds, the digest does not.
REFUSALS: dict[str, tuple[str, str]] = {
    "checkpoint-head-edited": ("ValueError: payload digest mismatch", ""),
    "checkpoint-payload-truncated": ("ValueError: payload digest mismatch", ""),
    "checkpoint-frame-truncated": ("ValueError: payload frame is truncated", ""),
    "checkpoint-head-moved": ("ValueError: checkpoint payload does not belong to this item", ""),
    "checkpoint-chunk-truncated": (
        "chunks do not belong to this owner (digest differs from its pin)",
        "",
    ),
    "checkpoint-write-retagged": ("ValueError: write payload has the wrong shape", "#w#"),
}
for _name, (_reason, _item) in REFUSALS.items():
    check(_name)(functools.partial(_refused, reason=_reason, item=_item))


@check("checkpoint-key-escaped")
def _key_escaped(result: ReplayResult) -> None:
    """A sort key spelling its checkpoint id with a %XX escape names that checkpoint:
    the stored answer, no Bedrock call."""
    body = _body(result)
    assert result.responses[0]["statusCode"] == 200
    assert body["status"] == "SUCCEEDED"
    assert result.bedrock_calls == []
    # The read-back lists the escaped head as that checkpoint too (the only one left).
    assert len(result.checkpoints) == 1
    assert all("unreadable" not in entry for entry in result.checkpoints)


@check("checkpoint-interrupted-resume")
def _interrupted_resume(result: ReplayResult) -> None:
    """Seeded from a run that stored three checkpoints (the five parallel answers) but
    not response-strategy's answer: the resume pays only response-strategy."""
    body = _body(result)
    assert body["status"] == "SUCCEEDED"
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SUCCESS")
    paid = sorted(c["agent"] for c in result.bedrock_calls)
    assert paid == ["response-strategy"]
    # The stored answers still count in the cost, though not paid again.
    assert set(body["cost"]["per_agent"]) == set(ALL_AGENTS)


@check("checkpoint-expired-write")
def _expired_write(result: ReplayResult) -> None:
    """A stored answer past its TTL (not yet deleted by DynamoDB) is absent: asked again,
    stored in the task's next write slot, since the expired key stays occupied."""
    assert _body(result)["status"] == "SUCCEEDED"
    paid = sorted(c["agent"] for c in result.bedrock_calls)
    assert paid == ["response-strategy"]
    slots = [
        item["checkpoint_id"]["S"].rsplit("#", 1)[-1]
        for item in result.table
        if "response-strategy]" in item["checkpoint_id"]["S"]
    ]
    assert slots == ["r", "r1"]


# Issue 15 (branch scenarios): settings refused at cold start, alarm shapes, edited tables.

#: Settings a cold start refuses: the message each 500 CONFIGURATION_ERROR names.
CONFIG_REFUSALS: dict[str, str] = {
    "config-bad-flag": "USE_DYNAMODB_CHECKPOINTING='enabled' is not a boolean (use true or false)",
    "config-bad-budget": "OPX_DEFAULT_BUDGET_USD='10 €' is not a decimal amount",
    "config-negative-budget": "OPX_DEFAULT_BUDGET_USD='-0.50' must be a non-negative amount",
    "config-ttl-out-of-range": "CHECKPOINT_TTL_DAYS=366 is outside 1..365",
    "config-budget-above-cap": "OPX_DEFAULT_BUDGET_USD='2000000000000' must be below "
    "1000000000000, the largest amount the budget guardian accepts",
    # Every variable read before the output-token limit holds its maximum, accepted.
    "config-upper-bounds": "OPX_AGENT_MAX_OUTPUT_TOKENS=0 is outside 1..1000000",
    # One past each bound of the settings reader (their at-bound neighbours are accepted
    # in config-at-the-bounds, config-upper-bounds, bounds-config-minimums and
    # bounds-event-accepted).
    "bounds-config-ttl-zero": "CHECKPOINT_TTL_DAYS=0 is outside 1..365",
    "bounds-config-attempts-zero": "OPX_AGENT_MAX_ATTEMPTS=0 is outside 1..10",
    "bounds-config-overhead-negative": "OPX_AGENT_PROMPT_OVERHEAD_TOKENS=-1 is outside 0..1000000",
    "bounds-config-overhead-over": "OPX_AGENT_PROMPT_OVERHEAD_TOKENS=1000001 is outside 0..1000000",
    "bounds-config-output-over": "OPX_AGENT_MAX_OUTPUT_TOKENS=1000001 is outside 1..1000000",
    "bounds-config-budget-at-cap": "OPX_DEFAULT_BUDGET_USD='1000000000000' must be below "
    "1000000000000, the largest amount the budget guardian accepts",
    "bounds-config-agent-id-over": "OPX_AGENT_SIGNAL_INTELLIGENCE_ID / "
    "OPX_AGENT_SIGNAL_INTELLIGENCE_ALIAS_ID: agent_id 'OPXSIGNAL12' does not match "
    "^[0-9a-zA-Z]{1,10}$",
}


def _config_refused(result: ReplayResult, message: str) -> None:
    [response] = result.responses
    assert response["statusCode"] == 500
    assert response["body"] == {
        "error": "CONFIGURATION_ERROR",
        "message": message,
        "execution_id": response["body"]["execution_id"],
    }
    assert result.bedrock_calls == [] and result.table == []


for _name, _message in CONFIG_REFUSALS.items():
    check(_name)(functools.partial(_config_refused, message=_message))

REFUSALS_ISSUE15 = {
    "checkpoint-chunk-dropped": ("ValueError: 1 of 2 chunks are missing (0)", ""),
}
for _name, (_reason, _item) in REFUSALS_ISSUE15.items():
    check(_name)(functools.partial(_refused, reason=_reason, item=_item))


@check("event-normalization-edges")
def _normalization_edges(result: ReplayResult) -> None:
    """Four alarms whose reasonData gives no usable number run with unknown threshold and
    value; the first, without a service dimension, is named after its alarm. A zero
    budget skips every agent before any call."""
    assert [r["statusCode"] for r in result.responses] == [200] * 5
    contexts = [
        i.request["inputText"]["context"]["incident"]
        for i in _scenario("event-normalization-edges").interactions
        if i.request["inputText"]["agent"] == "signal-intelligence"
    ]
    assert sorted(c["service"] for c in contexts) == [
        "ledger-db-1",
        "orders-dlq-depth",
        "payments-api",
        "render-fn",
    ]
    for context in contexts:
        [signal] = context["signals"]
        assert signal["threshold"] is None and signal["observed_value"] is None
    assert len(result.bedrock_calls) == 4 * len(ALL_AGENTS)
    zero = _body(result, 4)
    assert zero["agents"] == dict.fromkeys(ALL_AGENTS, "SKIPPED")
    assert zero["cost"]["budget"]["state"] == "EXCEEDED"
    assert zero["cost"]["budget"]["utilization"] is None


#: What each delivery of ``checkpoint-edited-items`` reads back, in order.
EDITED_ITEMS: list[str] = [
    "owner item's pin does not match its attributes",
    "owner item has neither payload nor chunks",
    "chunk count '100000000000000000000000...' is outside 1..64",
    "chunked owner item has no digest",
    "owner item's pin does not match its attributes",
    "owner item's pin does not match its attributes",
    "unknown payload frame version",
    "payload frame has trailing bytes",
    "payload names types outside the allowlist: ['os.getenv']",
    "refused payload type 'pickle'",
    "write payload has the wrong shape",
    "truncated escape in sort-key part 'zz%4'",
    "sort key '#zz#x#y' does not follow the checkpoint layout",
    "sort key '#zz#cxx' does not follow the checkpoint layout",
    "sort key '$' does not follow the checkpoint layout",
]


@check("checkpoint-edited-items")
def _edited_items(result: ReplayResult) -> None:
    """Every edit is refused with its own reason, except the two the executor reads past:
    an expired newest head (resumed from the checkpoint before it) and a lapsed lease."""
    corrupt, tolerated = result.responses[:-2], result.responses[-2:]
    assert [r["body"]["error"] for r in corrupt] == ["CHECKPOINT_CORRUPT"] * len(EDITED_ITEMS)
    for response, reason in zip(corrupt, EDITED_ITEMS, strict=True):
        assert response["statusCode"] == 500 and reason in response["body"]["message"]
    assert [r["statusCode"] for r in tolerated] == [200, 200]
    assert result.bedrock_calls == []


@check("checkpoint-answers-edited")
def _answers_edited(result: ReplayResult) -> None:
    """Stored SUCCESS answers edited past the agent contract become failed voters
    (consensus's second line), never a crash; a removed answer is simply absent."""
    failed = [
        {a["agent"]: a["code"] for a in _body(result, n)["consensus"]["failed_agents"]}
        for n in range(3)
    ]
    invalid = "CONSENSUS_INVALID_OUTPUT"
    assert failed[0] == {
        **dict.fromkeys(PARALLEL_AGENTS, invalid),
        STRATEGY_AGENT: "AGENT_INTERNAL_ERROR",
    }
    assert failed[1] == {
        "historical-pattern": invalid,
        "knowledge-rag": invalid,
        "risk-blast-radius": invalid,
        "signal-intelligence": "UNKNOWN",
    }
    assert "change-intelligence" not in _body(result, 1)["agents"]
    # A status no agent reports is a failure, never a vote (it sorts after SUCCESS);
    # so is a negative confidence, while an integer 0 is a (weightless) vote.
    assert failed[2] == {
        "change-intelligence": invalid,
        "historical-pattern": invalid,
        "knowledge-rag": "UNKNOWN",
        "risk-blast-radius": invalid,
    }
    assert _body(result, 2)["consensus"]["agents"]["signal-intelligence"]["confidence"] == 0
    # Duplicate slots of one task: the first write per index wins -- slot r over r1,
    # and r123456 (no regular slot: read as a special one, first) over r.
    assert _body(result, 0)["consensus"]["agents"].get("change-intelligence") is None
    assert "knowledge-rag" in failed[0]
    # Only the second execution's response-strategy is asked: the first's context
    # cannot render (a NaN confidence), the third's answer was stored.
    assert [c["agent"] for c in result.bedrock_calls] == [STRATEGY_AGENT]


@check("checkpoint-write-slot-raced")
def _write_slot_raced(result: ReplayResult) -> None:
    """The last task's write refused four times as taken: the fifth conditional write
    (the last the checkpointer tries) lands in slot ``r`` and the run goes on. The second
    execution's write is refused on all five attempts: given up, no sixth, 500."""
    body = _body(result, 0)
    assert result.responses[0]["statusCode"] == 200
    assert body["status"] == "FAILED"
    assert set(body["agents"].values()) == {"SKIPPED"}
    answers = [c["answer"] for c in result.dynamodb_calls or [] if c.get("item") == "write"]
    refused = "fault:http:ConditionalCheckFailedException"
    assert answers[8:] == [refused] * 4 + ["moto"] + [refused] * 5
    assert result.responses[1]["statusCode"] == 500
    assert _body(result, 1)["error"] == "EXECUTION_FAILED"
    assert "no free write slot after 5 attempts" in _body(result, 1)["message"]
    assert result.bedrock_calls == []


#: What each delivery of ``checkpoint-edited-resumes`` answers, in order.
EDITED_RESUMES: list[tuple[int, str, str]] = [
    (500, "CHECKPOINT_CORRUPT", "chunk count '0' is outside 1..64"),
    (500, "CHECKPOINT_CORRUPT", "chunked owner item has no digest"),
    (500, "CHECKPOINT_CORRUPT", "write payload has the wrong shape"),
    (500, "EXECUTION_FAILED", "budget must be a finite amount in [0, 1000000000000), got -1"),
    (500, "EXECUTION_FAILED", "'signal-intelligence' says it is from 'change-intelligence-"),
    (409, "EXECUTION_IN_PROGRESS", "is in progress in another invocation"),
    (500, "EXECUTION_FAILED", "TypeError: usage.input_tokens must be an int, got '12'"),
    (500, "CHECKPOINT_CORRUPT", "ValueError: 64 of 64 chunks are missing (0, 1, 2"),
    (200, "", ""),  # the lost head: its leftover writes skipped, resumed from the one before
    (500, "CHECKPOINT_CORRUPT", "is not hex digits"),
    # A count of 24 characters is shown whole, one of 25 cut to its first 24.
    (500, "CHECKPOINT_CORRUPT", "chunk count '1" + "0" * 23 + "' is outside 1..64"),
    (500, "CHECKPOINT_CORRUPT", "chunk count '1" + "0" * 23 + "...' is outside 1..64"),
]


@check("checkpoint-edited-resumes")
def _edited_resumes(result: ReplayResult) -> None:
    """Each edit is refused with its own named reason -- never a resume from it, a
    bare traceback or a Bedrock call; the edited lease without its expiry still holds."""
    assert len(result.responses) == len(EDITED_RESUMES)
    for response, (status, error, reason) in zip(result.responses, EDITED_RESUMES, strict=True):
        assert response["statusCode"] == status
        if status == 200:
            # Every agent skipped by the zero budget, none refused by a corrupt read.
            assert response["body"]["status"] == "FAILED"
            assert set(response["body"]["agents"].values()) == {"SKIPPED"}
            continue
        assert response["body"]["error"] == error
        assert reason in response["body"]["message"]
    assert "lease until" not in result.responses[5]["body"]["message"]
    # An error message is cut at 1,000 characters (the relabel is 1,001 long).
    assert len(result.responses[4]["body"]["message"]) == 1000
    assert result.bedrock_calls == []


@check("cost-token-count-at-bound")
def _token_count_at_bound(result: ReplayResult) -> None:
    """A token count of exactly ``MAX_TOKENS`` is priced, to the micro-dollar, not refused."""
    from opx.cost import MAX_TOKENS

    cost = _body(result, 0)["cost"]
    (call,) = _calls(result, "knowledge-rag")
    assert (call["input_tokens"], call["output_tokens"]) == (MAX_TOKENS, 260)
    assert call["cost_usd"] == cost["per_agent"]["knowledge-rag"] == "800000000.001040"
    assert cost["budget"]["state"] == "EXCEEDED"
    assert _body(result, 0)["agents"]["response-strategy"] == "SKIPPED"


#: Severity read from a CloudWatch alarm's name, then its description (SEV1..SEV4 as a
#: whole word, any case), else the default SEV2.
ALARM_SEVERITIES = {
    "alarm-severity-sev1-in-name": "SEV1",
    "alarm-severity-sev3-in-description": "SEV3",
    "alarm-severity-name-first": "SEV4",
    "alarm-severity-sev5-ignored": "SEV2",
    "alarm-severity-sev12-ignored": "SEV2",
}


def _alarm_severity(expected: str) -> Check:
    def verify(result: ReplayResult) -> None:
        """The one alarm's severity comes from its text; the run is otherwise ordinary."""
        _succeeded_with(result, "investigate")
        assert result.final_state["incident"]["severity"] == expected

    return verify


for _name, _severity in ALARM_SEVERITIES.items():
    check(_name)(_alarm_severity(_severity))


@check("alarm-reason-datapoints")
def _reason_datapoints(result: ReplayResult) -> None:
    """recentDatapoints that is no list, or an empty one, leaves the observed value
    unknown without refusing the alarm; a list gives its last (newest) point."""
    assert [r["statusCode"] for r in result.responses] == [200] * 5
    assert {_body(result, n)["status"] for n in range(5)} == {"SUCCEEDED"}
    [signal] = result.final_state["incident"]["signals"]
    assert (signal["threshold"], signal["observed_value"]) == (5.0, 7.25)


@check("alarm-foreign-sources")
def _foreign_sources(result: ReplayResult) -> None:
    """Each foreign source/detail-type pair is refused, named, before any work."""
    pairs = [(e["source"], e["detail-type"]) for e in _scenario("alarm-foreign-sources").events]
    assert [r["statusCode"] for r in result.responses] == [400] * len(pairs)
    for n, (source, detail_type) in enumerate(pairs):
        [detail] = _body(result, n)["details"]
        assert detail["field"] == "source/detail-type"
        assert detail["message"].startswith(f"unsupported event {source}/{detail_type};")
    assert result.bedrock_calls == [] and result.table == []


@check("budget-warn-band")
def _warn_band(result: ReplayResult) -> None:
    """The same 0.144 USD spend at 80 %, 90 % and just under 80 % of the budget."""
    budgets = [_body(result, n)["cost"]["budget"] for n in range(3)]
    assert {b["spent_usd"] for b in budgets} == {"0.144000"}
    assert [(b["state"], b["utilization"]) for b in budgets] == [
        ("WARN", "0.8000"),
        ("WARN", "0.9000"),
        ("OK", "0.7999"),
    ]
    assert {_body(result, n)["status"] for n in range(3)} == {"SUCCEEDED"}


@check("checkpoint-answer-misattributed")
def _answer_misattributed(result: ReplayResult) -> None:
    """A stored answer re-sealed under another agent's name: both deliveries answer a
    500 naming the two agents; response-strategy is paid once; the consensus task's
    failure is stored as its error write (special slot -1), replaced by the retry."""
    bodies = [_body(result, n) for n in range(2)]
    assert [r["statusCode"] for r in result.responses] == [500, 500]
    assert bodies[0] == bodies[1]
    assert bodies[0]["error"] == "EXECUTION_FAILED"
    assert "'change-intelligence' says it is from 'knowledge-rag'" in bodies[0]["message"]
    assert [c["agent"] for c in result.bedrock_calls] == [STRATEGY_AGENT]
    keys = [item["checkpoint_id"]["S"] for item in result.table]
    assert [k for k in keys if k.endswith("#-1")] == [
        "#checkpoint-3#w#task[~__pregel_pull, consensus]#-1"
    ]


# Last: ``CHECKS`` is filled by the ``@check`` functions above; one defined below this
# line would never run, which the next test refuses.
DESCRIBED = sorted(CHECKS)


@pytest.mark.parametrize("name", DESCRIBED)
def test_scenario_does_what_it_describes(name: str) -> None:
    CHECKS[name](_replayed(name))


def test_every_check_is_collected() -> None:
    """A ``@check`` registered after the parametrize line above is silently never run."""
    assert sorted(CHECKS) == DESCRIBED, sorted(set(CHECKS) - set(DESCRIBED))
