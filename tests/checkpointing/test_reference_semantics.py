"""``put_writes`` and ``get_next_version`` behave as LangGraph's ``InMemorySaver``.

The same call sequences run against both savers; the pending writes each returns must
be equal (as multisets: InMemorySaver lists them in insertion order, this saver in
LangGraph's ``writes_sort_key`` order).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.base import WRITES_IDX_MAP, empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT, RESUME, SCHEDULED

from opx.checkpointing import DynamoDBCheckpointer

Call = tuple[str, list[tuple[str, Any]]]


def _run(saver: Any, thread: str, calls: list[Call]) -> list[tuple[str, str, Any]]:
    config = saver.put(
        {"configurable": {"thread_id": thread, "checkpoint_ns": ""}},
        empty_checkpoint(),
        {"source": "loop", "step": 0},
        {},
    )
    for task_id, writes in calls:
        saver.put_writes(config, writes, task_id, f"~p, {task_id}")
    tup = saver.get_tuple(config)
    assert tup is not None
    return sorted(tup.pending_writes, key=repr)


ISSUE_SEQUENCE: list[Call] = [("t1", [("a", 1), ("b", 2)]), ("t1", [("c", 3)])]


def test_the_first_write_per_task_and_index_wins(saver: DynamoDBCheckpointer) -> None:
    """The issue's example: InMemorySaver keeps a, b; the old saver kept only c."""
    expected = _run(InMemorySaver(), "t", ISSUE_SEQUENCE)
    assert expected == [("t1", "a", 1), ("t1", "b", 2)]
    assert _run(saver, "t", ISSUE_SEQUENCE) == expected


FIXED_SEQUENCES: list[list[Call]] = [
    [("t1", [("a", 1)]), ("t1", [("a", 9), ("b", 2), ("c", 3)]), ("t1", [("x", 0)])],
    [("t1", [(ERROR, "boom")]), ("t1", [(ERROR, "again"), ("a", 1)]), ("t1", [("b", 2)])],
    [("t1", [(INTERRUPT, {"ask": 1}), ("a", 1)]), ("t1", [(RESUME, "yes"), ("a", 2), ("b", 3)])],
    [("t1", [(SCHEDULED, None)]), ("t2", [("a", 1)]), ("t1", [("a", 2), (SCHEDULED, 1)])],
    [("t1", [("a", 1), (ERROR, "e1"), (ERROR, "e2")]), ("t2", [("b", 2), ("c", 3)])],
]


@pytest.mark.parametrize("calls", FIXED_SEQUENCES, ids=range(len(FIXED_SEQUENCES)))
def test_fixed_sequences_match_in_memory(saver: DynamoDBCheckpointer, calls: list[Call]) -> None:
    assert _run(saver, "t", calls) == _run(InMemorySaver(), "t", calls)


CHANNELS = st.sampled_from(["a", "b", "c", *sorted(WRITES_IDX_MAP)])
WRITES = st.lists(st.tuples(CHANNELS, st.integers(0, 9)), min_size=1, max_size=4)
SEQUENCES = st.lists(st.tuples(st.sampled_from(["t1", "t2"]), WRITES), min_size=1, max_size=4)
_threads = iter(range(10**9))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(calls=SEQUENCES)
def test_random_sequences_match_in_memory(saver: DynamoDBCheckpointer, calls: list[Call]) -> None:
    thread = f"t{next(_threads)}"
    assert _run(saver, thread, calls) == _run(InMemorySaver(), thread, calls)


@pytest.mark.parametrize(
    "current",
    [
        None,
        1,
        41,
        "00000000000000000000000000000001.0.1234",
        "00000000000000000000000000000007.0.5403291342567281",
    ],
)
def test_next_version_follows_in_memory_for_string_versions(
    saver: DynamoDBCheckpointer, current: Any
) -> None:
    ours = saver.get_next_version(current, None)
    reference = InMemorySaver().get_next_version(current, None)
    counter = int(reference.split(".")[0])
    if isinstance(current, str):
        assert isinstance(ours, str) and ours.split(".")[0] == reference.split(".")[0]
        assert ours > current and saver.get_next_version(ours, None) > ours
        assert ours == saver.get_next_version(current, None)  # no randomness: replays repeat
    else:
        assert ours == counter  # this saver's own checkpoints keep integer versions
