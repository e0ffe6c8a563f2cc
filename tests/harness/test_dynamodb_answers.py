"""Scripted DynamoDB answers (``Scenario.dynamodb``, :mod:`harness.wire.dynamodb`).

moto always answers the checkpoint table happily, so the executor's handling of an
unreachable table, of ``UnprocessedItems`` and of a paged latest-checkpoint read was
invisible to the gate. These tests pin the mechanism -- botocore's retry jitter fixed,
moto and the written-items copy agreeing on what a partial batch stored, bad scripts
named at their field -- and show, by breaking each executor behaviour, that the gate
now sees it through the scenario made for it while an ordinary scenario cannot.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness import canonical
from harness.replayer import (
    BACKOFF_JITTER,
    CHECKPOINT_TABLE,
    FIXED_JITTER,
    BackoffJitter,
    Replayer,
    replay,
)
from harness.replayer.session import RefillableRetryQuota
from harness.scenario import DynamoDBScript, Scenario, load_scenario
from harness.specs import AuthoringFailed, SpecError, compile_spec, load_spec
from harness.wire import DynamoDBAnswers
from opx.checkpointing import store
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "checkpoint-write-unreachable"
#: An ordinary scenario: no scripted DynamoDB answer, so blind to all of the above.
CONTROL = "redelivered-event"


def _scenario(name: str) -> Scenario:
    return load_scenario(ROOT / "scenarios" / f"{name}.json")


def _canonical_text(scenario: Scenario) -> str:
    return json.dumps(canonical.plain(replay(scenario).canonical()), sort_keys=True)


def test_botocore_backoff_draws_the_fixed_jitter_so_a_faulted_replay_repeats() -> None:
    scenario = _scenario(UNREACHABLE)
    first, second = _canonical_text(scenario), _canonical_text(scenario)
    assert first == second
    # DynamoDB's standard-retry backoff, 25 ms * 2**i, times the fixed 0.5: the Query
    # retried once, the checkpoint head's four attempts three times.
    slept = json.loads(first)["clock"]["slept_s"]
    assert slept == [0.0125, 0.0125, 0.025, 0.05]
    assert isinstance(BACKOFF_JITTER, BackoffJitter)
    assert BACKOFF_JITTER() == FIXED_JITTER


def test_without_the_fixed_jitter_two_replays_of_a_dynamodb_fault_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fix is what makes the repeat hold: with botocore's random draw back (two
    differently seeded sources stand for two runs), the sleeps and every later time
    stamp differ."""
    scenario = _scenario(UNREACHABLE)
    runs = []
    for seed in (1, 2):
        monkeypatch.setattr(BACKOFF_JITTER, "source", random.Random(seed).random)
        runs.append(json.loads(_canonical_text(scenario)))
    assert runs[0]["clock"]["slept_s"] != runs[1]["clock"]["slept_s"]
    assert runs[0] != runs[1]


#: Replays of one scenario in one process: ``lease-release-timeout`` drains 30 of a
#: client's 500-token retry bucket per replay, and without the refill its 22nd differed.
HISTORY = 25


def _distinct_results(scenario: Scenario, runs: int) -> set[str]:
    return {replay(scenario).to_compact_json() for _ in range(runs)}


def test_earlier_replays_in_a_process_do_not_drain_a_later_replays_retries() -> None:
    """The reused clients' retry quota is refilled for every replay, so a result does
    not depend on what the process replayed before (found as an "order" failure in
    session 17: the order check replays a scenario many times in one process)."""
    assert len(_distinct_results(_scenario("lease-release-timeout"), HISTORY)) == 1


