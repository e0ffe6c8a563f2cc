"""One synthesis per test session (per xdist worker), shared by every infra test.

Synthesis starts jsii's node process and loads aws-cdk-lib (seconds), so the app is
built once: a ``dev`` stack with the default context, as ``python infra/app.py``
makes it, and a ``prod`` stack with every context key set. Both run cdk-nag's
AwsSolutions pack. Assets are bundled in ``source`` mode: no network.

``infra/`` is an app, not an installed package; ``python infra/app.py`` imports
``opx_infra`` from the script's directory, and these tests do the same.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
sys.path.insert(0, str(INFRA))

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from opx_infra.config import StackConfig  # noqa: E402
from opx_infra.stack import OpxStack  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROD_CONTEXT: dict[str, Any] = {
    "stage": "prod",
    "opx:agents": {
        "signal-intelligence": {"id": "SIGNALPROD", "alias": "LIVE1"},
        "knowledge-rag": {"alias": "LIVE2"},
    },
    "opx:logGroups": "/aws/lambda/*,/ecs/checkout",
    "opx:incidentHistoryTable": "opx-incidents",
    "opx:alarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:opx-oncall",
}


@dataclass(frozen=True)
class Synthesized:
    stack: OpxStack
    template: Template

    @property
    def config(self) -> StackConfig:
        return self.stack.config

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(kind)

    def only(self, kind: str) -> dict[str, Any]:
        """The one resource of ``kind`` (fails if there are several)."""
        (resource,) = self.resources(kind).values()
        return resource

    def properties(self, construct: Any) -> dict[str, Any]:
        """The synthesized ``Properties`` of ``construct``'s resource."""
        return self.template.to_json()["Resources"][self.ref(construct)]["Properties"]

    def ref(self, construct: Any) -> str:
        """The logical id of ``construct`` (an L1, or an L2's default child)."""
        element = getattr(construct.node, "default_child", None) or construct
        return self.stack.get_logical_id(element)


@dataclass(frozen=True)
class App:
    dev: Synthesized
    prod: Synthesized
    outdir: Path

    @property
    def stages(self) -> tuple[Synthesized, Synthesized]:
        return (self.dev, self.prod)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    cdk_app = cdk.App(outdir=str(outdir))
    env = cdk.Environment(account=ACCOUNT, region=REGION)
    stacks = [
        OpxStack(cdk_app, f"opx-{name}", config=StackConfig.from_context(context.get), env=env)
        for name, context in (("dev", {}), ("prod", PROD_CONTEXT))
    ]
    cdk.Aspects.of(cdk_app).add(AwsSolutionsChecks())
    dev, prod = (Synthesized(stack, Template.from_stack(stack)) for stack in stacks)
    yield App(dev=dev, prod=prod, outdir=outdir)


@pytest.fixture(scope="session")
def dev(app: App) -> Synthesized:
    return app.dev


@pytest.fixture(scope="session")
def prod(app: App) -> Synthesized:
    return app.prod
