"""The syrupy extension behind scenario snapshots: one reviewable JSON file per scenario.

A snapshot is exactly ``ReplayResult.to_canonical_json()`` -- the bytes
``opx-harness replay --json`` prints -- stored as ``<snapshots>/<scenario>.json``, so
a pull request shows what changed in what the executor returned, checkpointed,
emitted and spent, and a reviewer can reproduce any snapshot with the CLI.

Everything else is syrupy's: ``--snapshot-update`` re-approves, and a file in the
snapshot directory that no scenario test claimed fails the run as unused. The
overrides below only map syrupy's "test location" to that flat layout:

* the file is named after the scenario (not after the test function);
* inside syrupy the snapshot is named like the test item,
  ``test_replay_matches_snapshot[<scenario>]``, so syrupy's own bookkeeping (which
  test owns which snapshot, ``-k`` and ``--deselect`` selections) keeps working;
* discovery claims only ``*.json`` directly in the directory, so a README next to
  the snapshots is neither reported nor deleted by ``--snapshot-update``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from syrupy.data import Snapshot, SnapshotCollection, SnapshotCollections
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from harness import canonical
from harness.pytest_plugin.locations import TEST_NAME, snapshot_directory

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion
    from syrupy.location import PyTestLocation
    from syrupy.types import (
        PropertyFilter,
        PropertyMatcher,
        SerializableData,
        SerializedData,
        SnapshotIndex,
    )


def snapshot_name(scenario: str) -> str:
    """syrupy's name for the one snapshot a scenario file holds."""
    return f"{TEST_NAME}[{scenario}]"


class ScenarioSnapshotExtension(SingleFileSnapshotExtension):
    """Stores a replay's canonical JSON as ``<snapshots>/<scenario>.json``."""

    file_extension = "json"
    _write_mode = WriteMode.TEXT

    def serialize(
        self,
        data: SerializableData,
        *,
        exclude: PropertyFilter | None = None,
        include: PropertyFilter | None = None,
        matcher: PropertyMatcher | None = None,
    ) -> SerializedData:
        """The canonical JSON, never re-serialized: the file must equal the CLI's bytes."""
        to_json = getattr(data, "to_canonical_json", None)
        if callable(to_json):
            return str(to_json())
        if isinstance(data, str):
            return data
        return canonical.pretty(data)

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(snapshot_directory(test_location.item))

    @classmethod
    def get_file_basename(cls, *, test_location: PyTestLocation, index: SnapshotIndex) -> str:
        scenario = getattr(test_location.item, "scenario_name", None)
        if scenario is None or index:
            # One file holds one snapshot, named after its scenario: a second
            # assertion, or a test that is not a scenario item, has no file to go to.
            raise TypeError(
                f"{cls.__name__} stores one replay per scenario test item; "
                "use syrupy's JSONSnapshotExtension in your own tests"
            )
        return str(scenario)

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=snapshot_name(Path(snapshot_location).stem)))
        return collection

    def discover_snapshots(
        self,
        *,
        test_location: PyTestLocation,
        ignore_extensions: list[str] | None = None,
    ) -> SnapshotCollections:
        discovered = SnapshotCollections()
        directory = Path(self.dirname(test_location=test_location))
        if not directory.is_dir():
            return discovered
        for path in sorted(directory.glob(f"*.{self.file_extension}")):
            if path.is_file() and not path.name.startswith("."):
                discovered.add(self.read_snapshot_collection(snapshot_location=str(path)))
        return discovered

    def diff_lines(
        self, serialized_data: SerializedData, snapshot_data: SerializedData
    ) -> Iterator[str]:
        """A plain unified diff (approved -> replayed), as ``git diff`` would show the file."""
        yield from difflib.unified_diff(
            str(snapshot_data).splitlines(),
            str(serialized_data).splitlines(),
            fromfile="approved snapshot",
            tofile="this replay",
            lineterm="",
        )


def mismatch_report(assertion: SnapshotAssertion, location: str) -> str:
    """Why a scenario's replay failed its snapshot, for the pytest failure output:
    the gate's drift report (:func:`harness.checks.snapshot.drift_report`)."""
    from harness.checks.snapshot import drift_report

    result = assertion.executions[assertion.num_executions - 1]
    if result.exception is not None:
        # syrupy could not read or compare the file: its own account names the cause.
        return "\n".join(assertion.get_assert_diff())
    if result.recalled_data is None:
        return (
            f"no approved snapshot {location}: run `pytest --snapshot-update`, "
            "then review the new file before committing it"
        )
    report = drift_report(
        str(result.recalled_data),
        str(result.asserted_data or ""),
        location=location,
        approval="`pytest --snapshot-update`",
    )
    return f"{report.summary}\n{report.detail}"


__all__ = ["ScenarioSnapshotExtension", "mismatch_report", "snapshot_name"]
