"""``remaining_ms``: the time left an executor scenario's invocations see.

The executor's lease length derives from ``context.get_remaining_time_in_millis()``; the
harness reported 300,000 ms to every invocation, so no scenario could start near the
function timeout (or past it). These tests pin that a bad value is refused by name --
in a spec, in a scenario file and on a kind that does not read it -- and that the value
reaches the handler's context (the four ``invocation-time-*`` scenarios' snapshots show
the lease it buys).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.replayer import LambdaContext, replay
from harness.scenario import ScenarioError, load_scenario
from harness.specs import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SCENARIOS = ROOT / "scenarios"


def _spec_with(tmp_path: Path, name: str, value: object) -> Path:
    data = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    data["remaining_ms"] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("value", [-1, 900_001, "1000", 1.5, True])
def test_a_bad_spec_value_is_refused_naming_the_field(tmp_path: Path, value: object) -> None:
    path = _spec_with(tmp_path, "invocation-time-999ms", value)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert "$.remaining_ms" in message and "\n" not in message


@pytest.mark.parametrize("name", ["redrive-limit", "maintenance-held-lease"])
def test_a_kind_that_does_not_read_it_refuses_it(tmp_path: Path, name: str) -> None:
    """A redrive invokes the deployed function; a maintenance spec's executions are not
    about invocation time: the field would be silently ignored there."""
    with pytest.raises(SpecError) as caught:
        load_spec(_spec_with(tmp_path, name, 1000))
    assert "remaining_ms is for executor specs" in str(caught.value)


@pytest.mark.parametrize("value", [-5, "999", 1e3])
def test_a_bad_scenario_value_is_refused_naming_the_field(tmp_path: Path, value: object) -> None:
    data = json.loads((SCENARIOS / "invocation-time-999ms.json").read_text(encoding="utf-8"))
    data["remaining_ms"] = value
    path = tmp_path / "invocation-time-999ms.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "$.remaining_ms" in str(caught.value)


def test_the_field_is_written_only_when_set() -> None:
    """Every scenario file written before the field existed stays byte-identical."""
    scenario = load_scenario(SCENARIOS / "invocation-time-999ms.json")
    assert json.loads(scenario.to_json())["remaining_ms"] == 999
    unset = scenario.model_copy(update={"remaining_ms": None})
    assert "remaining_ms" not in json.loads(unset.to_json())
    assert LambdaContext().get_remaining_time_in_millis() == 300_000


def test_the_handler_sees_it_and_the_lease_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: a harness that ignored the field (the default context) would
    store a 300 s lease, and the scenario's snapshot pins 1 s."""
    scenario = load_scenario(SCENARIOS / "invocation-time-999ms.json")

    def lease_expiry(result: object) -> str:
        [lease] = [i for i in result.table if i["checkpoint_id"]["S"] == "!lease"]  # type: ignore[attr-defined]
        return lease["expires_at"]["N"]

    assert lease_expiry(replay(scenario)) == "clock.start+1s"
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 300_000)
    assert lease_expiry(replay(scenario)) == "clock.start+300s"
