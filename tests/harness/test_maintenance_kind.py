"""The ``maintenance`` kind: the gate proves the checkpointer's operator surface.

Each fault the kind exists for is planted in the code under replay (monkeypatched, so
nothing is edited on disk) and the gate, run on the one committed scenario that must
catch it, fails naming that scenario. The operation model refuses a bad operation
with the field it is wrong at.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import opx.checkpointing.schema
from harness.checks import not_applicable
from harness.kinds import KindFieldError, kind_named
from harness.scenario import ScenarioError, load_scenario
from harness.specs.compile import SpecError, load_spec
from opx.checkpointing import DynamoDBCheckpointer, items, keys
from tests.harness.gate_support import assert_gate_fails, gate_bundled

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SNAPSHOTS = ROOT / "snapshots"


def test_the_committed_scenario_passes_unfaulted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = gate_bundled("maintenance-create-table", tmp_path, capsys)
    assert code == 0, out


def test_a_prune_that_deletes_the_newest_checkpoint_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault the kind exists for: ``keep_latest`` dropping the newest checkpoint."""

    def keep_oldest(self: DynamoDBCheckpointer, thread_ids: list[str], **_: object) -> None:
        for thread_id in thread_ids:
            newest = next(self.list({"configurable": {"thread_id": thread_id}}))
            self.client.delete_item(
                TableName=self.table_name,
                Key={
                    "session_id": {"S": thread_id},
                    "checkpoint_id": {
                        "S": keys.head_key("", newest.config["configurable"]["checkpoint_id"])
                    },
                },
            )

    monkeypatch.setattr(DynamoDBCheckpointer, "prune", keep_oldest)
    assert_gate_fails("maintenance-copy-prune-delete", tmp_path, capsys, "drift")


def test_a_create_table_without_point_in_time_recovery_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = dataclasses.replace(
        opx.checkpointing.schema.TABLE_SCHEMA, point_in_time_recovery=False
    )
    monkeypatch.setattr(opx.checkpointing.schema, "TABLE_SCHEMA", schema)
    assert_gate_fails("maintenance-create-table", tmp_path, capsys, "point_in_time_recovery")


def test_a_list_that_ignores_before_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = DynamoDBCheckpointer.list

    def ignoring_before(self: DynamoDBCheckpointer, config: object, **kwargs: object) -> object:
        return listed(self, config, **{**kwargs, "before": None})  # type: ignore[arg-type]

    monkeypatch.setattr(DynamoDBCheckpointer, "list", ignoring_before)
    assert_gate_fails("maintenance-list-and-fetch", tmp_path, capsys)


def test_a_copy_that_seals_chunks_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy that re-seals chunks as it does owners: every key and ttl is right and the
    copy reads back, so only the attribute comparison of the copy's record shows it."""
    copied = DynamoDBCheckpointer.copy_thread

    def sealing_chunks(self: DynamoDBCheckpointer, source: str, target: str) -> None:
        copied(self, source, target)
        for item in list(self._table.items(target)):
            if keys.parse(item["checkpoint_id"]["S"]).kind == "chunk":
                self.client.put_item(TableName=self.table_name, Item=items.repin(item))

    monkeypatch.setattr(DynamoDBCheckpointer, "copy_thread", sealing_chunks)
    assert_gate_fails("maintenance-copy-chunked", tmp_path, capsys, "chunk 0: pin")


def test_a_create_table_that_adopts_by_default_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``exist_ok`` defaulting to true: only an operation that leaves it unstated sees."""
    adopting = functools.partial(opx.checkpointing.create_table, exist_ok=True)
    monkeypatch.setattr(opx.checkpointing, "create_table", adopting)
    assert_gate_fails("maintenance-create-table", tmp_path, capsys)


def test_a_prune_delete_that_stops_after_one_thread_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pruned = DynamoDBCheckpointer.prune

    def first_only(self: DynamoDBCheckpointer, thread_ids: list[str], **kwargs: str) -> None:
        pruned(self, list(thread_ids)[:1], **kwargs)

    monkeypatch.setattr(DynamoDBCheckpointer, "prune", first_only)
    assert_gate_fails("maintenance-copy-prune-delete", tmp_path, capsys)


def test_a_prune_that_keeps_items_no_checkpoint_reads_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """keep_latest that deletes only items of *older* checkpoints: the headless writes
    of a lost newer head stay behind (and a namespace with no head is skipped)."""

    def older_only(self: DynamoDBCheckpointer, thread_ids: list[str], **_: object) -> None:
        for thread_id in thread_ids:
            found = [
                (keys.parse(k["checkpoint_id"]["S"]), k)
                for k in self._table.keys(thread_id)
                if not keys.is_meta(k["checkpoint_id"]["S"])
            ]
            latest: dict[str, str] = {}
            for parsed, _ in found:
                if parsed.kind == "head":
                    ns = parsed.checkpoint_ns
                    latest[ns] = max(latest.get(ns, parsed.checkpoint_id), parsed.checkpoint_id)
            self._table.delete(
                [
                    key
                    for parsed, key in found
                    if parsed.checkpoint_ns in latest
                    and parsed.checkpoint_id < latest[parsed.checkpoint_ns]
                ]
            )

    monkeypatch.setattr(DynamoDBCheckpointer, "prune", older_only)
    assert_gate_fails(
        "maintenance-edited-table",
        tmp_path,
        capsys,
        "orphan ns|checkpoint-0 write r",
    )


def test_keys_that_leave_the_last_escaped_character_raw_fail_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An escape one character short (``%`` left as is): the renamed checkpoint, stored
    as ``%25``, is looked up under another key and is not found."""
    monkeypatch.setattr(keys, "_ESCAPE_AT_OR_BELOW", 0x24)
    assert_gate_fails("maintenance-edited-table", tmp_path, capsys, "%25&")