def test_without_the_refill_a_process_s_history_changes_a_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The self-test of the one above: with the bucket left as the last replay left it,
    timeouts stop being retried once it runs dry, and the results split."""
    monkeypatch.setattr(RefillableRetryQuota, "refill", lambda self: None)
    assert len(_distinct_results(_scenario("lease-release-timeout"), HISTORY)) > 1


def test_an_unprocessed_batch_stores_the_same_items_in_moto_and_in_the_written_copy() -> None:
    """The harness forwards only the processed part to moto and answers the rest as
    ``UnprocessedItems``: moto's table, the replay's copy (the snapshot's ``table``)
    and what the executor was told agree, item for item."""
    scenario = _scenario("checkpoint-chunks-unprocessed")
    with Replayer().environment(scenario) as env:
        env.deliver_events()
        client = env.session.client("dynamodb")
        stored: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=CHECKPOINT_TABLE):
            stored += page["Items"]
        written = env.written.table(CHECKPOINT_TABLE).items.values()
        scripted = env.transport.find(DynamoDBAnswers)
        assert scripted is not None
        log = scripted.log

    def keys(items: Any) -> list[str]:
        return sorted(item["checkpoint_id"]["S"] for item in items)

    assert keys(stored) == keys(written)
    assert len(stored) == len(list(written))
    batches = [e for e in log if e["operation"] == "BatchWriteItem" and e["item"] == "head"]
    # The scripted call left two of four chunks; the next head batch is their resend.
    assert batches[1] == {
        "operation": "BatchWriteItem",
        "item": "head",
        "call": 2,
        "attempt": 1,
        "requests": 4,
        "unprocessed": 2,
        "answer": "unprocessed",
    }
    assert batches[2]["requests"] == 2
    assert batches[2]["answer"] == "moto"


def _script(**answer: Any) -> dict[str, Any]:
    return {"answers": [{"operation": "PutItem", "call": 1, **answer}]}


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (_script(), "give either faults or unprocessed"),
        (
            _script(faults=[{"error": "X"}], unprocessed="all"),
            "give either faults or unprocessed",
        ),
        (_script(unprocessed=2), "unprocessed is a BatchWriteItem answer"),
        (
            {
                "answers": [
                    {"operation": "Query", "item": "head", "call": 1, "faults": [{"error": "X"}]}
                ]
            },
            "a Query writes nothing",
        ),
        (
            {"answers": [{"operation": "GetItem", "call": 1, "faults": [{"error": "X"}]}]},
            "Input should be",
        ),
        (
            _script(faults=[{"where": "network", "error": "Throttled"}]),
            "a network fault raises one of",
        ),
        ({}, "give answers or log"),
        (
            {
                "answers": [
                    {"operation": "PutItem", "call": 1, "calls": 3, "faults": [{"error": "X"}]},
                    {"operation": "PutItem", "call": 3, "faults": [{"error": "Y"}]},
                ]
            },
            "answers[1]: PutItem call 3 is already answered by answers[0]",
        ),
    ],
)
def test_a_bad_script_is_refused_with_a_message_naming_it(
    script: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DynamoDBScript.model_validate(script)


def test_a_spec_with_a_bad_script_names_the_field(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "lease-taken-over.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "lease-taken-over.yaml"
    bad.write_text(text.replace("    item: lease\n", "    item: chunk\n"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"\$\.dynamodb\.answers\[0\]\.item"):
        load_spec(bad)


def test_a_script_naming_a_call_never_made_fails_authoring(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "lease-taken-over.yaml").read_text(encoding="utf-8")
    spec = tmp_path / "lease-taken-over.yaml"
    spec.write_text(text.replace("    call: 1\n", "    call: 2\n"), encoding="utf-8")
    with pytest.raises(AuthoringFailed, match=r"\$\.dynamodb\.answers\[0\]: DeleteItem \(lease\)"):
        compile_spec(load_spec(spec), spec)


def test_dynamodb_is_a_field_of_the_kinds_that_run_the_executor_written_only_when_set() -> None:
    scenario = _scenario("lease-taken-over")
    assert '"dynamodb"' in scenario.to_json()
    assert '"dynamodb"' not in _scenario(CONTROL).to_json()
    data = json.loads(scenario.to_json())
    data.update(kind="action-group", action_group="logs-insights", interactions=[])
    with pytest.raises(ValidationError, match="dynamodb belong to executor, maintenance scenarios"):
        Scenario.model_validate(data)


def test_the_resume_matrix_skips_scripted_answers_but_the_order_check_does_not() -> None:
    """A crash and its redelivery renumber the calls a script names; a log only lists,
    and a forced completion order renumbers nothing."""
    from harness.kinds import kind_named

    executor = kind_named("executor")
    assert "scripted DynamoDB answers" in (
        executor.inapplicable("resume", _scenario(UNREACHABLE)) or ""
    )
    assert executor.inapplicable("resume", _scenario("checkpoint-read-paged")) is None
    # Scripted answers are order-independent once a replay's retries no longer
    # depend on the process's history (see the quota tests above).
    assert executor.inapplicable("order", _scenario(UNREACHABLE)) is None
    assert executor.inapplicable("order", _scenario("checkpoint-read-paged")) is None


# --------------------------------------------------------------------------- self-tests


def _gate_project(tmp_path: Path, names: tuple[str, ...]) -> Any:
    return bundled_project(tmp_path, names)


def _drifted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], project: Any
) -> tuple[set[str], str]:
    report = tmp_path / "report.json"
    run = gate(capsys, project.args("--checks", "snapshot", "--json", str(report)))
    assert run.code == 1, run.out
    verdicts = json.loads(report.read_text())["scenarios"]
    return {v["name"] for v in verdicts if "drift" in json.dumps(v)}, run.out


def test_the_gate_sees_how_an_unreachable_table_is_classified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: classify an unreachable endpoint as a plain AWS_ERROR -- the scenario
    with a DynamoDB network fault fails the gate, an ordinary one cannot notice."""
    import opx.lambda_handler as handler_module

    project = _gate_project(tmp_path, (UNREACHABLE, CONTROL))
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    classify = handler_module._classify

    def mutant(exc: Exception) -> tuple[str, str]:
        code, message = classify(exc)
        return ("AWS_ERROR" if code == "AWS_UNREACHABLE" else code), message

    monkeypatch.setattr(handler_module, "_classify", mutant)
    drifted, out = _drifted(tmp_path, capsys, project)
    assert drifted == {UNREACHABLE}, out


def test_the_gate_sees_unprocessed_items_handling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: a batch writer that ignores ``UnprocessedItems`` -- both unprocessed
    scenarios fail the gate (a chunk never resent; no CheckpointWriteError), an
    ordinary one cannot notice."""
    names = ("checkpoint-chunks-unprocessed", "checkpoint-chunks-never-processed", CONTROL)
    project = _gate_project(tmp_path, names)

    def ignoring_unprocessed(self: store.ThreadTable, requests: Any) -> None:
        for start in range(0, len(requests), store.BATCH_LIMIT):
            batch = list(requests[start : start + store.BATCH_LIMIT])
            self.client.batch_write_item(RequestItems={self.table_name: batch})

    monkeypatch.setattr(store.ThreadTable, "_batch", ignoring_unprocessed)
    drifted, out = _drifted(tmp_path, capsys, project)
    assert drifted == set(names[:2]), out


def test_the_gate_sees_how_a_latest_checkpoint_read_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: pages that no longer grow (``MAX_PAGE`` at the first page's size) --
    the paged scenario fails the gate on the second page's ``Limit``, an ordinary
    scenario (one page) cannot notice."""
    project = _gate_project(tmp_path, ("checkpoint-read-paged", CONTROL))
    monkeypatch.setattr(store, "MAX_PAGE", 16)
    drifted, out = _drifted(tmp_path, capsys, project)
    assert drifted == {"checkpoint-read-paged"}, out
    assert "limit" in out
