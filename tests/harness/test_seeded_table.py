"""Scenarios that start from a seeded checkpoint table (``checkpoint_items``).

The seeded items are produced by the real executor (the spec's own earlier run) and
then edited by named tamper operations, so the gate can pin what the executor does
with a table it did not leave that way: refuse it (``CHECKPOINT_CORRUPT``) or, for an
interrupted run, resume it. The self-tests at the end show the gate needs these
scenarios to see the executor's integrity checks: with a check disabled, the
scenario that exercises it fails the gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.authoring.tampering import (
    TAMPERS,
    Drop,
    EscapeKey,
    FlipByte,
    ItemSelector,
    TamperError,
    Truncate,
    tamper,
)
from harness.replayer import CHECKPOINT_TABLE, Replayer
from harness.scenario import Scenario, boto3_item, load_scenario, wire_item
from harness.specs import SpecError, compile_spec, load_spec
from opx.checkpointing import chunking, keys
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
EDITED = "checkpoint-head-edited"
ESCAPED = "checkpoint-key-escaped"


def _scenario(name: str) -> Scenario:
    return load_scenario(ROOT / "scenarios" / f"{name}.json")


def _with_items(items: Any, kind: str = "executor") -> dict[str, Any]:
    data = json.loads((ROOT / "scenarios" / f"{EDITED}.json").read_text(encoding="utf-8"))
    data["checkpoint_items"] = items
    if kind != "executor":
        data.update(kind=kind, action_group="logs-insights", interactions=[])
    return data


# --------------------------------------------------------------------------- format


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ({"B": "not base64!"}, ("checkpoint_items", 0, "payload"), "base64"),
        ({"S": "a", "N": "1"}, ("checkpoint_items", 0, "payload"), "exactly one of S, N, B, BOOL"),
        ({"N": "twelve"}, ("checkpoint_items", 0, "payload"), "number"),
        # BOOL is a console edit a scenario may seed; its value is a JSON boolean.
        ({"BOOL": "true"}, ("checkpoint_items", 0, "payload"), "BOOL takes true or false"),
        ({"S": True}, ("checkpoint_items", 0, "payload"), "S takes text"),
        ({"NULL": True}, ("checkpoint_items", 0, "payload", "NULL"), "BOOL"),
    ],
)
def test_a_badly_typed_attribute_is_named_at_its_json_path(
    value: dict[str, Any], path: tuple[Any, ...], words: str
) -> None:
    item = {"session_id": {"S": "exec-1"}, "checkpoint_id": {"S": "#x"}, "payload": value}
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(_with_items([item]))
    error = caught.value.errors()[0]
    assert error["loc"][: len(path)] == path
    assert words in error["msg"]


def test_an_item_without_the_table_key_or_twice_is_refused_naming_it() -> None:
    keyless = {"session_id": {"S": "exec-1"}}
    with pytest.raises(ValidationError, match=r"checkpoint_items\[0\].*'checkpoint_id'"):
        Scenario.model_validate(_with_items([keyless]))
    item = {"session_id": {"S": "exec-1"}, "checkpoint_id": {"S": "#x"}}
    with pytest.raises(ValidationError, match=r"checkpoint_items\[1\]: a second item"):
        Scenario.model_validate(_with_items([item, item]))


def test_checkpoint_items_belong_to_executor_scenarios_and_are_omitted_when_empty() -> None:
    item = {"session_id": {"S": "exec-1"}, "checkpoint_id": {"S": "#x"}}
    with pytest.raises(ValidationError, match="checkpoint_items belong to executor"):
        Scenario.model_validate(_with_items([item], kind="action-group"))
    plain = _scenario("redelivered-event")
    assert "checkpoint_items" not in json.loads(plain.to_json())
    assert "checkpoint_items" in json.loads(_scenario(EDITED).to_json())


def test_wire_and_boto3_items_round_trip() -> None:
    for item in _scenario(EDITED).checkpoint_items:
        assert wire_item(boto3_item(item)) == item


# --------------------------------------------------------------------------- setup


def test_setup_seeds_exactly_the_given_items_into_moto_and_the_written_copy() -> None:
    scenario = _scenario(EDITED)
    expected = sorted(
        (boto3_item(item) for item in scenario.checkpoint_items),
        key=lambda i: i["checkpoint_id"]["S"],
    )
    with Replayer().environment(scenario) as env:
        client = env.session.client("dynamodb")
        stored = client.scan(TableName=CHECKPOINT_TABLE)["Items"]
        written = list(env.written.table(CHECKPOINT_TABLE).items.values())
    assert sorted(stored, key=lambda i: i["checkpoint_id"]["S"]) == expected
    assert sorted(written, key=lambda i: i["checkpoint_id"]["S"]) == expected


# --------------------------------------------------------------------------- authoring


def test_authoring_twice_gives_the_committed_bytes() -> None:
    """The seeded items come from a real run in a child process with a fixed hash
    seed, zero latencies and seeded uuid6 bits: every authoring writes the same file."""
    spec = load_spec(ROOT / "specs" / f"{EDITED}.yaml")
    first = compile_spec(spec).to_json()
    second = compile_spec(spec).to_json()
    assert first == second
    assert first == (ROOT / "scenarios" / f"{EDITED}.json").read_text(encoding="utf-8")


def test_a_seeded_table_does_not_depend_on_the_specs_seeded_before_it() -> None:
    """Every seeded spec of a process runs in one child (:mod:`harness.authoring.seed_worker`);
    what a run leaves must not depend on the runs before it in that child. uuid6 drew
    its random bits from the reseeded global ``random`` when each run had a child of its
    own; in a shared child, first-use draws of earlier runs shifted the ids (19 seeded
    scenario files differed). The committed files were authored in name order
    (``EDITED`` first); here ``ESCAPED`` goes first."""
    for name in (ESCAPED, EDITED, ESCAPED):
        authored = compile_spec(load_spec(ROOT / "specs" / f"{name}.yaml")).to_json()
        assert authored == (ROOT / "scenarios" / f"{name}.json").read_text(encoding="utf-8")


def test_a_seeding_run_that_fails_names_the_spec() -> None:
    from harness.authoring.executor import SEED_HASHSEED
    from harness.authoring.seed_worker import SeedWorker

    worker = SeedWorker(SEED_HASHSEED)
    try:
        failed = r"the earlier run of broken-spec failed: ValidationError: "
        with pytest.raises(RuntimeError, match=failed):
            worker.run("broken-spec", {"draft": {}})
        # The child survives a failed run and serves the next request.
        with pytest.raises(RuntimeError, match="broken-again failed: KeyError: 'draft'"):
            worker.run("broken-again", {"answers": {}})
    finally:
        worker.close()


def test_a_tamper_that_matches_nothing_is_a_spec_error_naming_the_operation(
    tmp_path: Path,
) -> None:
    text = (ROOT / "specs" / f"{EDITED}.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken-tamper.yaml"
    broken.write_text(
        text.replace(
            "      checkpoint: -1\n      part: head", "      checkpoint: 9\n      part: head"
        ),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"\$\.table\.tamper\[0\] \(flip-byte\): checkpoint 9"):
        compile_spec(load_spec(broken), broken)


def test_the_earlier_run_must_start_before_the_scenario(tmp_path: Path) -> None:
    text = (ROOT / "specs" / f"{EDITED}.yaml").read_text(encoding="utf-8")
    late = tmp_path / "late-table.yaml"
    late.write_text(
        text.replace("start: '2026-12-21T09:15:00Z'", "start: '2026-12-21T11:15:00Z'"),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"\$\.table\.start: the earlier run must start before"):
        compile_spec(load_spec(late), late)


# --------------------------------------------------------------------------- tamper ops


def _items() -> list[dict[str, Any]]:
    """Items with no head edited: three checkpoints, one write's ttl shifted."""
    return [boto3_item(item) for item in _scenario("checkpoint-expired-write").checkpoint_items]


