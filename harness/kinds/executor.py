"""The ``executor`` kind: the opx incident-analysis Lambda, its graph and checkpoints.

The world is a fresh checkpoint table on moto and a cold start of the executor;
each event goes to ``opx.lambda_handler.handler``; the result is read back through
public surfaces only: the handler's responses, the checkpoint table, the EMF lines
the executor printed and the Bedrock calls the transport answered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from harness import canonical
from harness.kinds.base import KindFieldError, ScenarioKind
from harness.kinds.overlap import STAGINGS, Overlap
from harness.replayer import (
    CHECKPOINT_TABLE,
    LambdaContext,
    ReplayEnvironment,
    Replayer,
    ReplayResult,
    incident_index,
    read_checkpoints,
    replay_saver,
    table_items,
)
from harness.scenario import (
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    Fault,
    HttpAnswer,
    Interaction,
    Scenario,
    boto3_item,
)
from harness.wire import (
    Call,
    DynamoDBAnswers,
    LayerFactory,
    TransportLayer,
    agent_of,
    stream_usage,
)

if TYPE_CHECKING:
    from harness.authoring import ExecutorSpec


@dataclass
class ExecutorResult(ReplayResult):
    final_state: dict[str, Any] | None = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    bedrock_calls: list[dict[str, Any]] = field(default_factory=list)
    #: Every item of the checkpoint table, every attribute (see harness.replayer.table).
    table: list[dict[str, Any]] = field(default_factory=list)
    #: Incident id -> the executions ``find_executions`` lists for it (the GSI).
    index: dict[str, list[str] | str] = field(default_factory=dict)
    #: Why the read-back refused the execution's checkpoints, if it did (only a seeded,
    #: tampered table gets here: the executor refused it too). Canonical only when set,
    #: so a result without it reads as it always did.
    unreadable: str | None = None
    #: The calls of the operations a scenario's ``dynamodb`` script answers or logs
    #: (:mod:`harness.wire.dynamodb`); canonical only for such a scenario.
    dynamodb_calls: list[dict[str, Any]] | None = None
    #: What Lambda records for each invocation that raised (:func:`lambda_error`, with
    #: the invocation's position), oldest first; canonical only when one raised, so a
    #: result whose handler always returned reads as it always did.
    lambda_errors: list[dict[str, Any]] = field(default_factory=list)

    def canonical(self) -> dict[str, Any]:
        """Everything that defines behaviour; each checkpoint's full state is kept
        for the divergence report but only its digest is canonical."""
        refused = {} if self.unreadable is None else {"unreadable": self.unreadable}
        if self.dynamodb_calls is not None:
            refused["dynamodb_calls"] = self.dynamodb_calls
        if self.lambda_errors:
            refused["lambda_errors"] = self.lambda_errors
        return canonical.plain(
            {
                **refused,
                "scenario": self.scenario,
                "responses": self.responses,
                "final_state": canonical.elide_large(self.final_state),
                "checkpoints": [
                    {key: value for key, value in entry.items() if key != "state"}
                    for entry in self.checkpoints
                ],
                "metrics": self.metrics,
                "bedrock_calls": self.bedrock_calls,
                "table": self.table,
                "index": self.index,
                "clock": self.clock,
                **self.client_record(),
            }
        )

    def checkpoint_states(self) -> list[Any] | None:
        return [entry.get("state") for entry in self.checkpoints]


class ExecutorKind(ScenarioKind):
    name: ClassVar[str] = "executor"
    fields: ClassVar[frozenset[str]] = frozenset({"checkpoint_items", "dynamodb", "remaining_ms"})
    checks: ClassVar[frozenset[str]] = frozenset(
        {"snapshot", "repeat", "process", "order", "resume", "cost", "secrets"}
    )
    #: Checks that take the replay for the whole run: every Bedrock call the answer
    #: bills (cost), every checkpoint of the trail (resume) happened inside it.
    WHOLE_RUN_CHECKS: ClassVar[frozenset[str]] = frozenset({"cost", "resume"})

    def inapplicable(self, check: str, scenario: Scenario) -> str | None:
        """Besides the kind's checks: a scenario that starts from a seeded checkpoint
        table answers with work done before the replay (its bill, its checkpoints),
        which ``cost`` and ``resume`` would count as missing or wrong; one with scripted
        DynamoDB answers cannot be crashed and resumed call for call."""
        if check in self.WHOLE_RUN_CHECKS and scenario.checkpoint_items:
            return (
                "it starts from a seeded checkpoint table, so its answer includes Bedrock "
                "calls and checkpoints from before the replay"
            )
        if check == "resume" and scenario.dynamodb is not None and scenario.dynamodb.answers:
            return (
                "its scripted DynamoDB answers name calls by number, and the resume matrix's "
                "crashes and redeliveries add and drop calls: an answer would land elsewhere"
            )
        if check in self.WHOLE_RUN_CHECKS and len(executions := _executions(scenario)) > 1:
            return (
                f"its events start {len(executions)} executions, and {check} judges the calls "
                "and checkpoints of one"
            )
        if check == "resume" and (refused := _refused_configuration(scenario)) is not None:
            return (
                f"the executor refuses its configuration at cold start ({refused}): nothing "
                "runs, so nothing resumes (the matrix would have to change that configuration "
                "to pick a checkpointer)"
            )
        return super().inapplicable(check, scenario)

    def validate(self, scenario: Scenario) -> None:
        """Seeded items must carry the table's key (``S`` values) and be distinct:
        moto would refuse the first, and silently keep one of two duplicates."""
        from opx.checkpointing import TABLE_SCHEMA

        seen: set[tuple[str, str]] = set()
        for n, item in enumerate(scenario.checkpoint_items):
            key = []
            for name in (TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key):
                if "S" not in item.get(name, {}):
                    raise KindFieldError(
                        f"checkpoint_items[{n}].{name}",
                        f"checkpoint_items[{n}]: the key attribute {name!r} must be an S value",
                    )
                key.append(item[name]["S"])
            if (key[0], key[1]) in seen:
                raise KindFieldError(
                    f"checkpoint_items[{n}]",
                    f"checkpoint_items[{n}]: a second item with the key {tuple(key)!r}",
                )
            seen.add((key[0], key[1]))

    def prepare(self, scenario: Scenario) -> None:
        import opx.lambda_handler  # noqa: F401 -- see harness.replayer.clock

    def setup(self, env: ReplayEnvironment) -> None:
        from opx.checkpointing import TABLE_SCHEMA
        from opx.lambda_handler import cold_start

        # ``opx.checkpointing.create_table`` also waits for the table and switches on
        # TTL and point-in-time recovery: four more calls (~4 ms of every replay) that
        # change nothing a replay can observe -- moto creates tables ACTIVE, keeps TTL
        # and PITR as metadata only, and the executor reads neither.
        client = env.session.client("dynamodb")
        client.create_table(**TABLE_SCHEMA.create_table_request(CHECKPOINT_TABLE))
        # Seeded through the transport like any write, so moto stores them and the
        # written-items copy (the result's ``table``) starts from them too.
        for item in env.scenario.checkpoint_items:
            client.put_item(TableName=CHECKPOINT_TABLE, Item=boto3_item(item))
        scripted = env.transport.find(DynamoDBAnswers)
        if scripted is not None:
            scripted.arm()  # the executor's calls count from here, not the seeding's
        cold_start()

    def teardown(self, env: ReplayEnvironment) -> None:
        from opx.lambda_handler import cold_start

        cold_start()

    def layers(self) -> Sequence[LayerFactory]:
        # Scripted DynamoDB answers outermost: the first to see moto's answer, which
        # an unprocessed batch rewrites before any other layer reads it.
        return (Overlap, DynamoDBAnswers)

    def deliver(self, scenario: Scenario, transport: TransportLayer) -> list[Any]:
        """Each event once, in order -- or overlapping (``delivery: concurrent``, or
        ``concurrent-late``: the duplicate takes the lease just after the first
        finished; see :mod:`.overlap`); a failure the executor signals to Lambda by raising
        (:class:`opx.errors.ExecutionRetryError`, so Lambda retries and then
        dead-letters) is recorded as the structured response it carries, with what Lambda
        records for the failed invocation (each entry an :class:`Invocation`)."""
        from opx.lambda_handler import handler

        # The time left each invocation sees, if the scenario says (else the default).
        time_left = {} if scenario.remaining_ms is None else {"remaining_ms": scenario.remaining_ms}
        if scenario.delivery != "sequential":
            # Overlapping deliveries are separate invocations: request ids of their own.
            def invoke(event: Any, n: int) -> Any:
                context = LambdaContext(aws_request_id=f"replay-{n}", **time_left)
                return Invocation.of(handler, event, context)

            return STAGINGS[scenario.delivery](scenario.events, transport, invoke)
        context = LambdaContext(**time_left)
        return [Invocation.of(handler, event, context) for event in scenario.events]

    def collect(self, env: ReplayEnvironment, responses: list[Any]) -> ExecutorResult:
        """The result of a delivery; ``responses`` may hold :class:`Invocation` entries
        (the kind's own delivery) or plain responses (other deliveries: the redrive
        kind's, the resume matrix's), which record no Lambda error."""
        from opx.checkpointing import CheckpointCorruptError

        responses, lambda_errors = _unpacked(responses)
        scripted = env.transport.find(DynamoDBAnswers)
        if scripted is not None:
            scripted.disarm()  # the harness's own reads below are not the executor's calls
        aliases = canonical.Aliases("checkpoint")
        times: dict[str, str] = {}
        written = env.written
        written.check_readable()
        unreadable = None
        try:
            final_state, trail = read_checkpoints(responses, replay_saver(written), aliases, times)
        except CheckpointCorruptError as exc:
            # Only a seeded (tampered) table gets here: the executor refused it too. The
            # result says what the read-back refused, with no trail, instead of failing.
            final_state, trail, unreadable = None, [], str(exc)
        text = env.output.getvalue()
        return ExecutorResult(
            scenario=env.scenario.name,
            responses=responses,
            clock=env.clock_record(),
            logs=[line for line in text.splitlines() if '"_aws"' not in line],
            final_state=final_state,
            checkpoints=trail,
            metrics=[json.loads(ln) for ln in text.splitlines() if ln.startswith('{"_aws"')],
            bedrock_calls=bedrock_calls(env.scenario, env.transport.calls),
            table=table_items(written, env.scenario.clock.start, env.clock.now(), aliases, times),
            index=incident_index(env.session.client("dynamodb"), written),
            unreadable=unreadable,
            lambda_errors=lambda_errors,
            dynamodb_calls=None
            if env.scenario.dynamodb is None or scripted is None
            else scripted.log,
        )

    def summarize(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        responses: list[dict[str, Any]] = result["responses"]
        bodies = [r.get("body") if isinstance(r.get("body"), dict) else {} for r in responses]
        answered = next((b for b in reversed(bodies) if "agents" in b), {})
        calls: list[dict[str, Any]] = result["bedrock_calls"]
        faults = sum(1 for c in calls if c["outcome"] != "answer")
        tokens_in = sum(c["input_tokens"] for c in calls)
        tokens_out = sum(c["output_tokens"] for c in calls)
        billed = sum((Decimal(c["cost_usd"]) for c in calls), Decimal("0.000000"))
        cost = answered.get("cost", {})
        budget = cost.get("budget", {})
        agents = " ".join(f"{a}={s}" for a, s in sorted(answered.get("agents", {}).items()))
        return [
            ("scenario", result["scenario"]),
            ("status code", ", ".join(str(r.get("statusCode")) for r in responses) or "-"),
            ("status", ", ".join(str(b.get("status") or b.get("error") or "-") for b in bodies)),
            # What was recommended: the first thing a reader of the summary asks.
            ("top action", self.behaviour(result)["top action"]),
            ("agents", agents or "-"),
            (
                "cost",
                f"{cost['total_usd']} USD (budget {budget.get('budget_usd', '-')}, "
                f"{budget.get('state', '-')})"
                if cost
                else "-",
            ),
            ("checkpoints", str(len(result["checkpoints"]))),
            (
                "bedrock calls",
                f"{len(calls)} ({faults} faulted), {tokens_in} input + {tokens_out} output "
                f"tokens, {billed} USD",
            ),
            ("clock", f"{result['clock']['start']} -> {result['clock']['end']}"),
        ]

    def behaviour(self, result: dict[str, Any]) -> dict[str, str]:
        responses: list[dict[str, Any]] = result.get("responses", [])
        bodies = [r.get("body") if isinstance(r.get("body"), dict) else {} for r in responses]
        # The analysis's answer: an "in progress" duplicate or a rejected event says
        # nothing about it, so they count only when nothing else answered.
        final = next((b for b in reversed(bodies) if "status" in b), None) or next(
            (b for b in reversed(bodies) if "error" in b), {}
        )
        consensus = final.get("consensus") or {}
        cost = final.get("cost") or {}
        confidence = consensus.get("aggregated_confidence")
        out = {
            "status": str(final.get("status") or final.get("error") or "-"),
            "top action": str((consensus.get("recommendation") or {}).get("top_action") or "-"),
            "agreement": str(consensus.get("agreement_level") or "-"),
            "confidence": f"{confidence:.4f}" if isinstance(confidence, int | float) else "-",
            "cost": str(cost.get("total_usd") or "-"),
        }
        for agent, amount in sorted((cost.get("per_agent") or {}).items()):
            out[f"cost {agent}"] = str(amount)
        return out

    def author(self, spec: ExecutorSpec) -> Scenario:
        from harness.authoring.executor import author_executor

        return author_executor(spec)


def lambda_error(exc: BaseException) -> dict[str, str]:
    """What Lambda's Python runtime records for an invocation that raised ``exc``: the
    ``errorType`` (the class's bare name) and ``errorMessage`` (``str(exc)``) its
    bootstrap builds for the failed invocation -- the ``responsePayload`` of the
    on-failure destination's record, the ``ErrorMessage`` of a dead-letter message. The
    runtime's ``stackTrace`` is left out: it names files and line numbers, which change
    with every edit of the code and say nothing about behaviour."""
    return {"errorType": type(exc).__name__, "errorMessage": str(exc)}


@dataclass(frozen=True)
class Invocation:
    """One handler call as Lambda sees it: the structured response it answered or
    raised, and, when it raised, what Lambda records for it (:func:`lambda_error`).

    The response alone is not enough: for an asynchronous invocation Lambda keeps only
    the raised exception's type and text, so the text (``str(exc)``, the response as
    canonical JSON) is behaviour a snapshot must pin as well."""

    response: Any
    error: dict[str, str] | None = None

    @classmethod
    def of(cls, call: Any, event: Any, context: Any) -> Invocation:
        """``call(event, context)``, the one exception the handler raises on purpose
        (:class:`opx.errors.ExecutionRetryError`) caught and recorded as Lambda would;
        anything else propagates: a bug the replay must report, not a response."""
        from opx.errors import ExecutionRetryError

        try:
            return cls(call(event, context))
        except ExecutionRetryError as exc:
            return cls(exc.response, lambda_error(exc))


def _unpacked(delivered: list[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """The responses of a delivery, and the Lambda error of each invocation that raised."""
    responses: list[Any] = []
    errors: list[dict[str, Any]] = []
    for n, entry in enumerate(delivered):
        if isinstance(entry, Invocation):
            if entry.error is not None:
                errors.append({"invocation": n, **entry.error})
            entry = entry.response
        responses.append(entry)
    return responses, errors


def replay_executor(scenario: Scenario, replayer: Replayer | None = None) -> ExecutorResult:
    """:func:`harness.replayer.replay` for callers that need the executor's result fields
    (checkpoints, Bedrock calls): anything else is a caller's mistake, said loudly."""
    result = (replayer or Replayer()).run(scenario)
    if not isinstance(result, ExecutorResult):
        raise TypeError(f"{scenario.name} is a {scenario.kind} scenario, not an executor one")
    return result


