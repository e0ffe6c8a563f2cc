"""One synthesis per test session (per xdist worker), shared by every infra test.

Synthesis starts jsii's node process and loads aws-cdk-lib (seconds), so the app is
built once: a ``dev`` stack with the default context, as ``python infra/app.py``
makes it, and a ``prod`` stack with every context key set. Both run cdk-nag's
AwsSolutions pack. Assets are bundled in ``source`` mode: no network.

``infra/`` is an app, not an installed package; ``python infra/app.py`` imports
``opx_infra`` from the script's directory, and these tests do the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
sys.path.insert(0, str(INFRA))

#: jsii's switches for its Node-version banners (``@jsii/check-node``): the end-of-life
#: one takes a comma-separated list of major versions, the others any value.
SILENCE_END_OF_LIFE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
SILENCE_OTHERS = (
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION",
)


def silence_node_version_banners() -> None:
    """Keep jsii's Node-version banner out of the test output.

    jsii's runtime prints a boxed "Node NN is end-of-life" banner on its stderr when
    its node process starts -- at the ``aws_cdk`` import below, i.e. whenever pytest
    collects this directory, even for ``pytest -k <scenario>``. jsii's Python host
    relays lines it cannot parse with ``print(line)`` on bytes, so every line shows up
    as ``b'!!  ...  !!\\n'``. Which Node runs the CDK app is the deployer's choice
    (``npx aws-cdk@2`` warns them); the tests only synthesize, so the banner is noise
    here. Only the running major version is silenced, and a "known broken" Node still
    warns.
    """
    node = os.environ.get("JSII_NODE", "node")
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return  # no node: synthesis fails loudly on its own
    major = version.strip().removeprefix("v").split(".")[0]
    if major.isdigit():
        listed = [v.strip() for v in os.environ.get(SILENCE_END_OF_LIFE, "").split(",")]
        if major not in listed:
            os.environ[SILENCE_END_OF_LIFE] = ",".join([*filter(None, listed), major])
    for name in SILENCE_OTHERS:
        os.environ.setdefault(name, "1")


silence_node_version_banners()  # before aws_cdk starts jsii's node process

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
