"""The sort-key layout keeps one checkpoint's items together, whatever the ids contain.

DynamoDB orders string keys by their UTF-8 bytes; the properties below sort that
way too, on ids drawn from all of Unicode (separators and escape characters
included), not only on LangGraph's hex ids.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opx.checkpointing import keys

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # UTF-8 cannot encode surrogates
    max_size=8,
)
ids = st.one_of(text, st.sampled_from(["#", "$", "%", "%23", "a#b", "a", "ab", "w", "c00001"]))


def utf8(key: str) -> bytes:
    return key.encode()


def between(key: str, bounds: tuple[str, str]) -> bool:
    return utf8(bounds[0]) <= utf8(key) <= utf8(bounds[1])


@given(ids)
def test_escape_round_trips_and_hides_separators(part: str) -> None:
    escaped = keys.escape(part)
    assert keys.unescape(escaped) == part
    assert "#" not in escaped and "$" not in escaped


@given(ids, ids)
def test_escape_preserves_order(a: str, b: str) -> None:
    # list() returns newest first by key order; `before` compares raw ids.
    assert (utf8(keys.escape(a)) < utf8(keys.escape(b))) == (a < b)


@given(st.lists(st.tuples(ids, ids), min_size=1, max_size=6, unique=True), ids)
def test_each_checkpoint_owns_exactly_its_key_range(checkpoints: list, task: str) -> None:
    owned: dict[str, tuple[str, str]] = {}
    for ns, cid in checkpoints:
        head = keys.head_key(ns, cid)
        regular = keys.write_key(ns, cid, task, keys.REGULAR_SLOT)
        for key in (
            head,
            keys.chunk_key(head, 3),
            regular,
            keys.write_key(ns, cid, task, "-1"),
            keys.chunk_key(regular, 0),
        ):
            owned[key] = (ns, cid)
    for ns, cid in checkpoints:
        inside = {k for k in owned if between(k, keys.checkpoint_range(ns, cid))}
        assert inside == {k for k, owner in owned.items() if owner == (ns, cid)}
        in_ns = {k for k in owned if between(k, keys.namespace_range(ns))}
        assert in_ns == {k for k, owner in owned.items() if owner[0] == ns}
    # Newest first, a checkpoint's head comes after all of its other items.
    newest_first = sorted(owned, key=utf8, reverse=True)
    for ns, cid in checkpoints:
        positions = [i for i, k in enumerate(newest_first) if owned[k] == (ns, cid)]
        assert positions == list(range(positions[0], positions[0] + len(positions)))
        assert newest_first[positions[-1]] == keys.head_key(ns, cid)


@given(ids, ids, ids, st.integers(min_value=0, max_value=99_999))
def test_parse_names_every_item(ns: str, cid: str, task: str, seq: int) -> None:
    head = keys.head_key(ns, cid)
    write = keys.write_key(ns, cid, task, "-3")
    assert keys.parse(head) == keys.ParsedKey(ns, cid, "head")
    assert keys.parse(write) == keys.ParsedKey(ns, cid, "write", task_id=task, slot="-3")
    assert keys.parse(keys.chunk_key(head, seq)) == keys.ParsedKey(
        ns, cid, "chunk", owner=head, seq=seq
    )
    assert keys.parse(keys.chunk_key(write, seq)) == keys.ParsedKey(
        ns, cid, "chunk", owner=write, seq=seq
    )


@pytest.mark.parametrize(
    "bad", ["no-separator", "ns#cid#x#y", "ns#cid#cxx", "ns#cid#w#task", "ns#%2#w#t#r"]
)
def test_parse_rejects_foreign_keys(bad: str) -> None:
    with pytest.raises(ValueError):
        keys.parse(bad)
