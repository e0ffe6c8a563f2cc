"""What the regression gate found: per scenario and check, and the one exit code.

Pure data, shared by the process that judges a scenario (:mod:`.judge`), the
process that runs the gate (:mod:`.run`) and the reports (:mod:`.reports`), so a
report can only say what a check really returned (an :class:`Outcome` in the
checks' own vocabulary, :mod:`harness.checks`).

Exit codes -- a CI step must be able to tell "behaviour changed" (review the diff)
from "behaviour is not a function of the input" (a bug to fix before anything is
approved) from "nothing was proven" (fix the input):

* 0 -- every check passed (with ``--update``: snapshots re-approved);
* 1 -- behaviour drift: a replay differs from its approved snapshot, or its bill
  from the exact recomputation (cost), or what the executor shows an agent changed;
  or stale recordings: a prompt, model or agent change means the recorded answers
  were given to something else -- refresh them (``opx-harness refresh``) and review
  the impact before approving;
* 2 -- nondeterminism: two runs of one input differed (repeat, process, order, resume,
  or cost across runs);
* 3 -- the gate could not judge: invalid scenario or option, unrecorded call,
  missing or orphaned snapshot, unwritable report;
* 4 -- internal error in the gate itself (a bug; one line on stderr).

When several apply, the highest of 1-3 wins: nondeterminism makes a drift
meaningless, and an unjudged scenario may hide either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.checks.outcome import Outcome, Status
from harness.checks.registry import CHECK_NAMES, DEFAULT_CHECKS, DEFAULT_REPEAT
from harness.gate.sharding import WHOLE, Shard

EXIT_PASS = 0
EXIT_DRIFT = 1
EXIT_NONDETERMINISM = 2
EXIT_UNJUDGED = 3
EXIT_INTERNAL = 4

EXIT_CODES: dict[Status, int] = {
    Status.DRIFT: EXIT_DRIFT,
    Status.STALE: EXIT_DRIFT,
    Status.NONDETERMINISTIC: EXIT_NONDETERMINISM,
    Status.ERROR: EXIT_UNJUDGED,
    Status.MISSING: EXIT_UNJUDGED,
}


@dataclass
class Verdict:
    """Every selected check of one scenario."""

    name: str
    scenario_path: str
    snapshot_path: str
    outcomes: dict[str, Outcome]
    seconds: float = 0.0
    #: The first replay's canonical JSON, kept only when ``--update`` or the process
    #: check needs it (a thousand of them would otherwise travel between processes).
    replayed: str | None = field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        return max((EXIT_CODES.get(o.status, EXIT_PASS) for o in self.outcomes.values()), default=0)


@dataclass(frozen=True)
class Orphan:
    """A snapshot file no scenario claims."""

    name: str
    path: str
    deleted: bool = False
    #: Why ``--update`` kept it (see :func:`harness.gate.run.run_gate`), if it did.
    kept: str | None = None

    @property
    def outcome(self) -> Outcome:
        if self.deleted:
            return Outcome(Status.DELETED, f"orphaned snapshot {self.path} deleted by --update")
        if self.kept is not None:
            return Outcome(Status.ERROR, f"orphaned snapshot {self.path} kept: {self.kept}")
        return Outcome(
            Status.ERROR,
            f"orphaned snapshot {self.path}: no scenario file {self.name}.json claims it "
            "(restore the scenario, or delete the file with --update)",
        )


@dataclass(frozen=True)
class GateConfig:
    scenarios: Path = Path("scenarios")
    snapshots: Path = Path("snapshots")
    checks: tuple[str, ...] = DEFAULT_CHECKS
    repeat: int = DEFAULT_REPEAT
    jobs: int = 1
    shard: Shard = WHOLE
    update: bool = False
    #: Show digest-only diff hunks and every line of every report.
    full_diff: bool = False
    #: Stop at the first scenario that does not pass (``--fail-fast``): a quick "no"
    #: for a loop that only needs to know *whether* something changed -- mutation
    #: testing, a bisect -- at the price of not knowing everything that did.
    fail_fast: bool = False


@dataclass
class GateResult:
    config: GateConfig
    verdicts: list[Verdict]
    orphans: list[Orphan]
    #: Scenario files in the directory, all shards together.
    total_scenarios: int
    seconds: float = 0.0
    #: Scenarios of this shard left unjudged because ``fail_fast`` stopped the gate.
    not_judged: int = 0

    @property
    def exit_code(self) -> int:
        codes = [v.exit_code for v in self.verdicts]
        codes += [EXIT_CODES.get(o.outcome.status, EXIT_PASS) for o in self.orphans]
        return max(codes, default=EXIT_PASS)

    @property
    def stale(self) -> list[str]:
        """Scenarios whose recordings a prompt or agent change made stale, sorted."""
        return sorted(
            v.name
            for v in self.verdicts
            if any(o.status is Status.STALE for o in v.outcomes.values())
        )

    @property
    def verdict_words(self) -> str:
        code = self.exit_code
        if code == EXIT_DRIFT and self.stale:
            return "stale recordings: refresh, then review"
        return VERDICT_WORDS[code]

    @property
    def changed(self) -> list[str]:
        """Snapshot files ``--update`` wrote or deleted, sorted."""
        written = [
            v.snapshot_path
            for v in self.verdicts
            if v.outcomes.get("snapshot", _NONE).status in (Status.UPDATED, Status.CREATED)
        ]
        return sorted(written + [o.path for o in self.orphans if o.deleted])

    def counts(self) -> dict[str, int]:
        """How many (scenario, check) cells, plus orphans, ended in each status."""
        statuses = [o.status for v in self.verdicts for o in v.outcomes.values()]
        statuses += [o.outcome.status for o in self.orphans]
        return {str(s): statuses.count(s) for s in Status if s in statuses}


_NONE = Outcome(Status.NOT_RUN, "")

VERDICT_WORDS = {
    EXIT_PASS: "same behaviour",
    EXIT_DRIFT: "behaviour drift",
    EXIT_NONDETERMINISM: "nondeterminism",
    EXIT_UNJUDGED: "could not judge",
}


__all__ = [
    "CHECK_NAMES",
    "DEFAULT_CHECKS",
    "DEFAULT_REPEAT",
    "EXIT_CODES",
    "EXIT_DRIFT",
    "EXIT_INTERNAL",
    "EXIT_NONDETERMINISM",
    "EXIT_PASS",
    "EXIT_UNJUDGED",
    "VERDICT_WORDS",
    "GateConfig",
    "GateResult",
    "Orphan",
    "Outcome",
    "Status",
    "Verdict",
]
