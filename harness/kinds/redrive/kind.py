"""The ``redrive`` kind: ``python -m opx.redrive`` over the executor's dead-letter queue.

The recovery path must never lose an incident and never pay twice: a redriven event
keeps its execution id, so a completed execution answers from its checkpoint and an
interrupted one resumes without paying the agents that finished. A redrive scenario
proves it end to end, with nothing of the redrive or the executor replaced:

* the world: the dead-letter queue on moto, holding the scenario's ``events`` as its
  message bodies in order (a string verbatim, anything else as its JSON), and the
  executor's checkpoint table seeded as the executor kind seeds it
  (``checkpoint_items``: an execution interrupted mid-graph, say);
* the run: the real ``opx.redrive.main(argv)`` on boto3's default session, its stdout,
  stderr and exit code captured; each Lambda ``Invoke`` it sends is answered by
  :class:`~harness.kinds.redrive.invokes.RedriveWire` (``202``, the event queued) and,
  once the command has returned, the real executor handler runs on every accepted
  event in order, as Lambda runs an asynchronous invocation after accepting it, its
  Bedrock calls answered from the scenario's interactions;
* the result: the redrive's report and exit code, its calls in order, each invocation
  with what the executor answered, the messages left in the queue, and the executor's
  own result -- Bedrock calls (so paying twice shows), checkpoints, table -- read by
  :class:`~harness.kinds.executor.ExecutorKind` itself.

Lambda's retries of a failed asynchronous invocation, and its on-failure destination,
are not modelled: the executor's answer is shown, so an invocation that would be
dead-lettered again reads as one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness import canonical
from harness.kinds.base import KindFieldError, ScenarioKind
from harness.kinds.executor import ExecutorKind, ExecutorResult
from harness.kinds.redrive.invokes import RedriveWire
from harness.replayer import LambdaContext, ReplayEnvironment, ReplayResult
from harness.scenario import Scenario
from harness.wire import LayerFactory, TransportLayer

if TYPE_CHECKING:
    from harness.kinds.redrive.authoring import RedriveRecipe

#: moto's account and region: where the replay's queue lives.
ACCOUNT = "123456789012"
REGION = "us-east-1"
#: moto's random source is seeded with this for each replay, so the queue's message
#: ids -- the redrive sorts its report by them -- repeat.
MOTO_SEED = 15
#: The executor's part of the canonical result that the redrive result shows elsewhere
#: (its responses are each invocation's answer) or once (scenario, clock).
_SHOWN_ELSEWHERE = ("scenario", "responses", "clock")


def queue_url(queue: str) -> str:
    """The URL of ``queue`` on moto, as an operator passes it to ``--queue-url``."""
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}"


def message_body(event: Any) -> str:
    """A scenario event as a message body: a string verbatim, anything else as JSON."""
    return event if isinstance(event, str) else canonical.dumps(event)


@dataclass
class RedriveReport:
    """What the redrive command did, as an operator sees it."""

    argv: list[str]
    stdout: list[str]
    stderr: list[str]
    exit: int | str | None
    #: ``Type: message`` of an exception the command raised (an invoke refused, ...).
    raised: str | None = None

    def canonical(self) -> dict[str, Any]:
        return {
            "argv": self.argv,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "exit": self.exit,
            "raised": self.raised,
        }


@dataclass
class RedriveResult(ReplayResult):
    report: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[dict[str, Any]] = field(default_factory=list)
    queue_left: list[dict[str, Any]] = field(default_factory=list)
    #: The executor kind's own result for the invocations it ran.
    executor: ExecutorResult | None = None

    def canonical(self) -> dict[str, Any]:
        executor = self.executor.canonical() if self.executor is not None else {}
        return canonical.plain(
            {
                "scenario": self.scenario,
                "kind": "redrive",
                "redrive": self.report,
                "calls": self.calls,
                "invocations": self.invocations,
                "queue_left": self.queue_left,
                "executor": {k: v for k, v in executor.items() if k not in _SHOWN_ELSEWHERE},
                "clock": self.clock,
                **self.client_record(),
            }
        )

    def checkpoint_states(self) -> list[Any] | None:
        return self.executor.checkpoint_states() if self.executor is not None else None


class RedriveKind(ScenarioKind):
    name: ClassVar[str] = "redrive"
    fields: ClassVar[frozenset[str]] = frozenset({"kind", "checkpoint_items", "redrive"})
    #: ``order``, ``resume`` and ``cost`` drive the executor's handler on the scenario's
    #: events directly; here the events are dead-letter messages the redrive reads.
    checks: ClassVar[frozenset[str]] = frozenset({"snapshot", "repeat", "process", "secrets"})
    _executor: ClassVar[ExecutorKind] = ExecutorKind()

    def inapplicable(self, check: str, scenario: Scenario) -> str | None:
        if check in self.checks:
            return None
        return (
            "it delivers the scenario's events to the executor itself, and a redrive "
            "scenario's events are dead-letter messages the redrive command reads"
        )

    def validate(self, scenario: Scenario) -> None:
        """The command must be there; the seeded table is checked as the executor's is."""
        if scenario.redrive is None:
            raise KindFieldError("redrive", "a redrive scenario names its redrive command")
        self._executor.validate(scenario)

    def prepare(self, scenario: Scenario) -> None:
        import opx.redrive  # noqa: F401 -- see harness.replayer.clock

        self._executor.prepare(scenario)

    def layers(self) -> Sequence[LayerFactory]:
        return (RedriveWire,)

    def setup(self, env: ReplayEnvironment) -> None:
        """The executor's world (table, seeded items, cold start), then the queue."""
        from moto.moto_api._internal import mock_random

        self._executor.setup(env)
        wire = _wire(env.transport)
        wire.moto_random_state = mock_random.getstate()
        mock_random.seed(MOTO_SEED)
        command = _command(env.scenario)
        sqs = env.session.client("sqs")
        url = sqs.create_queue(QueueName=command.queue)["QueueUrl"]
        for event in env.scenario.events:
            sqs.send_message(QueueUrl=url, MessageBody=message_body(event))
        wire.recording = True

    def teardown(self, env: ReplayEnvironment) -> None:
        from moto.moto_api._internal import mock_random

        state = _wire(env.transport).moto_random_state
        if state is not None:
            mock_random.setstate(state)
        self._executor.teardown(env)

    def deliver(self, scenario: Scenario, transport: TransportLayer) -> list[Any]:
        """The redrive command once, then the executor on each event it handed over.

        The first response is the command's :class:`RedriveReport`; the others are the
        executor's answers, one per accepted invoke, in order."""
        from opx.errors import response_of
        from opx.lambda_handler import handler
        from opx.redrive import main

        wire = _wire(transport)
        argv = list(_command(scenario).argv)
        out, err = io.StringIO(), io.StringIO()
        raised = None
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code: int | str | None = main(argv)
            except SystemExit as exc:  # argparse refusing the command line
                code = exc.code
            except Exception as exc:
                code, raised = None, f"{type(exc).__name__}: {exc}"
        wire.recording = False
        report = RedriveReport(
            argv, _named(wire, out.getvalue()), _named(wire, err.getvalue()), code, raised
        )
        answers = [
            response_of(handler, accepted.event, LambdaContext(aws_request_id=accepted.request_id))
            for accepted in wire.accepted
        ]
        return [report.canonical(), *answers]

    def collect(self, env: ReplayEnvironment, responses: list[Any]) -> RedriveResult:
        wire = _wire(env.transport)
        report, answers = responses[0], responses[1:]
        executor = self._executor.collect(env, answers)
        invocations = [
            {
                "function": accepted.function,
                "invocation_type": accepted.invocation_type,
                "request_id": accepted.request_id,
                "event_id": accepted.event.get("id") if isinstance(accepted.event, dict) else None,
                "payload_sha256": accepted.payload_sha256,
                "answer": answer,
            }
            for accepted, answer in zip(wire.accepted, answers, strict=True)
        ]
        clock = env.clock_record()  # before the read-back below moves it
        return RedriveResult(
            scenario=env.scenario.name,
            responses=responses,
            clock=clock,
            logs=executor.logs,
            report=report,
            calls=wire.redrive_calls,
            invocations=invocations,
            queue_left=_queue_left(env, wire),
            executor=executor,
        )

    def summarize(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        behaviour = self.behaviour(result)
        calls = result["executor"].get("bedrock_calls", [])
        return [
            ("scenario", result["scenario"]),
            ("command", " ".join(result["redrive"]["argv"])),
            ("report", behaviour["report"]),
            ("exit", behaviour["exit"]),
            ("invocations", behaviour["invocations"]),
            ("left in queue", behaviour["left in queue"]),
            ("bedrock calls", str(len(calls))),
            ("clock", f"{result['clock']['start']} -> {result['clock']['end']}"),
        ]

    def behaviour(self, result: dict[str, Any]) -> dict[str, str]:
        """The executor's own roll-up over the answers of the invocations (status, top
        action, cost: what the redriven incident concluded), then what the redrive did:
        its report line, exit code, each invocation's answer, what stayed queued and
        how many Bedrock calls were paid."""
        report = result.get("redrive", {})
        invocations = result.get("invocations", [])
        answers = [i.get("answer") or {} for i in invocations]
        bodies = [a.get("body") if isinstance(a.get("body"), dict) else {} for a in answers]
        return {
            **self._executor.behaviour({"responses": answers}),
            "report": (report.get("stdout") or [report.get("raised") or "-"])[0],
            "exit": str(report.get("exit")),
            "invocations": ", ".join(
                f"{a.get('statusCode')} {b.get('status') or b.get('error') or '-'}"
                for a, b in zip(answers, bodies, strict=True)
            )
            or "-",
            "left in queue": ", ".join(m["message"] for m in result.get("queue_left", [])) or "-",
            "bedrock calls": str(len(result.get("executor", {}).get("bedrock_calls", []))),
        }

    def author(self, spec: RedriveRecipe) -> Scenario:
        from harness.kinds.redrive.authoring import author_redrive

        return author_redrive(spec)


def _command(scenario: Scenario) -> Any:
    if scenario.redrive is None:  # validate() refuses it; this keeps type checkers honest
        raise KindFieldError("redrive", "a redrive scenario names its redrive command")
    return scenario.redrive


def _wire(transport: TransportLayer) -> RedriveWire:
    found = transport.find(RedriveWire)
    if found is None:
        raise TypeError("a redrive replay's transport holds its RedriveWire layer")
    return found


def _named(wire: RedriveWire, text: str) -> list[str]:
    """Printed lines with moto's message ids as the result names them."""
    for message_id, name in wire.names.items():
        text = text.replace(message_id, name)
    return text.splitlines()


def _queue_left(env: ReplayEnvironment, wire: RedriveWire) -> list[dict[str, Any]]:
    """Every message still in the queue, read back through SQS: the ones the redrive
    received and kept are made visible again first (their receipt handles are the
    redrive's own). moto shows a message again only once the clock is *past* its
    visibility deadline, so the frozen clock moves one millisecond after the result's
    clock was taken."""
    import hashlib

    sqs = env.session.client("sqs")
    url = queue_url(_command(env.scenario).queue)
    left: dict[str, dict[str, Any]] = {}
    handles = wire.receipt_handles()
    for handle in handles.values():
        try:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        except sqs.exceptions.ClientError:
            continue  # deleted: nothing to make visible
    env.clock.advance(0.001)
    while True:
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=900
        ).get("Messages", [])
        fresh = [m for m in page if wire.name_of(m["MessageId"]) not in left]
        if not fresh:
            break
        for message in fresh:
            body = message["Body"]
            left[wire.name_of(message["MessageId"])] = {
                "message": wire.name_of(message["MessageId"]),
                "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            }
    return [left[name] for name in sorted(left, key=lambda n: (len(n), n))]


__all__ = [
    "MOTO_SEED",
    "RedriveKind",
    "RedriveReport",
    "RedriveResult",
    "message_body",
    "queue_url",
]
