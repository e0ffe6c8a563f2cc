"""Spec -> scenario: load a ``specs/<name>.yaml``, validate it, expand its generators
and record the scenario by running the real handler.

The requests in a scenario are never in its spec: :func:`author` hands what the spec
decides to the authoring functions, which run the handler against the scripted
answers and record what it sends -- so a prompt change shows up as a stale scenario
(``opx-harness author --check``), never as a silently different file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness import authoring
from harness.authoring import AgentScript, AwsAnswer, agent_output, invocation_event
from harness.scenario import Scenario, SetupCall, error_line, json_path, unescape_bytes
from harness.specs.generators import GENERATORS
from harness.specs.model import (
    ActionGroupSpec,
    AgentSpec,
    ExecutorSpec,
    ExpectSpec,
    IncidentSpec,
    InvocationSpec,
    MaintenanceSpec,
    MessageSpec,
    RedriveSpec,
    Spec,
)
from harness.wire import UnmatchedRequestError

__all__ = [
    "AuthoringFailed",
    "SpecError",
    "agent_script",
    "compile_spec",
    "expand",
    "load_spec",
    "read_yaml",
]


#: The spec model of each kind a spec may name (``executor`` when it names none).
SPEC_MODELS: dict[Any, type[Spec]] = {
    "executor": ExecutorSpec,
    "action-group": ActionGroupSpec,
    "redrive": RedriveSpec,
    "maintenance": MaintenanceSpec,
}


class SpecError(Exception):
    """A spec that cannot be used; the message is one line naming the file and field."""


class AuthoringFailed(Exception):
    """The handler and the spec disagree (it asked for an answer the spec does not
    script, or never asked for one it does); the message is one line."""


# --------------------------------------------------------------------------- loading


def load_spec(path: str | Path) -> Spec:
    """The validated spec in ``path``; its name is the file's stem."""
    path = Path(path)
    try:
        data = read_yaml(path)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: $: a spec is a mapping (name: value lines)")
    if data.setdefault("name", path.stem) != path.stem:
        raise SpecError(f"{path}: $.name: {data['name']!r} is not the file's name {path.stem!r}")
    model = SPEC_MODELS.get(data.get("kind"), ExecutorSpec)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A rule's own message names the rule; pydantic's "Value error, " adds nothing.
        line = error_line(exc, skip=("invocation", "verbatim")).replace(": Value error, ", ": ", 1)
        raise SpecError(f"{path}: {line}") from None