def _heads(items: list[dict[str, Any]]) -> list[str]:
    return sorted(
        i["checkpoint_id"]["S"] for i in items if keys.parse(i["checkpoint_id"]["S"]).kind == "head"
    )


def test_every_operation_is_registered_by_its_name() -> None:
    assert set(TAMPERS) == {
        "drop",
        "drop-attribute",
        "flip-byte",
        "truncate",
        "escape-key",
        "move",
        "shift-ttl",
        "set-attribute",
        "retag",
        "smuggle-type",
        "set-value",
        "hold-lease",
        "copy-write",
        "add-field",
        "set-field",
        "rename-checkpoint",
    }
    assert all(model.model_fields["op"].default == name for name, model in TAMPERS.items())


def test_operations_copy_and_select_by_checkpoint_age_and_task() -> None:
    items = _items()
    before = json.dumps([wire_item(i) for i in items])
    newest = Drop(item=ItemSelector(checkpoint=-1, part="all")).apply(items)
    assert json.dumps([wire_item(i) for i in items]) == before  # pure: a copy is edited
    assert len(_heads(newest)) == len(_heads(items)) - 1
    writes = Drop(item=ItemSelector(checkpoint=1, part="write", task="knowledge-rag")).apply(items)
    assert len(writes) == len(items) - 1
    with pytest.raises(TamperError, match="no item matches"):
        Drop(item=ItemSelector(checkpoint=1, part="write", task="no-such-node")).apply(items)


