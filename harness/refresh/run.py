"""``refresh``: renew stale recordings, verify them, and say what the change does.

Plan (:mod:`.plan`), project the live spend and refuse above the cap
(:mod:`.spend`), renew each scenario offline or live (:mod:`.renew`), verify that it
replays reproducibly, compare its behaviour with the approved snapshot
(:mod:`harness.impact`) -- and only then write the scenario file (and, with
``approve``, its snapshot), each through the secret detector, atomically. A scenario
that fails any step is left exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from harness.capture import Pattern
from harness.capture.secret_scan import SecretsFound, allowlist_for, scan_before_write
from harness.files import write_atomically
from harness.impact import BehaviourChange, compare_behaviour
from harness.refresh.plan import Mode, Planned, plan
from harness.refresh.renew import RenewError, rebind, rerecord, verified
from harness.refresh.spend import ZERO, SpendMeter

DEFAULT_MAX_USD = Decimal("1.00")


@dataclass(frozen=True)
class RefreshConfig:
    scenarios: Path = Path("scenarios")
    snapshots: Path = Path("snapshots")
    only: tuple[str, ...] = ()
    every: bool = False
    keep_answers: bool = False
    max_usd: Decimal = DEFAULT_MAX_USD
    region: str | None = None
    profile: str | None = None
    patterns: tuple[Pattern, ...] = ()
    approve: bool = False


@dataclass
class Renewed:
    """One planned scenario and what became of it."""

    name: str
    mode: Mode
    reason: str
    #: ``renewed`` (file written), ``failed`` or ``not run`` (nothing written).
    status: str
    message: str = ""
    change: BehaviourChange | None = None
    #: The snapshot file ``approve`` wrote.
    approved: str | None = None
    spent: Decimal = ZERO


@dataclass
class RefreshResult:
    config: RefreshConfig
    items: list[Renewed] = field(default_factory=list)
    projected: Decimal = ZERO
    spent: Decimal = ZERO
    #: Why nothing was started (the projected spend is over the cap).
    refused: str | None = None

    @property
    def exit_code(self) -> int:
        """0 everything planned was renewed; 3 anything refused or left as it was."""
        if self.refused or any(item.status != "renewed" for item in self.items):
            return 3
        return 0


def refresh(config: RefreshConfig, say: Callable[[str], None] = lambda _: None) -> RefreshResult:
    planned = plan(
        config.scenarios, only=config.only, every=config.every, keep_answers=config.keep_answers
    )
    result = RefreshResult(config, projected=sum((p.projected for p in planned), ZERO))
    live = [p for p in planned if p.mode is Mode.LIVE]
    if live:
        say(
            f"projected spend: {result.projected} USD to re-ask Bedrock for {len(live)} "
            f"scenario(s) at their recorded token usage (cap {config.max_usd} USD)"
        )
    if result.projected > config.max_usd:
        result.refused = (
            f"the projected spend of {result.projected} USD is above --max-usd "
            f"{config.max_usd}: nothing was asked or written"
        )
        return result
    meter = SpendMeter(config.max_usd)
    for item in planned:
        if meter.spent >= config.max_usd:
            result.items.append(_not_run(item, f"the spend cap of {config.max_usd} USD is reached"))
            continue
        say(f"refreshing {item.name} ({item.mode}: {item.reason})")
        result.items.append(_renew(item, config, meter))
    result.spent = meter.spent
    return result


def _renew(item: Planned, config: RefreshConfig, meter: SpendMeter) -> Renewed:
    spent = ZERO
    try:
        if item.mode is Mode.LIVE:
            try:
                renewed = rerecord(
                    item.scenario,
                    region=config.region,
                    profile=config.profile,
                    patterns=config.patterns,
                    admit=meter.admit,
                )
            finally:
                spent = meter.close_run()
        else:
            renewed = rebind(item.scenario, "kept" if item.mode is Mode.KEEP else None)
        replayed = verified(renewed)
    except RenewError as exc:
        return Renewed(item.name, item.mode, item.reason, "failed", str(exc), spent=spent)
    snapshot = config.snapshots / f"{item.name}.json"
    change = _change(snapshot, replayed)
    files = {item.path: renewed.to_json()}
    if config.approve:
        files[snapshot] = replayed
    try:
        scan_before_write(files, allowlist=allowlist_for(config.scenarios))
    except SecretsFound as exc:
        message = f"{exc}\n{exc.report()}"
        return Renewed(item.name, item.mode, item.reason, "failed", message, change, spent=spent)
    for path, text in files.items():
        write_atomically(path, text)
    approved = str(snapshot) if config.approve else None
    return Renewed(item.name, item.mode, item.reason, "renewed", "", change, approved, spent)


def _change(snapshot: Path, replayed: str) -> BehaviourChange | None:
    try:
        approved = json.loads(snapshot.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return compare_behaviour(approved, json.loads(replayed)) if isinstance(approved, dict) else None


def _not_run(item: Planned, why: str) -> Renewed:
    return Renewed(item.name, item.mode, item.reason, "not run", why)


__all__ = [
    "DEFAULT_MAX_USD",
    "RefreshConfig",
    "RefreshResult",
    "Renewed",
    "refresh",
]
