"""Scenario specs (``specs/*.yaml``, :mod:`harness.specs`): a bad spec is one line
naming the file and the field, ``opx-harness author --check`` notices a stale
scenario, and spec -> scenario -> file -> scenario is lossless."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main as harness_main
from harness.cli.author import main as author_main
from harness.scenario import load_scenario
from harness.specs import SpecError, compile_spec, load_spec
from harness.specs.compile import expand
from harness.specs.generators import GENERATORS
from harness.specs.model import ACCOUNT, DEFAULT_MODEL, ExecutorSpec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SCENARIOS = ROOT / "scenarios"
ALL_SPECS = sorted(SPECS.glob("*.yaml"))
#: The smallest spec of each kind: no Bedrock call, no AWS call -- authored in a second.
SMALL = {"executor": "invalid-event", "action-group": "ag-contract-errors"}


def _spec_data(name: str) -> dict:
    data = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_every_spec_is_valid_and_names_its_scenario(path: Path) -> None:
    spec = load_spec(path)
    assert spec.name == path.stem
    assert (SCENARIOS / f"{spec.name}.json").exists()


def test_specs_hold_decisions_not_defaults() -> None:
    """What the model's defaults fill is not repeated in the files (account, region,
    the default model, the disclaimer, the scenario's name). Events given verbatim --
    another source's shape, a broken producer -- stay verbatim."""
    for path in ALL_SPECS:
        text = path.read_text(encoding="utf-8")
        assert "\nname:" not in text and not text.startswith("name:"), path.name
        assert f"model: {DEFAULT_MODEL}" not in text, path.name
        assert not re.search(r"^ *disclaimer:", text, re.MULTILINE), path.name
        incident = yaml.safe_load(text).get("incident") or {}
        assert not {"account", "region", "version", "source"} & set(incident), path.name


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", sorted(SMALL.values()))
def test_round_trip_spec_to_file_to_scenario(name: str, tmp_path: Path) -> None:
    """The validated spec dumps and validates back to itself; the scenario it compiles
    to is the committed file, and reads back from the written file unchanged."""
    spec = load_spec(SPECS / f"{name}.yaml")
    assert type(spec).model_validate(spec.model_dump()) == spec
    scenario = compile_spec(spec)
    assert scenario.to_json() == (SCENARIOS / f"{name}.json").read_text(encoding="utf-8")
    assert author_main(["--out", str(tmp_path), str(SPECS / f"{name}.yaml")]) == 0
    assert load_scenario(tmp_path / f"{name}.json") == scenario


# --------------------------------------------------------------------------- --check