def test_a_flipped_payload_byte_fails_the_digest_and_a_resealed_one_the_frame() -> None:
    items = Drop(item=ItemSelector(checkpoint=0, part="all")).apply(_items())
    head = max(
        (i for i in items if keys.parse(i["checkpoint_id"]["S"]).kind == "head"),
        key=lambda i: i["checkpoint_id"]["S"],
    )
    flipped = FlipByte(offset=200).apply([head])[0]
    with pytest.raises(ValueError, match="digest mismatch"):
        chunking.unseal(bytes(flipped["payload"]["B"]))
    cut = Truncate(cut=1, reseal=True).apply([head])[0]
    with pytest.raises(ValueError, match="frame is truncated"):
        chunking.unseal(bytes(cut["payload"]["B"]))
    with pytest.raises(TamperError, match="exactly one of keep and cut"):
        Truncate(keep=3, cut=1).apply([head])


def test_escape_key_spells_the_same_checkpoint() -> None:
    items = _items()
    escaped = tamper(items, [EscapeKey()])
    new = set(_heads(escaped)) - set(_heads(items))
    (key,) = new
    assert "%" in key
    assert keys.parse(key).checkpoint_id == keys.parse(_heads(items)[-1]).checkpoint_id


# --------------------------------------------------------------------------- self-tests


def _project(tmp_path: Path, *names: str) -> Any:
    return bundled_project(tmp_path, names)


def test_the_gate_sees_the_payload_digest_only_through_a_tampered_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: the executor's digest check accepts anything -- the scenario whose head
    was edited fails the gate, a redelivery of an untampered table cannot notice."""
    from opx.checkpointing import items

    project = _project(tmp_path, EDITED, "redelivered-event")
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    monkeypatch.setattr(items.chunking, "unseal", lambda blob: chunking.unframe(blob[32:]))
    run = gate(capsys, project.args("--checks", "snapshot", "--json", str(tmp_path / "r.json")))
    assert run.code != 0, run.out
    verdicts = {s["name"]: s for s in json.loads((tmp_path / "r.json").read_text())["scenarios"]}
    assert "drift" in json.dumps(verdicts[EDITED])
    assert "drift" not in json.dumps(verdicts["redelivered-event"])


def test_the_gate_sees_key_unescaping_only_through_an_escaped_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: sort-key parts are no longer unescaped -- the escaped head reads as
    another checkpoint than its payload (``CHECKPOINT_CORRUPT``) and the gate fails."""
    project = _project(tmp_path, ESCAPED)
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    monkeypatch.setattr(keys, "unescape", lambda part: part)
    run = gate(capsys, project.args("--checks", "snapshot"))
    assert run.code != 0, run.out
    assert "CHECKPOINT_CORRUPT" in run.out


def test_a_corrupt_read_back_is_reported_in_the_trail_not_raised() -> None:
    """The replay's own read-back refuses the tampered table as the executor did; the
    result says so (``unreadable``, set only then) instead of failing the replay."""
    from harness.replayer import replay

    result = replay(_scenario(EDITED)).canonical()
    assert result["checkpoints"] == []
    assert "payload digest mismatch" in result["unreadable"]
    assert result["responses"][0]["body"]["error"] == "CHECKPOINT_CORRUPT"
    assert result["bedrock_calls"] == []


def test_checks_that_take_the_replay_for_the_whole_run_skip_a_seeded_table() -> None:
    """cost and resume would count the seeded run's bill and checkpoints as missing or
    wrong: the gate says they do not apply (exit 0), naming why -- while an unseeded
    executor scenario is still judged by both."""
    from harness.checks import not_applicable

    seeded = load_scenario(ROOT / "scenarios" / "checkpoint-interrupted-resume.json")
    plain = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    for check in ("cost", "resume"):
        outcome = not_applicable(check, seeded)
        assert outcome is not None and "seeded checkpoint table" in outcome.summary
        assert not_applicable(check, plain) is None
    assert not_applicable("snapshot", seeded) is None
