"""The secrets check: no committed scenario or snapshot holds a secret.

Scenario files are committed, so a hand-edited one could smuggle in what ``record``
would have refused. The same independent detector pass that stands between a
recording and the disk (:mod:`harness.capture.secret_scan`) reads the scenario and
its snapshot as committed; a finding the reviewed allowlist does not explain fails
the check with the file, the JSON path and the detector's kind -- never the value.
"""

from __future__ import annotations

from typing import ClassVar

from harness.capture.secret_scan import allowlist_for, check_paths
from harness.checks.base import Check, CheckContext
from harness.checks.outcome import Outcome, Status


class SecretsCheck(Check):
    name: ClassVar[str] = "secrets"
    determinism: ClassVar[bool] = False

    def run(self, context: CheckContext) -> Outcome:
        paths = [p for p in (context.path, context.snapshot) if p.is_file()]
        findings = check_paths(paths, allowlist=allowlist_for(context.path.parent))
        if not findings:
            return Outcome(
                Status.PASSED,
                f"no unexplained secret in {', '.join(str(p) for p in paths)} (detect-secrets)",
            )
        return Outcome(
            Status.ERROR,
            f"{len(findings)} secret(s) the allowlist does not explain in {context.scenario.name}: "
            "scrub the file, or allowlist a false positive with its reason "
            f"({context.path.parent}/secret-allowlist.toml)",
            "\n".join(str(finding) for finding in findings),
        )


__all__ = ["SecretsCheck"]