def read_yaml(path: Path) -> Any:
    """``path`` read with ``yaml.safe_load``; ``ValueError`` with one line naming the
    file (and line, column, or JSON path) when it cannot be read, parsed, or holds an
    unquoted date -- YAML reads ``2026-03-12T14:27:00Z`` as a datetime, no JSON value."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"{path}{where}: invalid YAML ({problem})") from None
    _reject_dates(data, (), path)
    return data


def _reject_dates(value: Any, loc: tuple[int | str, ...], path: Path) -> None:
    if isinstance(value, date | datetime):
        raise ValueError(f"{path}: {json_path(loc)}: unquoted date/time; write it in quotes")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_dates(item, (*loc, str(key)), path)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _reject_dates(item, (*loc, n), path)


def expand(value: Any, where: str = "$") -> Any:
    """``value`` with every ``{generate: NAME, ...arguments}`` replaced by what
    ``GENERATORS[NAME]`` returns for the (expanded) arguments."""
    if isinstance(value, list):
        return [expand(item, f"{where}[{n}]") for n, item in enumerate(value)]
    if not isinstance(value, Mapping):
        return value
    if "generate" not in value:
        return {key: expand(item, f"{where}.{key}") for key, item in value.items()}
    arguments = {k: expand(v, f"{where}.{k}") for k, v in value.items() if k != "generate"}
    name = value["generate"]
    generator = GENERATORS.get(name) if isinstance(name, str) else None
    if generator is None:
        known = ", ".join(sorted(GENERATORS))
        raise ValueError(f"{where}.generate: unknown generator {name!r} (known: {known})")
    try:
        return generator(**arguments)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: generator {name}: {exc}") from None


# --------------------------------------------------------------------------- compiling


def compile_spec(spec: Spec, path: str | Path = "<spec>") -> Scenario:
    """The scenario ``spec`` describes, its requests recorded from the handler.

    ``path`` only names the spec in errors: :class:`SpecError` for a generator or a
    scenario field the spec got wrong, :class:`AuthoringFailed` when the handler and
    the spec disagree. Anything else the handler raises is a bug and propagates."""
    try:
        kind, recipe = _recipe(spec)
    except ValueError as exc:  # a generator's, or an invocation the schema lacks
        raise SpecError(f"{path}: {' '.join(str(exc).split())}") from None
    try:
        scenario = _author(kind, recipe)
    except ValidationError as exc:  # the drafted scenario: a field the spec got wrong
        first = exc.errors()[0]
        raise SpecError(f"{path}: scenario {json_path(first['loc'])}: {first['msg']}") from None
    except AuthoringFailed as exc:
        raise AuthoringFailed(f"{path}: {exc}") from None
    except authoring.TamperError as exc:  # an edit that does not fit the earlier run's table
        raise SpecError(f"{path}: $.table.{exc}") from None
    if type(spec) is ExecutorSpec and spec.expect is not None:
        _check_expectations(spec.expect, scenario, path)
    return scenario


def _check_expectations(expect: ExpectSpec, scenario: Scenario, path: str | Path) -> None:
    """Replay the authored scenario once and hold it to the spec's ``expect``: what the
    scenario is for is decided in the spec and checked when it is written, not first
    found out by a corpus test in CI."""
    from harness.kinds import kind_named
    from harness.replayer import replay

    behaviour = kind_named("executor").behaviour(replay(scenario).canonical())
    wanted = {
        "status": expect.status,
        "top action": expect.top_action,
        "agreement": expect.agreement,
    }
    wrong = [
        f"{key.replace(' ', '_')} is {behaviour.get(key, '-')!r}, not {value!r}"
        for key, value in wanted.items()
        if value is not None and behaviour.get(key) != value
    ]
    if wrong:
        raise AuthoringFailed(f"{path}: $.expect: the replay disagrees: {'; '.join(wrong)}")


def _recipe(spec: Spec) -> tuple[str, Any]:
    """The kind and the authoring recipe of ``spec`` (by its exact model)."""
    if type(spec) is RedriveSpec:
        return "redrive", _redrive_recipe(spec)
    if type(spec) is MaintenanceSpec:
        from harness.kinds.maintenance.authoring import MaintenanceRecipe

        return "maintenance", MaintenanceRecipe(_executor_recipe(spec), list(spec.maintenance))
    if isinstance(spec, ExecutorSpec):
        return "executor", _executor_recipe(spec)
    return "action-group", _action_group_recipe(spec)


def _author(kind: str, recipe: Any) -> Scenario:
    """The one call into :func:`harness.authoring.author`, its failures as one line."""
    try:
        return authoring.author(kind, recipe)
    except (authoring.AuthoringError, UnmatchedRequestError) as exc:
        raise AuthoringFailed(" ".join(str(exc).split())) from None


def _executor_recipe(spec: ExecutorSpec) -> authoring.ExecutorSpec:
    if spec.incident is not None:
        events = [_incident_event(spec.incident) for _ in range(spec.deliveries)]
    else:
        events = expand(spec.events, "$.events")
    env = {**_agent_env(spec.agent_ids), **spec.env}
    return authoring.ExecutorSpec(
        name=spec.name,
        description=spec.description,
        events=events,
        agents={
            agent: agent_script(script, f"$.agents.{agent}")
            for agent, script in spec.agents.items()
        },
        clock_start=datetime.fromisoformat(spec.start).astimezone(UTC),
        tags=spec.tags,
        env=env,
        delivery=spec.delivery,
        dynamodb=None if spec.dynamodb is None else spec.dynamodb.script(),
        remaining_ms=spec.remaining_ms,
        table=None
        if spec.table is None
        else authoring.TableSeed(
            start=datetime.fromisoformat(spec.table.start).astimezone(UTC),
            tamper=tuple(spec.table.tamper),
        ),
    )


def _redrive_recipe(spec: RedriveSpec) -> Any:
    """The incident as an executor recipe, the queue's bodies and the command line."""
    from harness.kinds.redrive import queue_url
    from harness.kinds.redrive.authoring import RedriveRecipe

    executor = _executor_recipe(spec)
    recipe = RedriveRecipe(executor=executor, messages=[], argv=[])
    seeded = executor.table.start if executor.table is not None else executor.clock_start
    messages = [
        _message(message, executor.events[0], seeded, f"$.messages[{n}]")
        for n, message in enumerate(spec.messages)
    ]
    command = spec.redrive
    typed = queue_url(command.queue or recipe.queue)
    argv = ["--queue-url", typed, "--function-name", command.function_name]
    if command.limit is not None:
        argv += ["--limit", str(command.limit)]
    if command.dry_run:
        argv.append("--dry-run")
    return RedriveRecipe(executor=executor, messages=messages, argv=argv)


