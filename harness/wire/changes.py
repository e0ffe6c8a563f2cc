"""What kind of change made a Bedrock request stop matching its recording.

The changes an LLM-agent team ships most -- a prompt edit, a new model or agent
alias -- and an executor change that alters what an agent is shown all surface the
same way in a replay: an ``InvokeAgent`` request no recording answers. They call for
different actions, so the harness names them:

* ``prompt`` -- the agent's instructions or ``prompt_version`` changed: the recorded
  answers were given to another prompt and are *stale* (refresh them);
* ``agent`` -- the agent id or alias changed: stale as well (the recording is of
  another agent version);
* ``context`` -- only what the agent is shown changed: an executor behaviour change
  upstream of the agent, which is *drift* to review, with the context diff;
* ``other`` -- anything else (session ids, trace flags, a field that appeared).

Pure functions of two read-back requests; nothing here knows about files or runs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.wire.bedrock import agent_of


class ChangeKind(StrEnum):
    PROMPT = "prompt"
    AGENT = "agent"
    CONTEXT = "context"
    OTHER = "other"


#: Kinds that make recordings stale (refresh them) rather than show drift.
STALE_KINDS = frozenset({ChangeKind.PROMPT, ChangeKind.AGENT})
#: ``inputText`` members that are the agent's prompt.
PROMPT_FIELDS = ("instructions", "prompt_version")
#: Request members that name which agent version answers.
AGENT_FIELDS = ("agentId", "agentAliasId")


@dataclass(frozen=True)
class RequestChange:
    """How a sent ``InvokeAgent`` request differs from the closest recorded one."""

    kind: ChangeKind
    agent: str | None
    #: One line for people: what changed.
    summary: str
    #: A readable line diff of the part that changed (the context, the prompt, ids).
    diff: str
    #: The prompt text changed while its ``prompt_version`` did not (bump it).
    unversioned_prompt_edit: bool = False

    @property
    def stale(self) -> bool:
        return self.kind in STALE_KINDS

    @property
    def short(self) -> str:
        """A few words: ``prompt of signal-intelligence``."""
        what = {ChangeKind.AGENT: "agent id or alias", ChangeKind.OTHER: "request"}
        return f"{what.get(self.kind, self.kind.value)} of {self.agent or '?'}"


def classify(recorded: Mapping[str, Any], sent: Mapping[str, Any]) -> RequestChange:
    """The change from ``recorded`` to ``sent`` (both read back, ``inputText`` decoded)."""
    agent = agent_of(sent) or agent_of(recorded)
    old_text = _input_text(recorded)
    new_text = _input_text(sent)
    ids = {
        f: (recorded.get(f), sent.get(f)) for f in AGENT_FIELDS if recorded.get(f) != sent.get(f)
    }
    prompt = {f: (old_text.get(f), new_text.get(f)) for f in PROMPT_FIELDS}
    prompt = {f: pair for f, pair in prompt.items() if pair[0] != pair[1]}
    if prompt:
        versions = prompt.get("prompt_version")
        unversioned = versions is None and "instructions" in prompt
        version = new_text.get("prompt_version")
        if versions is not None:
            what = f"its prompt version changed ({versions[0]} -> {versions[1]})"
        else:
            what = f"its prompt text changed while prompt_version stayed {version}"
        file = f"opx/prompts/{agent}.{version}.md" if agent and version else "its prompt file"
        summary = f"the prompt of {agent} changed: {what} ({file})"
        if unversioned:
            summary += "; bump the version when the text changes"
        diff = _diff(old_text.get("instructions"), new_text.get("instructions"))
        return RequestChange(ChangeKind.PROMPT, agent, summary, diff, unversioned)
    if ids:
        changed = ", ".join(f"{f} {old} -> {new}" for f, (old, new) in ids.items())
        summary = f"the Bedrock agent answering {agent} changed ({changed})"
        return RequestChange(ChangeKind.AGENT, agent, summary, "")
    if old_text.get("context") != new_text.get("context"):
        summary = (
            f"what {agent} is shown changed: an executor change upstream of the agent "
            "(its context differs from the recording)"
        )
        diff = _diff(old_text.get("context"), new_text.get("context"))
        return RequestChange(ChangeKind.CONTEXT, agent, summary, diff)
    fields = sorted(
        k for k in set(recorded) | set(sent) if recorded.get(k) != sent.get(k) and k != "inputText"
    )
    fields += sorted(
        f"inputText.{k}"
        for k in set(old_text) | set(new_text)
        if old_text.get(k) != new_text.get(k)
    )
    summary = f"the request for {agent} differs in {', '.join(fields) or 'its encoding'}"
    return RequestChange(ChangeKind.OTHER, agent, summary, _diff(dict(recorded), dict(sent)))


def _changed(
    old: Mapping[str, Any], new: Mapping[str, Any], fields: tuple[str, ...]
) -> dict[str, tuple[Any, Any]]:
    return {f: (old.get(f), new.get(f)) for f in fields if old.get(f) != new.get(f)}


def _input_text(request: Mapping[str, Any]) -> Mapping[str, Any]:
    text = request.get("inputText")
    return text if isinstance(text, Mapping) else {}


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split("\n")
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).split("\n")


def _diff(old: Any, new: Any, context: int = 2) -> str:
    lines = difflib.unified_diff(
        _lines(old), _lines(new), fromfile="recorded", tofile="sent", lineterm="", n=context
    )
    return "\n".join(lines)


__all__ = [
    "AGENT_FIELDS",
    "PROMPT_FIELDS",
    "STALE_KINDS",
    "ChangeKind",
    "RequestChange",
    "classify",
]
