"""The tamper operations added for the issue-15 branch scenarios (``set-attribute``,
``retag``, ``smuggle-type``, ``set-value``, ``hold-lease``): each edits a copy of the
items the real executor left, seals what a saver-aware tool would seal, and names what
does not fit; and the gate needs the scenarios built with them to see the checks they
reach (self-tests at the end: with a check disabled, the scenario fails the gate)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.authoring.tampering import (
    AddField,
    CopyWrite,
    DropAttribute,
    HoldLease,
    ItemSelector,
    RenameCheckpoint,
    Retag,
    SetAttribute,
    SetField,
    SetValue,
    SmuggleType,
    TamperError,
    tamper,
)
from harness.scenario import boto3_item, load_scenario
from opx.checkpointing import chunking, codec, keys
from opx.checkpointing.items import pin_of
from opx.checkpointing.lease import LEASE_KEY
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
SK = "checkpoint_id"


def _items() -> list[dict[str, Any]]:
    """Three checkpoints of one run (the second with the parallel agents' writes)."""
    scenario = load_scenario(ROOT / "scenarios" / "checkpoint-expired-write.json")
    return [boto3_item(item) for item in scenario.checkpoint_items]


def _picked(items: list[dict[str, Any]], selector: ItemSelector) -> dict[str, Any]:
    (n,) = selector.pick(items)
    return items[n]


WRITE = ItemSelector(checkpoint=0, part="write", task="__start__")


def _sealed(item: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The item's fields, after checking its pin and digest as the reader does."""
    assert bytes(item["pin"]["B"]) == pin_of(item)
    return chunking.unseal(bytes(item["payload"]["B"]))


def test_set_attribute_writes_a_typed_value_and_repins_only_when_asked() -> None:
    items = _items()
    edited = SetAttribute(attribute="ttl", value={"S": "soon"}).apply(items)
    head = _picked(edited, ItemSelector())
    assert head["ttl"] == {"S": "soon"}
    assert bytes(head["pin"]["B"]) != pin_of(head)  # an unsealed console edit
    resealed = SetAttribute(attribute="note", value={"B": "AAE="}, repin=True).apply(items)
    head = _picked(resealed, ItemSelector())
    assert head["note"] == {"B": b"\x00\x01"} and bytes(head["pin"]["B"]) == pin_of(head)
    assert _picked(items, ItemSelector()).get("note") is None  # a copy was edited
    with pytest.raises(ValidationError, match="base64"):
        SetAttribute(attribute="payload", value={"B": "not base64!"})
    with pytest.raises(ValidationError):
        SetAttribute(attribute="ttl", value={"S": "a", "N": "1"})


def test_a_rekeyed_item_is_part_of_no_checkpoint_for_later_operations() -> None:
    items = tamper(
        _items(),
        [
            SetAttribute(attribute=SK, value={"S": "$"}),  # the newest head: no layout
            SetAttribute(item=ItemSelector(checkpoint=0), attribute="ttl", value={"N": "1"}),
        ],
    )
    assert sum(1 for i in items if i[SK]["S"] == "$") == 1
    with pytest.raises(ValueError, match="does not follow the checkpoint layout"):
        keys.parse("$")


def test_retag_changes_one_field_tag_and_seals_the_payload_again() -> None:
    items = _items()
    before = _sealed(_picked(items, WRITE))
    after = _sealed(_picked(Retag(item=WRITE, field=3, tag="pickle").apply(items), WRITE))
    assert [t for t, _ in after] == [t if n != 3 else "pickle" for n, (t, _) in enumerate(before)]
    assert [d for _, d in after] == [d for _, d in before]
    with pytest.raises(TamperError, match=r"field 99: the payload has \d+ field"):
        Retag(item=WRITE, field=99, tag="x").apply(items)


def test_smuggle_type_stores_a_constructor_the_loader_refuses() -> None:
    items = SmuggleType(field=1, module="os", name="getenv", arg="HOME").apply(_items())
    tag, data = _sealed(_picked(items, ItemSelector()))[1]
    with pytest.raises(codec.UnsafePayloadError, match=r"\['os\.getenv'\]"):
        codec.loads(codec.default_serde(), tag, data)
    with pytest.raises(TamperError, match="tagged 'text', not 'msgpack'"):
        SmuggleType(item=WRITE, field=0, module="os", name="getenv").apply(_items())


def test_set_value_rewrites_a_stored_value_through_the_serializer() -> None:
    selector = ItemSelector(checkpoint=1, part="write", task="knowledge-rag")
    path: list[str | int] = ["knowledge-rag", "output", "confidence"]
    items = SetValue(item=selector, field=3, path=path, value=math.nan).apply(_items())
    tag, data = _sealed(_picked(items, selector))[3]
    stored = codec.loads(codec.default_serde(), tag, data)
    assert math.isnan(stored["knowledge-rag"]["output"]["confidence"])
    removed = SetValue(item=selector, field=3, path=["knowledge-rag"], delete=True).apply(_items())
    tag, data = _sealed(_picked(removed, selector))[3]
    assert codec.loads(codec.default_serde(), tag, data) == {}
    with pytest.raises(TamperError, match="no 'confidance' in the stored value"):
        SetValue(item=selector, field=3, path=[*path[:-1], "confidance"], value=1).apply(_items())


#: Set ``budget_usd`` in the head of the checkpoint after the first wave (its join
#: barrier holds the five agents' names: a set) and print the payload's digest.
_SET_VALUE_IN_A_CHILD = """
import hashlib, sys
from harness.authoring.tampering import ItemSelector, SetValue
from harness.scenario import boto3_item, load_scenario
scenario = load_scenario("scenarios/checkpoint-expired-write.json")
items = [boto3_item(item) for item in scenario.checkpoint_items]
head = ItemSelector(checkpoint=2, part="head")
items = SetValue(item=head, field=0, path=["channel_values", "budget_usd"], value="1").apply(items)
(n,) = head.pick(items)
sys.stdout.write(hashlib.sha256(bytes(items[n]["payload"]["B"])).hexdigest())
"""


def test_set_value_writes_the_same_bytes_whatever_the_hash_seed() -> None:
    """A set is re-encoded in sorted order, not the process's string-hash order: under
    hash seeds 1 and 2 the barrier's five names iterate differently (seen failing before
    sets were ordered), and ``author --check`` must not depend on ``PYTHONHASHSEED``."""
    digests = {
        subprocess.run(
            [sys.executable, "-c", _SET_VALUE_IN_A_CHILD],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1 and len(next(iter(digests))) == len(hashlib.sha256().hexdigest())


def test_hold_lease_adds_the_lease_a_dead_invocation_leaves_once_per_thread() -> None:
    lease = HoldLease(owner="dead-request", expires="2026-12-21T10:00:00Z")
    items = lease.apply(_items())
    (added,) = [i for i in items if i[SK]["S"] == LEASE_KEY]
    assert added["owner"] == {"S": "dead-request"}
    assert int(added["ttl"]["N"]) - int(added["expires_at"]["N"]) == 86_400
    assert added["session_id"] == _items()[0]["session_id"]
    with pytest.raises(TamperError, match="already holds a lease"):
        lease.apply(items)


def test_copy_write_stores_a_sealed_twin_under_another_slot_the_selector_can_pick() -> None:
    selector = ItemSelector(checkpoint=1, part="write", task="knowledge-rag")
    items = CopyWrite(item=selector, slot="r1").apply(_items())
    original = _picked(items, selector.model_copy(update={"slot": "r"}))
    twin = _picked(items, selector.model_copy(update={"slot": "r1"}))
    assert twin[SK]["S"] == original[SK]["S"][: -len("r")] + "r1"
    assert _sealed(twin) == _sealed(original) and twin["idx"] == original["idx"]
    assert len(items) == len(_items()) + 1
    edited = SetValue(
        item=selector.model_copy(update={"slot": "r1"}),
        field=3,
        path=["knowledge-rag", "output", "confidence"],
        value=0.5,
    ).apply(items)
    assert _sealed(_picked(edited, selector.model_copy(update={"slot": "r"}))) == _sealed(original)
    with pytest.raises(TamperError, match="slot 'r1' of that task is taken"):
        CopyWrite(item=selector, slot="r1").apply(items)
    with pytest.raises(TamperError, match="applies to an inline write item"):
        CopyWrite(item=ItemSelector(checkpoint=1), slot="r1").apply(_items())


def test_add_field_inserts_one_sealed_field() -> None:
    before = _sealed(_picked(_items(), WRITE))
    items = AddField(item=WRITE, text="0").apply(_items())
    assert _sealed(_picked(items, WRITE)) == [*before, ("text", b"0")]
    second = AddField(item=WRITE, tag="msgpack", at=1).apply(_items())
    assert _sealed(_picked(second, WRITE)) == [before[0], ("msgpack", b""), *before[1:]]
    with pytest.raises(TamperError, match=rf"at 999: the payload has {len(before)} field"):
        AddField(item=WRITE, at=999).apply(_items())


def test_set_field_replaces_one_fields_bytes_keeping_its_tag_sealed() -> None:
    before = _sealed(_picked(_items(), WRITE))
    items = SetField(item=WRITE, field=0, data="/w==").apply(_items())
    (edited,) = [i for i in items if i[SK] == _picked(_items(), WRITE)[SK]]
    assert _sealed(edited) == [("text", b"\xff"), *before[1:]]
    # A task path that is not text names no node: the selector no longer finds it.
    with pytest.raises(TamperError, match="no item matches"):
        WRITE.pick(items)
    with pytest.raises(TamperError, match=rf"field 99: the payload has {len(before)} field"):
        SetField(item=WRITE, field=99, data="").apply(_items())
    with pytest.raises(ValidationError, match="base64"):
        SetField(item=WRITE, field=0, data="not base64!")


def test_set_attribute_stores_a_boolean_unsealed_and_refuses_mistyped_values() -> None:
    """A BOOL is a console edit the saver cannot seal: ``repin`` refuses it by name."""
    edited = SetAttribute(attribute="reviewed", value={"BOOL": True}).apply(_items())
    assert _picked(edited, ItemSelector())["reviewed"] == {"BOOL": True}
    with pytest.raises(ValueError, match="'reviewed' has an unexpected type"):
        SetAttribute(attribute="reviewed", value={"BOOL": True}, repin=True).apply(_items())
    with pytest.raises(ValidationError, match="BOOL takes true or false"):
        SetAttribute(attribute="reviewed", value={"BOOL": "yes"})
    with pytest.raises(ValidationError, match="S takes text"):
        SetAttribute(attribute="reviewed", value={"S": True})


def test_rename_checkpoint_rekeys_every_item_and_reseals_every_owner() -> None:
    items = _items()
    old_head = _picked(items, ItemSelector(checkpoint=1))
    old_id = keys.parse(old_head[SK]["S"]).checkpoint_id
    new_id = old_id[:-1] + " "
    renamed = RenameCheckpoint(item=ItemSelector(checkpoint=1), text=" ").apply(items)
    head = next(i for i in renamed if i[SK]["S"] == keys.head_key("", new_id))
    assert head[SK]["S"].endswith("%20")
    (checkpoint_t, _) = _sealed(head)
    assert codec.loads(codec.default_serde(), *checkpoint_t)["id"] == new_id
    mine = [i for i in renamed if keys.parse(i[SK]["S"]).checkpoint_id == new_id]
    assert len(mine) == sum(
        1 for i in items if keys.parse(i[SK]["S"]).checkpoint_id == old_id
    ) and all(bytes(i["pin"]["B"]) == pin_of(i) for i in mine if "pin" in i)
    assert not any(keys.parse(i[SK]["S"]).checkpoint_id == old_id for i in renamed)
    child = _picked(renamed, ItemSelector(checkpoint=-1))
    assert child["parent_cid"] == {"S": new_id} and bytes(child["pin"]["B"]) == pin_of(child)
    with pytest.raises(TamperError, match="applies to a checkpoint head"):
        RenameCheckpoint(item=WRITE, text=" ").apply(items)


def test_the_lease_part_selects_the_threads_lease() -> None:
    held = HoldLease(owner="dead-request", expires="2026-12-21T10:00:00Z").apply(_items())
    lease = ItemSelector(part="lease")
    edited = DropAttribute(item=lease, attribute="expires_at").apply(held)
    (item,) = [i for i in edited if i[SK]["S"] == LEASE_KEY]
    assert "expires_at" not in item and item["owner"] == {"S": "dead-request"}
    with pytest.raises(TamperError, match="holds no lease"):
        lease.pick(_items())


# --------------------------------------------------------------------------- self-tests


def _project(tmp_path: Path, *names: str) -> Any:
    return bundled_project(tmp_path, names)


@pytest.mark.parametrize(
    ("name", "module", "attribute", "replacement"),
    [
        # refused tags reach the serializer: the pickle-tagged write is no longer refused
        ("checkpoint-edited-items", "codec", "REFUSED_TAGS", frozenset()),
        # consensus trusts a stored SUCCESS: the edited answers vote (or crash it)
        ("checkpoint-answers-edited", "consensus", "_unit_interval", lambda v, w: v),
        # the reader takes any checkpoint id: the space-ended one reaches LangGraph,
        # which fails on it with binascii's bare error instead of CHECKPOINT_CORRUPT
        ("checkpoint-edited-resumes", "items", "is_checkpoint_id", lambda text: True),
    ],
)
def test_the_gate_needs_the_edited_tables_to_see_these_checks(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    module: str,
    attribute: str,
    replacement: Any,
) -> None:
    import importlib

    target = importlib.import_module(
        {
            "codec": "opx.checkpointing.codec",
            "consensus": "opx.consensus",
            "items": "opx.checkpointing.items",
        }[module]
    )
    project = _project(tmp_path, name)
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    monkeypatch.setattr(target, attribute, replacement)
    report = tmp_path / "r.json"
    run = gate(capsys, project.args("--checks", "snapshot", "--json", str(report)))
    assert run.code != 0, run.out
    verdicts = {s["name"]: s for s in json.loads(report.read_text())["scenarios"]}
    assert "drift" in json.dumps(verdicts[name])