def test_check_detects_a_stale_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Self-test: edit a copy of a spec, and ``--check`` against the committed files
    exits 1, names the file and shows the change; nothing is written."""
    data = _spec_data("invalid-event")
    data["description"] = "Edited. " + data["description"]
    spec = _write(tmp_path, "invalid-event", data)
    before = (SCENARIOS / "invalid-event.json").read_bytes()
    assert author_main(["--check", "--out", str(SCENARIOS), str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{SCENARIOS / 'invalid-event.json'}: differs from what opx-harness author writes" in err
    assert '\n+  "description": "Edited. An IncidentCreated' in err
    assert (SCENARIOS / "invalid-event.json").read_bytes() == before


def test_check_names_a_missing_scenario_and_the_unchanged_copy_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = shutil.copy(SPECS / "invalid-event.yaml", tmp_path / "invalid-event.yaml")
    out = tmp_path / "out"
    assert harness_main(["author", "--check", "--out", str(out), str(spec)]) == 1
    assert f"{out / 'invalid-event.json'}: missing" in capsys.readouterr().err
    assert harness_main(["author", "--out", str(out), str(spec)]) == 0
    assert "wrote 1: invalid-event.json" in capsys.readouterr().out
    assert harness_main(["author", "--check", "--out", str(out), str(spec)]) == 0
    assert "1 scenario files up to date" in capsys.readouterr().out


# --------------------------------------------------------------------------- bad specs


def _bad(tmp_path: Path, name: str, edit: object) -> str:
    """The one-line error of a spec edited by ``edit(data)`` (or ``edit`` as the text)."""
    if isinstance(edit, str):
        path = tmp_path / f"{name}.yaml"
        path.write_text(edit, encoding="utf-8")
    else:
        data = _spec_data(name)
        edit(data)  # type: ignore[operator]
        path = _write(tmp_path, name, data)
    with pytest.raises(SpecError) as caught:
        compile_spec(load_spec(path), path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message.removeprefix(str(path)).removeprefix(": ")


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        del data["agents"]["knowledge-rag"]["tokens"]

    assert _bad(tmp_path, "redelivered-event", edit) == (
        "$.agents.knowledge-rag.tokens: Field required"
    )


def test_a_misspelt_field_is_named_not_defaulted(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["agents"]["knowledge-rag"]["modle"] = data["agents"]["knowledge-rag"].pop("model")

    assert _bad(tmp_path, "redelivered-event", edit) == (
        "$.agents.knowledge-rag.modle: Extra inputs are not permitted"
    )


def test_a_misspelt_agent_is_named(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["agents"]["knowledge-rg"] = data["agents"].pop("knowledge-rag")

    assert _bad(tmp_path, "redelivered-event", edit).startswith(
        "$.agents: unknown agent 'knowledge-rg' (known: "
    )


def test_an_invocation_field_is_named(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["events"][0]["txt"] = data["events"][0].pop("text")

    assert _bad(tmp_path, "ag-contract-errors", edit).startswith("$.events[0].text: Field required")


def test_an_unquoted_timestamp_is_named(tmp_path: Path) -> None:
    text = (SPECS / "invalid-event.yaml").read_text(encoding="utf-8")
    assert "start: '2026-11-18T08:00:00Z'" in text
    message = _bad(
        tmp_path, "invalid-event", text.replace("'2026-11-18T08:00:00Z'", "2026-11-18T08:00:00Z")
    )
    assert message == "$.start: unquoted date/time; write it in quotes"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    assert _bad(tmp_path, "invalid-event", "description: [unclosed\n").startswith(
        ":2:1: invalid YAML"
    )


def test_a_name_other_than_the_file_is_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["name"] = "something-else"

    assert _bad(tmp_path, "invalid-event", edit).startswith("$.name: 'something-else' is not")


def test_an_unknown_generator_and_a_bad_argument_are_named(tmp_path: Path) -> None:
    def unknown(data: dict) -> None:
        data["incident"]["evidence"]["log_lines"] = {"generate": "indexer_logs", "lines": 3}

    message = _bad(tmp_path, "large-evidence-bundle", unknown)
    assert message.startswith(
        "$.incident.evidence.log_lines.generate: unknown generator 'indexer_logs' (known: "
    )

    def argument(data: dict) -> None:
        data["incident"]["evidence"]["log_lines"] = {"generate": "indexer_log", "line": 3}

    message = _bad(tmp_path, "large-evidence-bundle", argument)
    assert message.startswith("$.incident.evidence.log_lines: generator indexer_log: ")
    assert "'line'" in message


def test_cli_exit_codes_and_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2: invalid spec; 3: the handler never asked for a scripted answer -- one line on
    stderr each, never a traceback, through ``opx-harness`` as well."""
    data = _spec_data("redelivered-event")
    del data["incident"]
    invalid = _write(tmp_path, "redelivered-event", data)
    assert harness_main(["author", "--check", str(invalid)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"opx-harness: error: {invalid}: $: give either incident or events (exactly one)\n"
    )

    data = _spec_data("ag-contract-errors")
    data["answers"] = [
        {"service": "xray", "operation": "GetServiceGraph", "http": {"body": {"Services": []}}}
    ]
    unasked = _write(tmp_path, "ag-contract-errors", data)
    assert author_main(["--out", str(tmp_path), str(unasked)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "the handler never asked for xray.GetServiceGraph" in err
    assert not (tmp_path / "ag-contract-errors.json").exists()

    assert author_main(["--check", str(tmp_path / "nowhere.yaml")]) == 2
    assert "nowhere.yaml: cannot read" in capsys.readouterr().err


# --------------------------------------------------------------------------- authoring rules
# Enforced where an author meets them -- the spec's validation and ``opx-harness author``
# -- each one line naming the file, the field and the rule.


def test_a_short_description_is_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["description"] = "A throttle."

    assert _bad(tmp_path, "redelivered-event", edit) == (
        "$.description: 11 characters; at least 80 (rule: say what the scenario exercises "
        "and what should happen)"
    )


def test_too_few_tags_are_refused(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["tags"] = ["sev2"]

    assert _bad(tmp_path, "invalid-event", edit) == (
        "$.tags: 1 tag(s); at least 3 (rule: tag the scenario)"
    )


@pytest.mark.parametrize(
    ("tokens", "rule"),
    [
        ([120, 300], "input tokens 120 outside 900-4000 (rule: realistic prompt size)"),
        ([1200, 40], "output tokens 40 outside 150-900 (rule: realistic answer size; "),
    ],
)
def test_unrealistic_tokens_are_refused(tmp_path: Path, tokens: list[int], rule: str) -> None:
    def edit(data: dict) -> None:
        data["agents"]["knowledge-rag"]["tokens"] = tokens

    assert _bad(tmp_path, "redelivered-event", edit).startswith(
        f"$.agents: knowledge-rag.tokens: {rule}"
    )


def test_a_truncated_answer_may_exceed_the_output_range() -> None:
    spec = load_spec(SPECS / "all-agents-failing.yaml")
    assert isinstance(spec, ExecutorSpec)
    truncated = spec.agents["risk-blast-radius"]
    assert truncated.truncated and truncated.tokens[1] > 900


def test_an_unpriced_model_is_refused_unless_declared(tmp_path: Path) -> None:
    def edit(data: dict) -> None:
        data["agents"]["knowledge-rag"]["model"] = "anthropic.claude-9-imaginary-v1:0"

    assert _bad(tmp_path, "redelivered-event", edit).startswith(
        "$.agents: knowledge-rag.model: 'anthropic.claude-9-imaginary-v1:0' is not in "
        "opx/data/pricing.json (rule: every model priced; "
    )
    spec = load_spec(SPECS / "unpriced-model.yaml")
    assert isinstance(spec, ExecutorSpec)
    assert spec.agents["response-strategy"].unpriced


def test_an_agent_ending_in_an_error_bills_nothing() -> None:
    spec = load_spec(SPECS / "all-agents-failing.yaml")
    assert isinstance(spec, ExecutorSpec)
    assert spec.agents["signal-intelligence"].tokens == (0, 0)  # error: no range applies


def test_a_clock_start_already_taken_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _spec_data("invalid-event")
    data["start"] = _spec_data("rds-failover")["start"]
    path = _write(tmp_path, "invalid-event", data)
    assert author_main(["--check", "--out", str(SCENARIOS), str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"opx-harness: error: {path}: $.start: {data['start']} is already the clock start "
        "of 'rds-failover' (rule: every scenario starts at its own instant; pick another "
        "start)\n"
    )
    # Its own file does not clash with it, nor does a directory without the other one.
    assert author_main(["--check", "--out", str(tmp_path), str(path)]) == 1
    capsys.readouterr()


def test_expect_holds_the_scenario_to_its_purpose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _spec_data("invalid-event")
    data["expect"] = {"status": "INPUT_VALIDATION_FAILED"}
    path = _write(tmp_path, "invalid-event", data)
    assert author_main(["--out", str(tmp_path), str(path)]) == 0
    capsys.readouterr()

    data["expect"] = {"status": "SUCCEEDED", "top_action": "restart"}
    path = _write(tmp_path, "invalid-event", data)
    assert author_main(["--out", str(tmp_path / "out"), str(path)]) == 3
    assert capsys.readouterr().err == (
        f"opx-harness: error: {path}: $.expect: the replay disagrees: status is "
        "'INPUT_VALIDATION_FAILED', not 'SUCCEEDED'; top_action is '-', not 'restart'\n"
    )

    data["expect"] = {}
    assert _bad(tmp_path, "invalid-event", lambda d: d.update(expect={})).startswith(
        "$.expect: say at least one of"
    )


# --------------------------------------------------------------------------- generators


def test_generators_nest_and_are_deterministic() -> None:
    value = {
        "generate": "query_results",
        "status": "Running",
        "rows": {"generate": "error_bins", "count": 2},
        "matched": 21,
        "scanned": 10,
    }
    body = expand(value)
    assert body == expand(value)
    assert body["status"] == "Running" and len(body["results"]) == 2
    assert body["results"][0][0] == {"field": "bin(5m)", "value": "2026-03-07 09:40:00.000"}
    assert set(GENERATORS) >= {"indexer_log", "checkout_service_graph", "checkout_api_metric_data"}


@pytest.mark.parametrize("length", [0, 1, 128, 129, 4001])
def test_text_of_length_writes_a_value_at_a_limit_by_its_size(length: int) -> None:
    """Bounds scenarios state a size, not filler: exactly ``length`` characters of the
    repeated text, in an event or an agent's output alike."""
    value = {"generate": "text_of_length", "text": "INC-2026", "length": length, "separator": "-"}
    text = expand({"incident_id": value})["incident_id"]
    assert len(text) == length
    assert text == ("INC-2026-" * 500)[:length]


def test_text_of_length_names_a_bad_argument() -> None:
    with pytest.raises(ValueError, match="text must not be empty"):
        expand({"generate": "text_of_length", "text": "", "length": 3})


def test_executor_defaults_fill_the_envelope() -> None:
    spec = ExecutorSpec.model_validate(
        {
            "name": "x",
            "description": "d" * 80,
            "tags": ["a", "b", "c"],
            "start": "2026-01-01T00:00:00Z",
            "incident": {
                "event_id": "e",
                "time": "2026-01-01T00:00:00Z",
                "incident_id": "INC-1",
                "service": "s",
                "severity": "SEV3",
                "title": "t",
                "signals": [],
                "evidence": {},
            },
            "agents": {"knowledge-rag": {"tokens": [1000, 200], "latency_ms": 3}},
        }
    )
    assert spec.incident is not None and spec.incident.account == ACCOUNT
    assert spec.incident.region == "us-east-1" and spec.deliveries == 1
    assert spec.agents["knowledge-rag"].model == DEFAULT_MODEL


def test_an_unknown_action_group_and_operation_are_named(tmp_path: Path) -> None:
    def group(data: dict) -> None:
        data["action_group"] = "xrays"

    assert _bad(tmp_path, "ag-contract-errors", group).startswith(
        "$.action_group: unknown action group 'xrays' (known: "
    )

    def operation(data: dict) -> None:
        data["events"][0]["invoke"] = "getServiceGraphs"

    assert _bad(tmp_path, "ag-contract-errors", operation) == (
        "$.events[0].invoke: no operation getServiceGraphs in the schema"
    )
