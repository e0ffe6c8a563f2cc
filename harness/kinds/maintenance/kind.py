"""The ``maintenance`` kind: the checkpointer's operator surface, replayed on moto.

Operators list, fetch, copy, prune and delete execution threads, and tests, local
runs and the harness create the checkpoint table with ``opx.checkpointing``; none of
that runs inside the executor's Lambda, so no executor scenario exercises it, and a
deploy that broke ``prune`` (dropping the newest checkpoint) or ``create_table`` (no
TTL, no point-in-time recovery) would pass the gate. A maintenance scenario proves
them on real executions, with nothing replaced:

* the world: the executor kind's (moto, the checkpoint table, optional
  ``checkpoint_items``, optional scripted ``dynamodb`` answers), then the scenario's
  ``events`` delivered to the real executor handler, Bedrock answered from the
  recorded interactions -- so the table holds real executions;
* the run: the scenario's ``maintenance`` operations in order, each on the real
  :class:`opx.checkpointing.DynamoDBCheckpointer` (its ``a*`` twin with
  ``asynchronous: true``) or ``opx.checkpointing.create_table`` /
  ``TABLE_SCHEMA`` -- the registry :data:`.operations.OPERATIONS` says which;
* the result: each executor answer in one line, which thread each ``@execution``
  reference named, the table's keys after the executions, and per operation what it
  returned (or ``Type: message`` of what it raised) and the table's keys after it
  (``table_after``; ``unchanged`` when it is the same as before the operation) --
  checkpoint ids as ordinal aliases (``checkpoint-3``, oldest first), each item's
  ``ttl`` relative to the scenario's clock -- so a prune that keeps the wrong
  checkpoint, or a copy that drops items or their fresh ``ttl``, shows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness import canonical
from harness.kinds.base import KindFieldError, ScenarioKind
from harness.kinds.executor import ExecutorKind, Invocation
from harness.kinds.maintenance.operations import (
    CHECKPOINT_REF,
    DESCRIBED_AFTER,
    EXECUTION_REF,
    OPERATIONS,
    Context,
    UnresolvedReferenceError,
    item_name,
)
from harness.replayer import CHECKPOINT_TABLE, ReplayEnvironment, ReplayResult
from harness.scenario import Scenario
from harness.wire import DynamoDBAnswers, LayerFactory, TransportLayer

if TYPE_CHECKING:
    from harness.kinds.maintenance.authoring import MaintenanceRecipe

#: Seconds of (frozen) clock between the last execution and the first operation.
OPERATOR_DELAY_S = 60


@dataclass
class MaintenanceResult(ReplayResult):
    #: Each executor answer: status code and the body's status or error.
    executions: list[str] = field(default_factory=list)
    #: ``@execution:<n>`` -> the thread id it named.
    threads: dict[str, str] = field(default_factory=dict)
    #: The checkpoint table's keys once the executions ran, by thread.
    table: dict[str, list[str]] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    #: The calls a scenario's ``dynamodb`` script answers or logs, if it has one.
    dynamodb_calls: list[dict[str, Any]] | None = None

    def canonical(self) -> dict[str, Any]:
        scripted = {} if self.dynamodb_calls is None else {"dynamodb_calls": self.dynamodb_calls}
        return canonical.plain(
            {
                **scripted,
                "scenario": self.scenario,
                "kind": "maintenance",
                "executions": self.executions,
                "threads": self.threads,
                "table": self.table,
                "operations": self.operations,
                "clock": self.clock,
                **self.client_record(),
            }
        )


class MaintenanceKind(ScenarioKind):
    name: ClassVar[str] = "maintenance"
    fields: ClassVar[frozenset[str]] = frozenset(
        {"kind", "checkpoint_items", "dynamodb", "maintenance"}
    )
    checks: ClassVar[frozenset[str]] = frozenset({"snapshot", "repeat", "process", "secrets"})
    _executor: ClassVar[ExecutorKind] = ExecutorKind()

    def inapplicable(self, check: str, scenario: Scenario) -> str | None:
        if check in self.checks:
            return None
        return (
            "it judges the executor's own run (its order, resumes and bill), and a "
            "maintenance scenario's subject is what operators do to the table afterwards"
        )

    def validate(self, scenario: Scenario) -> None:
        """Operations must be there and their ``@execution`` references name events;
        the seeded table is checked as the executor's is."""
        if not scenario.maintenance:
            raise KindFieldError(
                "maintenance", "a maintenance scenario lists its operations (at least one)"
            )
        for n, op in enumerate(scenario.maintenance):
            for name, value in op:
                for ref in value if isinstance(value, list) else [value]:
                    if not isinstance(ref, str):
                        continue
                    if ref.startswith(CHECKPOINT_REF):
                        ref = ref[len(CHECKPOINT_REF) :].rpartition(":")[0]
                    if ref.startswith(EXECUTION_REF):
                        index = int(ref[len(EXECUTION_REF) :])
                        if index >= len(scenario.events):
                            raise KindFieldError(
                                f"maintenance[{n}].{name}",
                                f"maintenance[{n}].{name}: {ref} names event {index}; the "
                                f"scenario has {len(scenario.events)}",
                            )
        self._executor.validate(scenario)

    def prepare(self, scenario: Scenario) -> None:
        import opx.checkpointing  # noqa: F401 -- see harness.replayer.clock

        self._executor.prepare(scenario)

    def layers(self) -> Sequence[LayerFactory]:
        return self._executor.layers()

    def setup(self, env: ReplayEnvironment) -> None:
        self._executor.setup(env)

    def teardown(self, env: ReplayEnvironment) -> None:
        self._executor.teardown(env)

    def deliver(self, scenario: Scenario, transport: TransportLayer) -> list[Any]:
        """The events to the executor, then each operation once, in order.

        The responses are the executor's answers, then one record per operation (the
        result splits them again); the aliases are fixed between the two, from every
        checkpoint the executions left."""
        import boto3

        from opx.checkpointing import DynamoDBCheckpointer

        # The executions only set the table up: their answers, not Lambda's record of
        # a raised one (the executor kind's own result shows that).
        answers = [
            answer.response if isinstance(answer, Invocation) else answer
            for answer in self._executor.deliver(scenario, transport)
        ]
        executed = time.time()
        # The operator comes a minute later (the frozen clock advances, no one waits):
        # a ttl the operations write is then told apart from one the executions wrote.
        time.sleep(OPERATOR_DELAY_S)
        ctx = Context(
            saver=DynamoDBCheckpointer(CHECKPOINT_TABLE),
            client=boto3.client("dynamodb"),
            table=CHECKPOINT_TABLE,
            events=list(scenario.events),
            start=scenario.clock.start,
            executed=executed,
            operated=time.time(),
        )
        ctx.aliases = _aliases(ctx)
        threads = {}
        for n in range(len(scenario.events)):
            try:
                threads[f"{EXECUTION_REF}{n}"] = ctx.thread(f"{EXECUTION_REF}{n}", "events")
            except UnresolvedReferenceError:
                continue  # not an incident: it names no thread
        table = _keys(ctx)
        records: list[Any] = [{"threads": threads, "table": table}]
        for n, op in enumerate(scenario.maintenance):
            where = f"$.maintenance[{n}]"
            record: dict[str, Any] = {"op": op.op, "args": _arguments(op)}
            try:
                returned = OPERATIONS[op.op](op, ctx, where)
                record["returned"] = returned
            except UnresolvedReferenceError:
                raise  # the scenario's mistake, not the code's answer
            except Exception as exc:
                record["raised"] = f"{type(exc).__name__}: {exc}"
            describe = DESCRIBED_AFTER.get(op.op)
            if describe is not None:  # whether or not the operation raised
                record["described"] = describe(op, ctx)
            after = _keys(ctx)
            # Reads leave the table as it was: say so instead of listing it again.
            record["table_after"] = "unchanged" if after == table else after
            table = after
            records.append(record)
        return [*answers, *records]

    def collect(self, env: ReplayEnvironment, responses: list[Any]) -> MaintenanceResult:
        scripted = env.transport.find(DynamoDBAnswers)
        if scripted is not None:
            scripted.disarm()
        count = len(env.scenario.events)
        answers, first, operations = responses[:count], responses[count], responses[count + 1 :]
        return MaintenanceResult(
            scenario=env.scenario.name,
            responses=responses,
            clock=env.clock_record(),
            logs=env.output.getvalue().splitlines(),
            executions=[_answer_line(answer) for answer in answers],
            threads=first["threads"],
            table=first["table"],
            operations=operations,
            dynamodb_calls=None
            if env.scenario.dynamodb is None or scripted is None
            else scripted.log,
        )

    def summarize(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        behaviour = self.behaviour(result)
        rows = [
            ("scenario", result["scenario"]),
            ("executions", behaviour["executions"]),
            ("operations", behaviour["operations"]),
        ]
        rows += [
            (f"{n}. {op['op']}", _outcome(op)) for n, op in enumerate(result.get("operations", []))
        ]
        rows.append(("clock", f"{result['clock']['start']} -> {result['clock']['end']}"))
        return rows

    def behaviour(self, result: dict[str, Any]) -> dict[str, str]:
        """What the executions answered, how many operations ran, and each one's
        outcome in one line: what it returned (checkpoints, steps) or raised, and how
        many items the table held after it."""
        operations = result.get("operations", [])
        rolled = {
            "executions": ", ".join(result.get("executions", [])) or "-",
            "operations": str(len(operations)),
        }
        for n, op in enumerate(operations):
            rolled[f"{n}. {op.get('op')}"] = _outcome(op)
        return rolled

    def author(self, spec: MaintenanceRecipe) -> Scenario:
        from harness.kinds.maintenance.authoring import author_maintenance

        return author_maintenance(spec)


def _arguments(op: Any) -> dict[str, Any]:
    """What the operation was asked, as written (references unresolved)."""
    return {
        name: value
        for name, value in op.model_dump(mode="json").items()
        if name != "op" and value is not None and not (name == "asynchronous" and not value)
    }


def _aliases(ctx: Context) -> dict[str, str]:
    """Every checkpoint id in the table, oldest first (uuid6 ids sort by time) ->
    ``checkpoint-<n>``: the same names on every run, whatever the ids."""
    from opx.checkpointing import TABLE_SCHEMA, keys

    ids = set()
    for item in ctx.scan(attributes=(TABLE_SCHEMA.sort_key,)):
        sort_key = item[TABLE_SCHEMA.sort_key]["S"]
        if not keys.is_meta(sort_key):
            ids.add(keys.parse(sort_key).checkpoint_id)
    return {cid: f"checkpoint-{n}" for n, cid in enumerate(sorted(ids))}


def _keys(ctx: Context) -> dict[str, list[str]]:
    """The table's items by thread, each as ``<what> <ttl>``: a head ``checkpoint-3``,
    a task's writes ``checkpoint-3 write r`` (task ids derive from uuid6 ids: left
    out), a chunk ``... chunk 0``. Sorted, so the order items were read in does not
    show. See :func:`_ttl` for the ttl."""
    from opx.checkpointing import TABLE_SCHEMA

    by_thread: dict[str, list[str]] = {}
    listed = (TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key, TABLE_SCHEMA.ttl_attribute)
    for item in ctx.scan(attributes=listed):
        sort_key = item[TABLE_SCHEMA.sort_key]["S"]
        shown = _ttl(item.get(TABLE_SCHEMA.ttl_attribute, {}).get("N"), ctx)
        by_thread.setdefault(item[TABLE_SCHEMA.partition_key]["S"], []).append(
            f"{item_name(sort_key, ctx)} {shown}"
        )
    return {thread: sorted(found) for thread, found in sorted(by_thread.items())}


def _ttl(ttl: str | None, ctx: Context) -> str:
    """An item's ``ttl`` as the saver's ``ttl_days`` explains it: ``ttl:run`` for one
    the executions wrote (parallel agents store their writes at times that vary from
    run to run, so the exact second is not shown), ``ttl:ops+<s>`` for one written
    ``<s>`` seconds into the operations (a copy's fresh ttl is ``ops+0s``), anything
    else (a seeded item's) in seconds from the scenario's start, ``no ttl`` without."""
    if ttl is None:
        return "no ttl"
    lifetime = ctx.saver.ttl_days * 86_400
    written = int(ttl) - lifetime
    if int(ctx.start.timestamp()) <= written <= int(ctx.executed):
        return "ttl:run"
    if written >= int(ctx.operated):
        return f"ttl:ops+{written - int(ctx.operated)}s"
    return f"ttl:start+{int(ttl) - int(ctx.start.timestamp())}s"


def _answer_line(answer: Any) -> str:
    if not isinstance(answer, dict):
        return str(answer)
    body = answer.get("body") if isinstance(answer.get("body"), dict) else {}
    return f"{answer.get('statusCode')} {body.get('status') or body.get('error') or '-'}"


def _outcome(op: dict[str, Any]) -> str:
    """One line: what an operation returned or raised, then the table's size."""
    if "raised" in op:
        said = f"raised {op['raised']}"
    else:
        returned = op.get("returned")
        if isinstance(returned, list):
            said = "[" + ", ".join(_tuple_line(t) for t in returned) + "]"
        elif isinstance(returned, dict) and "checkpoint" in returned:
            said = _tuple_line(returned)
        elif op.get("op") == "create-table":
            described = op.get("described", {})
            said = (
                f"ttl {described.get('time_to_live', {}).get('status')}, pitr "
                f"{described.get('continuous_backups', {}).get('point_in_time_recovery')}"
            )
        elif isinstance(returned, dict):
            said = f"{len(returned)} properties"
        else:
            said = str(returned)
    table = op.get("table_after", {})
    if not isinstance(table, dict):
        return f"{said}; table {table}"
    return f"{said}; table: {sum(len(found) for found in table.values())} items"


def _tuple_line(tup: Any) -> str:
    if not isinstance(tup, dict):
        return str(tup)
    return f"{tup.get('checkpoint')} step {tup.get('step')} {tup.get('source')}"


__all__ = ["MaintenanceKind", "MaintenanceResult"]