def bedrock_calls(scenario: Scenario, calls: list[Call]) -> list[dict[str, Any]]:
    """Every answered Bedrock call with its tokens and cost, in a stable order.

    Reported from what went over the wire, not from how the scenario file groups
    its answers: a recorded scenario holds a throttle and its retry as two
    interactions, an authored one as a fault before the answer of one interaction --
    both are the same two HTTP exchanges, and read the same here. ``attempt`` is the
    agent's n-th call, ``where`` says how a failed one failed (``http`` status,
    ``stream`` exception or ``network`` error), and ``outcome`` is ``answer``,
    ``fault:<code>`` (the agent was called again) or ``error:<code>`` (its last call
    failed). Tokens and cost
    come from the traces of every answered stream, a failed one included: Bedrock
    bills what the model did before the stream broke.
    """
    from opx.cost import agent_cost, load_pricing

    pricing = load_pricing()
    rows = []
    for call in calls:
        interaction = scenario.interactions[call.interaction]
        usage = {"input_tokens": 0, "output_tokens": 0}
        model_id = None
        where, code = _failure(interaction, call.attempt)
        billed: EventStreamAnswer | Fault | None = None
        if call.attempt < len(interaction.faults):
            fault = interaction.faults[call.attempt]
            billed = fault if fault.traces else None  # a stream fault the model ran before
        elif isinstance(interaction.response, EventStreamAnswer):
            billed = interaction.response
        streamed = billed is not None
        if billed is not None:
            usage, model_id = stream_usage(billed)
        rows.append(
            {
                "service": call.service,
                "operation": call.operation,
                "agent": agent_of(interaction.request),
                "interaction": call.interaction,
                "where": where,
                "code": code,
                "model_id": model_id,
                **usage,
                "cost_usd": str(agent_cost(usage, model_id, pricing))
                if streamed
                else str(Decimal("0.000000")),
            }
        )
    last: dict[str | None, int] = {}
    attempts: dict[str | None, int] = {}
    for index, row in enumerate(rows):
        last[row["agent"]] = index
    out = []
    for index, row in enumerate(rows):
        agent = row["agent"]
        attempt = attempts.get(agent, 0)
        attempts[agent] = attempt + 1
        where, code = row.pop("where"), row.pop("code")
        if where is None:
            outcome = "answer"
        else:
            outcome = f"{'error' if last[agent] == index else 'fault'}:{code}"
        out.append({**row, "attempt": attempt, "outcome": outcome, "where": where})
    return sorted(out, key=lambda c: (c["agent"] or "", c["attempt"]))


