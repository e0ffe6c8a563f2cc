"""Progress while the gate runs: a live bar on a terminal, plain lines in CI.

A CI log cannot redraw a bar, and a person at a terminal does not want a thousand
lines; both want to see a failure as soon as it happens rather than after the last
scenario. Progress goes to stderr, so stdout carries only the final table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TextIO

from harness.gate.verdict import Status, Verdict

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Listener(Protocol):
    """What :func:`harness.gate.run_gate` tells while it works."""

    def start(self, total: int) -> None: ...

    def judged(self, verdict: Verdict) -> None: ...

    def close(self) -> None: ...


class Silent:
    def start(self, total: int) -> None:
        pass

    def judged(self, verdict: Verdict) -> None:
        pass

    def close(self) -> None:
        pass


def line(verdict: Verdict) -> str:
    """``rds-failover: snapshot pass, repeat pass (0.21s)``."""
    cells = ", ".join(
        f"{check} {outcome.status}"
        for check, outcome in verdict.outcomes.items()
        if outcome.status is not Status.NOT_RUN
    )
    return f"{verdict.name}: {cells or 'no check'} ({verdict.seconds:.2f}s)"


class Lines:
    """One line per judged scenario, ``[  3/120] <line>``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._total = 0
        self._done = 0

    def start(self, total: int) -> None:
        self._total = total
        self._stream.write(f"judging {total} scenario(s)\n")
        self._stream.flush()

    def judged(self, verdict: Verdict) -> None:
        self._done += 1
        width = len(str(self._total))
        self._stream.write(f"[{self._done:>{width}}/{self._total}] {line(verdict)}\n")
        self._stream.flush()

    def close(self) -> None:
        pass


class Bar:
    """A rich progress bar; a failing scenario's line is printed above it at once."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress: Progress = Progress(
            TextColumn("[bold]gate"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(file=stream),
        )
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("", total=total)

    def judged(self, verdict: Verdict) -> None:
        if self._task is None:
            return
        if verdict.exit_code:
            self._progress.console.print(line(verdict), markup=False, highlight=False)
        self._progress.update(self._task, advance=1, description=verdict.name)

    def close(self) -> None:
        self._progress.stop()


def for_stream(stream: TextIO) -> Listener:
    """A bar on a terminal, lines otherwise."""
    isatty = getattr(stream, "isatty", None)
    return Bar(stream) if callable(isatty) and isatty() else Lines(stream)


__all__ = ["Bar", "Lines", "Listener", "Silent", "for_stream", "line"]