def _message(message: MessageSpec, event: dict[str, Any], at: datetime, where: str) -> Any:
    from harness.kinds.redrive.authoring import on_failure_record

    if message.kind == "body":
        return expand(message.body, f"{where}.body")
    value = (
        event
        if message.kind == "event"
        else on_failure_record(event, error=message.error, message=message.message, at=at)
    )
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) if message.text else value


def _incident_event(incident: IncidentSpec) -> dict[str, Any]:
    """An ``opx.incident`` / ``IncidentCreated`` event as EventBridge delivers it."""
    detail: dict[str, Any] = {
        "incident_id": incident.incident_id,
        "service": incident.service,
        "severity": incident.severity,
        "title": incident.title,
        "signals": expand(incident.signals, "$.incident.signals"),
        "evidence_bundle": expand(incident.evidence, "$.incident.evidence"),
    }
    if incident.budget_usd is not None:
        detail["budget_usd"] = incident.budget_usd
    return {
        "version": "0",
        "id": incident.event_id,
        "detail-type": "IncidentCreated",
        "source": "opx.incident",
        "account": incident.account,
        "time": incident.time,
        "region": incident.region,
        "resources": list(incident.resources),
        "detail": detail,
    }


def _agent_env(ids: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """``OPX_AGENT_<AGENT>_ID`` / ``_ALIAS_ID`` overrides for real-looking agent ids."""
    env: dict[str, str] = {}
    for name, (agent_id, alias_id) in sorted(ids.items()):
        key = name.upper().replace("-", "_")
        env[f"OPX_AGENT_{key}_ID"] = agent_id
        env[f"OPX_AGENT_{key}_ALIAS_ID"] = alias_id
    return env


def agent_script(spec: AgentSpec, where: str = "$") -> AgentScript:
    """The authoring script of one agent block (generators expanded; ``where`` names
    the block in their errors) -- for specs and for ``opx-harness serve`` overrides."""
    output: Any = expand(spec.output, f"{where}.output")
    if spec.output_bytes is not None:
        output = unescape_bytes(spec.output_bytes)
    if spec.answer is not None:
        answer = spec.answer
        output = agent_output(
            answer.hypothesis,
            [(r.type, r.description, r.confidence) for r in answer.recommendations],
            confidence=answer.confidence,
            status=answer.status,
            citations=tuple(answer.citations),
        )
        output["disclaimer"] = answer.disclaimer
        if answer.evidence:
            output["findings"].update(expand(answer.evidence, f"{where}.answer.evidence"))
    return AgentScript(
        output=output,
        input_tokens=spec.tokens[0],
        output_tokens=spec.tokens[1],
        model_id=spec.model,
        latency_ms=spec.latency_ms,
        faults=tuple(f for fault in spec.faults for f in fault.expanded()),
        error=spec.error,
        traces=tuple(spec.traces),
        return_control=expand(spec.return_control, f"{where}.return_control"),
    )


def _action_group_recipe(spec: ActionGroupSpec) -> authoring.ActionGroupSpec:
    answers = []
    for n, answer in enumerate(spec.answers):
        response: Any = answer.error
        if answer.http is not None:
            body = expand(answer.http.body, f"$.answers[{n}].http.body")
            response = answer.http.model_copy(update={"body": body})
        answers.append(
            AwsAnswer(
                answer.service,
                answer.operation,
                response,
                faults=tuple(f for fault in answer.faults for f in fault.expanded()),
                latency_ms=answer.latency_ms,
            )
        )
    return authoring.ActionGroupSpec(
        name=spec.name,
        description=spec.description,
        tags=spec.tags,
        clock_start=datetime.fromisoformat(spec.start),
        group=spec.action_group,
        env=spec.env,
        setup=[
            SetupCall(
                client=call.client,
                operation=call.operation,
                params=expand(call.params, f"$.setup[{n}].params"),
            )
            for n, call in enumerate(spec.setup)
        ],
        answers=answers,
        events=[
            _invocation(spec.action_group, event, f"$.events[{n}]")
            if isinstance(event, InvocationSpec)
            else expand(event, f"$.events[{n}]")
            for n, event in enumerate(spec.events)
        ],
    )


def _invocation(group: str, spec: InvocationSpec, where: str) -> dict[str, Any]:
    try:
        event = invocation_event(
            group, spec.invoke, spec.params, incident=spec.incident, text=spec.text
        )
    except KeyError as exc:
        raise ValueError(f"{where}.invoke: {exc.args[0]}") from None
    for key in spec.drop:
        event.pop(key, None)
    return event | expand(spec.set, f"{where}.set")