def _failure(interaction: Interaction, attempt: int) -> tuple[str | None, str | None]:
    """How the exchange answered by ``attempt`` of ``interaction`` failed, if it did:
    ``(where, code)``, ``where`` ``http`` (an error status), ``stream`` (an exception
    inside a 200 event stream) or ``network`` (no answer: a botocore connection error)."""
    if attempt < len(interaction.faults):
        fault = interaction.faults[attempt]
        return fault.where, fault.error
    answer = interaction.response
    if isinstance(answer, ErrorAnswer):
        return "http", answer.code
    if isinstance(answer, HttpAnswer) and answer.status >= 400:
        return "http", f"http-{answer.status}"
    if isinstance(answer, EventStreamAnswer):
        for event in answer.events:
            if isinstance(event, ExceptionEvent):
                return "stream", event.exception.type
    return None, None


def _executions(scenario: Scenario) -> set[str]:
    """The execution ids the scenario's events start (refused events start none)."""
    from opx.events import EventValidationError, parse_event
    from opx.ids import execution_id

    found: set[str] = set()
    for event in scenario.events:
        try:
            found.add(execution_id(parse_event(event)))
        except EventValidationError:
            continue
    return found


def _refused_configuration(scenario: Scenario) -> str | None:
    """Why the executor's cold start refuses the scenario's environment, if it does."""
    from harness.replayer import BASE_ENV
    from opx.config import ConfigurationError, Settings

    try:
        Settings.from_env({**BASE_ENV, **scenario.env})
    except ConfigurationError as exc:
        return str(exc)
    return None


__all__ = [
    "ExecutorKind",
    "ExecutorResult",
    "Invocation",
    "bedrock_calls",
    "lambda_error",
    "replay_executor",
]