def test_a_create_table_that_adopts_any_refusal_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """exist_ok swallowing every ClientError, not only ResourceInUseException."""
    create = opx.checkpointing.create_table

    def adopting(client: object, table_name: str, *, exist_ok: bool = False) -> None:
        try:
            create(client, table_name, exist_ok=exist_ok)
        except ClientError:
            if not exist_ok:
                raise

    monkeypatch.setattr(opx.checkpointing, "create_table", adopting)
    assert_gate_fails("maintenance-create-table", tmp_path, capsys, "UnrecognizedClientException")


def test_a_list_that_refuses_limit_one_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = DynamoDBCheckpointer.list

    def refusing_one(self: DynamoDBCheckpointer, config: object, **kwargs: Any) -> Any:
        if kwargs.get("limit") == 1:
            return iter(())
        return listed(self, config, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DynamoDBCheckpointer, "list", refusing_one)
    assert_gate_fails("maintenance-list-and-fetch", tmp_path, capsys)


def test_checks_that_judge_the_executors_own_run_say_why_they_do_not_apply() -> None:
    scenario = load_scenario(SCENARIOS / "maintenance-create-table.json")
    for check in ("repeat", "snapshot", "process", "secrets"):
        assert not_applicable(check, scenario) is None
    for check in ("order", "resume", "cost"):
        outcome = not_applicable(check, scenario)
        assert outcome is not None
        assert "what operators do to the table" in outcome.summary


def test_the_roll_up_says_what_each_operation_did() -> None:
    snapshot = json.loads((SNAPSHOTS / "maintenance-copy-prune-delete.json").read_text())
    behaviour = kind_named("maintenance").behaviour(snapshot)
    assert behaviour["operations"] == "14"
    assert behaviour["3. prune"] == "None; table: 31 items"
    assert behaviour["6. prune"].startswith("raised ValueError: unknown prune strategy")
    assert dict(kind_named("maintenance").summarize(snapshot))["executions"] == "200 SUCCEEDED"


@pytest.mark.parametrize(
    ("operation", "field"),
    [
        ({"op": "prune", "threads": []}, "$.maintenance[0].prune.threads"),
        ({"op": "frobnicate"}, "$.maintenance[0]: Input tag 'frobnicate'"),
        ({"op": "get", "thread": "@execution:x"}, "$.maintenance[0].get.thread"),
        ({"op": "get", "thread": "@execution:4"}, "$.maintenance[0].thread"),
        ({"op": "list", "thread": "t", "before": "@checkpoint:t"}, "$.maintenance[0].list.before"),
        ({"op": "create-table", "table": "@nope"}, "$.maintenance[0].create-table.table"),
        ({"op": "delete", "thread": "t", "threads": ["t"]}, "$.maintenance[0].delete.threads"),
    ],
)
def test_a_bad_operation_is_refused_at_its_field(
    tmp_path: Path, operation: dict[str, object], field: str
) -> None:
    data = json.loads((SCENARIOS / "maintenance-create-table.json").read_text())
    data["maintenance"] = [operation]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert field in str(raised.value)


def test_a_maintenance_scenario_lists_its_operations() -> None:
    scenario = load_scenario(SCENARIOS / "maintenance-create-table.json")
    with pytest.raises(KindFieldError) as raised:
        kind_named("maintenance").validate(scenario.model_copy(update={"maintenance": []}))
    assert raised.value.field == "maintenance"


def test_a_spec_with_a_bad_operation_names_it(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "maintenance-create-table.yaml").read_text()
    path = tmp_path / "maintenance-bad.yaml"
    path.write_text(text.replace("op: cloudformation", "op: cloudformation, exist_ok: true"))
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert "$.maintenance[5].cloudformation.exist_ok" in str(raised.value)
