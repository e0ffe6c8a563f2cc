"""DynamoDBCheckpointer vs langgraph-checkpoint-aws's DynamoDBSaver, on moto.

The same 8-node graph (1 entry, 5 parallel, 2 sequential) runs N times with each
saver; every invocation gets a fresh, empty table (moto's Query time grows with
table size, so a shared table would measure the table, not the saver). Table
creation is not timed. DynamoDB calls are counted with botocore's
``before-call`` event on the saver's own client: one count per API call,
retries excluded. InMemorySaver runs the graph too, as the floor.

    python bench/checkpointer.py [--runs 30] [--warmup 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from opx.checkpointing import DynamoDBCheckpointer, create_table

PARALLEL = ("change", "history", "knowledge", "risk", "signal")
REGION = "us-east-1"


def _merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**(left or {}), **(right or {})}
    return {key: merged[key] for key in sorted(merged)}


class BenchState(TypedDict, total=False):
    incident: dict[str, Any]
    results: Annotated[dict[str, Any], _merge]
    strategy: dict[str, Any]
    decision: dict[str, Any]


def _result(name: str, incident: dict[str, Any]) -> dict[str, Any]:
    # Roughly an agent result: a hypothesis, a few recommendations, token usage.
    text = f"{name} looked at {incident['id']}: " + "evidence " * 150
    return {
        "agent": name,
        "status": "SUCCESS",
        "hypothesis": text,
        "recommendations": [
            {"type": "rollback", "description": f"{name} step {i}", "confidence": 0.5}
            for i in range(3)
        ],
        "usage": {"input_tokens": 1200, "output_tokens": 300},
    }


def build_graph(checkpointer: BaseCheckpointSaver) -> Any:
    builder = StateGraph(BenchState)
    builder.add_node("entry", lambda s: {"results": {}})
    for name in PARALLEL:
        builder.add_node(name, lambda s, n=name: {"results": {n: _result(n, s["incident"])}})
        builder.add_edge("entry", name)
        builder.add_edge(name, "strategy")
    builder.add_node("strategy", lambda s: {"strategy": {"plan": sorted(s["results"])}})
    builder.add_node("decide", lambda s: {"decision": {"agents": len(s["results"])}})
    builder.add_edge(START, "entry")
    builder.add_edge("strategy", "decide")
    builder.add_edge("decide", END)
    return builder.compile(checkpointer=checkpointer)


@dataclass
class Result:
    name: str
    millis: list[float]
    calls: list[Counter[str]]

    @property
    def ms(self) -> float:
        return statistics.median(self.millis)

    @property
    def calls_per_invoke(self) -> float:
        return statistics.mean(sum(c.values()) for c in self.calls)

    def breakdown(self) -> str:
        total: Counter[str] = Counter()
        for c in self.calls:
            total.update(c)
        runs = len(self.calls)
        return ", ".join(f"{op} {n / runs:g}" for op, n in sorted(total.items()))


@contextmanager
def _counting(client: Any, counts: Counter[str]) -> Iterator[None]:
    """Count API calls made through ``client`` (none to count when it is None)."""

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    if client is None:
        yield
        return
    client.meta.events.register("before-call.dynamodb", count)
    try:
        yield
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)


def _create_aws_saver_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
    )


@dataclass(frozen=True)
class Contender:
    name: str
    #: Builds a saver on a fresh table; returns it and the client to count calls on.
    make_saver: Callable[[str], tuple[BaseCheckpointSaver, Any]]
    make_table: Callable[[Any, str], None] | None = None


def _invoke_once(
    contender: Contender, client: Any, run: int
) -> tuple[float, Counter[str], dict[str, Any]]:
    """One invocation on a fresh table and a fresh thread; only ``invoke`` is timed."""
    table = f"bench-{contender.name}-{run}"
    if contender.make_table is not None:
        contender.make_table(client, table)
    saver, saver_client = contender.make_saver(table)
    graph = build_graph(saver)
    config = {"configurable": {"thread_id": f"exec-{run}", "incident_id": "inc-1"}}
    state = {"incident": {"id": "inc-1", "service": "checkout"}}
    counts: Counter[str] = Counter()
    with _counting(saver_client, counts):
        started = time.perf_counter()
        final = graph.invoke(state, config)
        elapsed = time.perf_counter() - started
    if contender.make_table is not None:
        client.delete_table(TableName=table)
    return elapsed * 1000, counts, final


def compare(
    contenders: list[Contender], client: Any, *, runs: int, warmup: int
) -> dict[str, Result]:
    """Interleave the contenders run by run, rotating who goes first, so that a
    noisy moment on the machine hits all of them alike."""
    results = {c.name: Result(c.name, [], []) for c in contenders}
    finals: dict[str, dict[str, Any]] = {}
    for run in range(warmup + runs):
        shift = run % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            millis, counts, finals[contender.name] = _invoke_once(contender, client, run)
            if run >= warmup:
                results[contender.name].millis.append(millis)
                results[contender.name].calls.append(counts)
    reference = finals[contenders[0].name]
    for name, final in finals.items():
        if final != reference:
            raise AssertionError(f"{name} produced a different final state")
    return results


def run(runs: int = 30, warmup: int = 3) -> dict[str, Result]:
    """Run the comparison inside one moto mock; returns results by contender name."""
    import boto3
    from langgraph_checkpoint_aws import DynamoDBSaver
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(key, value)

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)

        def theirs(table: str) -> tuple[BaseCheckpointSaver, Any]:
            saver = DynamoDBSaver(table, region_name=REGION)
            return saver, saver.client

        contenders = [
            Contender("memory", lambda _table: (InMemorySaver(), None)),
            Contender(
                "opx",
                lambda table: (DynamoDBCheckpointer(table, client=client), client),
                create_table,
            ),
            Contender("aws", theirs, _create_aws_saver_table),
        ]
        return compare(contenders, client, runs=runs, warmup=warmup)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    results = run(args.runs, args.warmup)
    labels = {
        "memory": "InMemorySaver",
        "opx": "opx DynamoDBCheckpointer",
        "aws": "langgraph-checkpoint-aws DynamoDBSaver",
    }
    print(f"8-node graph (1 entry, 5 parallel, 2 sequential), {args.runs} invocations each, moto")
    for key, result in results.items():
        line = f"  {labels[key]:<40} {result.ms:7.2f} ms/invoke (median)"
        if key != "memory":
            line += f"  {result.calls_per_invoke:5.1f} DynamoDB calls/invoke ({result.breakdown()})"
        print(line)
    ours, theirs = results["opx"], results["aws"]
    call_ratio = ours.calls_per_invoke / theirs.calls_per_invoke
    speedup = theirs.ms / ours.ms
    print(f"  calls: opx/aws = {call_ratio:.3f} (target <= 0.333)")
    print(f"  time:  aws/opx = {speedup:.2f}x faster (target >= 3x)")
    floor = results["memory"].ms
    saver_only = (theirs.ms - floor) / (ours.ms - floor)
    print(f"         without the graph's own cost (InMemorySaver time): {saver_only:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
