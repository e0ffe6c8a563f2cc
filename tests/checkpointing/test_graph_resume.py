"""A real LangGraph graph on the DynamoDB saver: when one of five parallel branches
fails after the others finished, a resume runs only the failed branch, and ends in
the state an uninterrupted run reaches.

Each resume uses a *new* saver and graph on the same table, as a new Lambda
execution environment picking up a redelivered event would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.types import ERROR
from langgraph.graph import END, START, StateGraph

from opx.checkpointing import DynamoDBCheckpointer

BRANCHES = ("change", "history", "knowledge", "risk", "signal")
FAILING = "knowledge"


def _merge(left: dict[str, str] | None, right: dict[str, str] | None) -> dict[str, str]:
    merged = {**(left or {}), **(right or {})}
    return {key: merged[key] for key in sorted(merged)}


class State(TypedDict, total=False):
    incident: str
    results: Annotated[dict[str, str], _merge]
    strategy: str
    decision: str


class Flaky:
    """Node bodies that count their calls; ``FAILING`` raises on its first call, but
    only once every other branch has returned."""

    def __init__(self, fail: bool, stored_writes: Callable[[], int] | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.fail = fail
        #: How many task-write items the table holds: the failing branch waits until
        #: the other branches' writes are durable, not merely returned (they are stored
        #: by LangGraph's background threads, after the node returns).
        self.stored_writes = stored_writes
        self._lock = threading.Lock()
        self._others_done = threading.Event()

    def _count(self, name: str) -> int:
        with self._lock:
            self.calls[name] += 1
            done = sum(self.calls[b] for b in BRANCHES if b != FAILING)
            if done == len(BRANCHES) - 1:
                self._others_done.set()
            return self.calls[name]

    def branch(self, name: str) -> Any:
        def run(state: State) -> State:
            attempt = self._count(name)
            if name == FAILING and self.fail and attempt == 1:
                assert self._others_done.wait(timeout=10), "other branches never finished"
                deadline = time.monotonic() + 10
                while self.stored_writes and self.stored_writes() < len(BRANCHES) - 1:
                    assert time.monotonic() < deadline, "other branches' writes never stored"
                    time.sleep(0.005)
                raise RuntimeError("ThrottlingException from Bedrock")
            return {"results": {name: f"{name} saw {state['incident']}"}}

        return run

    def node(self, name: str, update: Any) -> Any:
        def run(state: State) -> State:
            self._count(name)
            return update(state)

        return run


def build(checkpointer: BaseCheckpointSaver, nodes: Flaky) -> Any:
    builder = StateGraph(State)
    builder.add_node("entry", nodes.node("entry", lambda s: {"results": {}}))
    for name in BRANCHES:
        builder.add_node(name, nodes.branch(name))
        builder.add_edge("entry", name)
        builder.add_edge(name, "strategy")
    builder.add_node(
        "strategy", nodes.node("strategy", lambda s: {"strategy": "+".join(s["results"])})
    )
    builder.add_node("decide", nodes.node("decide", lambda s: {"decision": f"go:{s['strategy']}"}))
    builder.add_edge(START, "entry")
    builder.add_edge("strategy", "decide")
    builder.add_edge("decide", END)
    return builder.compile(checkpointer=checkpointer)


CONFIG = {
    "configurable": {"thread_id": "exec-42", "incident_id": "inc-7"},
    "metadata": {"incident_id": "inc-7"},
}
INPUT: State = {"incident": "inc-7"}


def uninterrupted() -> dict[str, Any]:
    return build(InMemorySaver(), Flaky(fail=False)).invoke(INPUT, CONFIG)


def invoke(graph: Any, value: State | None, *, use_async: bool) -> dict[str, Any]:
    if use_async:
        return asyncio.run(graph.ainvoke(value, CONFIG))
    return graph.invoke(value, CONFIG)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_resume_reruns_only_the_failed_branch(
    dynamodb: Any, table: str, count_calls: Any, use_async: bool
) -> None:
    def stored_writes() -> int:
        """Task-write items of the newest checkpoint (the parallel step's)."""
        keys = [i["checkpoint_id"]["S"] for i in dynamodb.scan(TableName=table)["Items"]]
        newest = max(k for k in keys if "#w#" not in k and "#c" not in k)
        return sum(1 for k in keys if k.startswith(f"{newest}#w#"))

    first = Flaky(fail=True, stored_writes=stored_writes)
    graph = build(DynamoDBCheckpointer(table, client=dynamodb), first)
    with pytest.raises(RuntimeError, match="ThrottlingException"):
        invoke(graph, INPUT, use_async=use_async)
    assert first.calls == Counter({"entry": 1, **dict.fromkeys(BRANCHES, 1)})

    # A new execution environment: new saver, new graph, same table.
    saver = DynamoDBCheckpointer(table, client=dynamodb)
    stored = saver.get_tuple(CONFIG)
    assert stored is not None
    writes = stored.pending_writes or []
    saved = [v for _, c, v in writes if c == "results"]
    assert len(saved) == len(BRANCHES) - 1
    assert _merge(*saved[:1], {k: v for r in saved for k, v in r.items()}) == {
        b: f"{b} saw inc-7" for b in BRANCHES if b != FAILING
    }
    assert [v for _, c, v in writes if c == ERROR] == [
        "RuntimeError('ThrottlingException from Bedrock')"
    ]

    second = Flaky(fail=False)  # the throttling has passed
    resumed = build(saver, second)
    snapshot = resumed.get_state(CONFIG)
    assert snapshot.next == (FAILING,)  # what the executor checks before resuming
    with count_calls(dynamodb) as calls:
        final = invoke(resumed, None, use_async=use_async)

    assert second.calls == Counter({FAILING: 1, "strategy": 1, "decide": 1})
    assert final == uninterrupted()
    # One Query to load; then per super-step one PutItem per finished task and one
    # for the checkpoint: knowledge, strategy, decide -> 3 writes + 3 checkpoints.
    assert calls == {"Query": 1, "PutItem": 6}

    done = build(DynamoDBCheckpointer(table, client=dynamodb), Flaky(fail=False))
    snapshot = done.get_state(CONFIG)
    assert snapshot.next == () and snapshot.values == final


def test_uninterrupted_run_matches_in_memory_and_is_indexed(dynamodb: Any, table: str) -> None:
    nodes = Flaky(fail=False)
    saver = DynamoDBCheckpointer(table, client=dynamodb)
    final = build(saver, nodes).invoke(INPUT, CONFIG)
    assert final == uninterrupted()
    assert nodes.calls == Counter(
        {"entry": 1, **dict.fromkeys(BRANCHES, 1), "strategy": 1, "decide": 1}
    )
    history = list(saver.list({"configurable": {"thread_id": "exec-42", "checkpoint_ns": ""}}))
    assert [t.metadata["step"] for t in history] == [4, 3, 2, 1, 0, -1]
    assert {t.metadata["incident_id"] for t in history} == {"inc-7"}
