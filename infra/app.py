"""CDK app entry point: ``python infra/app.py``, or ``npx aws-cdk@2 <command>`` (``cdk.json``).

Synthesizes one ``OpxStack`` for the ``stage`` in context. Without AWS credentials
the stack is environment-agnostic (account and region resolve at deploy time);
the CDK CLI passes ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` when it has them.
A bad context value stops synthesis with one line naming the key.
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from opx_infra.config import BundleMode, ContextError, StackConfig
from opx_infra.stack import OpxStack


def main() -> None:
    app = cdk.App()
    try:
        config = StackConfig.from_context(app.node.try_get_context)
    except ContextError as exc:
        sys.exit(f"error: {exc}")
    OpxStack(
        app,
        f"opx-{config.stage}",
        config=config,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        description=f"opx incident-analysis executor ({config.stage})",
    )
    assembly = app.synth()
    print(f"synthesized {assembly.stacks[0].stack_name} to {assembly.directory}", file=sys.stderr)
    if config.bundle is BundleMode.SOURCE:
        print("opx:bundle=source: a template check; deploy with opx:bundle=full", file=sys.stderr)


if __name__ == "__main__":
    main()
