"""Scenario specs: a hand-authored scenario as one small YAML file (``specs/<name>.yaml``).

:mod:`~harness.specs.model` says what a spec may hold and fills the rest with defaults,
:mod:`~harness.specs.generators` computes the data nobody should type, and
:mod:`~harness.specs.compile` records the scenario by running the real handler;
``opx-harness author`` (:mod:`harness.cli.author`) writes or checks the files.
"""

from harness.specs.compile import AuthoringFailed, SpecError, compile_spec, load_spec

__all__ = ["AuthoringFailed", "SpecError", "compile_spec", "load_spec"]
