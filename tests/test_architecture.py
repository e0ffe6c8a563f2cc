"""The tree reads as the architecture: no import cycles, private names stay private.

Both rules are checked on the source with ``ast`` -- every import counts, the ones
inside functions too (a function-level import is how a cycle hides), except those
under ``if TYPE_CHECKING:``, which never run. ruff's ``PLC2701`` cannot do the
second job: it ignores private imports within one top-level package, which is
exactly where they happened here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "opx")


@dataclass(frozen=True)
class Import:
    importer: str
    #: The module imported (``a.b`` for ``from a import b`` when ``a.b`` is a module).
    module: str
    #: The names taken from it (``from module import name``); empty for ``import module``.
    names: tuple[str, ...]
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(root: Path = ROOT) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    yield from _runtime_nodes(node)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    found.append(Import(name, submodule, (), node.lineno))
                else:
                    found.append(Import(name, base, (alias.name,), node.lineno))
    return found


def internal_imports(root: Path = ROOT) -> list[Import]:
    modules = source_modules(root)
    return [
        item
        for name, path in modules.items()
        for item in imports_of(name, path, modules)
        if item.module.split(".")[0] in PACKAGES and item.module in modules
    ]


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``module -> modules it imports``. Importing ``a.b.c`` also runs ``a/__init__``
    and ``a/b/__init__``: those count too, unless the importer lives inside them
    (a package importing its own submodules is how packages are built)."""
    modules = source_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for item in internal_imports(root):
        parts = item.module.split(".")
        targets = {item.module} | {
            ".".join(parts[:n])
            for n in range(1, len(parts))
            if not item.importer.startswith(".".join(parts[:n]) + ".")
            and item.importer != ".".join(parts[:n])
        }
        graph[item.importer] |= {t for t in targets if t in modules and t != item.importer}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(root: Path = ROOT) -> list[str]:
    """``from module import _name`` -- or ``module._name`` on an imported module --
    across modules, as ``file:line: what``."""
    modules = source_modules(root)
    found = [
        f"{modules[item.importer].relative_to(root)}:{item.line}: {item.module}.{name}"
        for item in internal_imports(root)
        for name in item.names
        if _private(name)
    ]
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases: dict[str, str] = {}
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in modules:
                        aliases[alias.asname] = alias.name
        for node in _runtime_nodes(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
                and aliases[node.value.id] != name
            ):
                where = f"{path.relative_to(root)}:{node.lineno}"
                found.append(f"{where}: {aliases[node.value.id]}.{node.attr}")
    return sorted(found)


# --------------------------------------------------------------------------- the rules


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (each line one cycle):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_no_private_name_is_imported_from_another_module() -> None:
    found = private_imports()
    assert not found, "private names imported across modules:\n" + "\n".join(found)


# --------------------------------------------------------------------------- self-tests


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A tree with a cycle hidden behind a function-level import, a cycle through a
    package ``__init__``, a private import, and the shapes that are fine."""
    return _tree(
        tmp_path,
        {
            "harness/__init__.py": "",
            "harness/a.py": "from harness.b import thing\n",
            "harness/b.py": "def thing():\n    from harness import a\n    return a\n",
            "harness/pkg/__init__.py": "from harness.pkg.inner import x\n",
            "harness/pkg/inner.py": "from harness.other import y\nx = 1\n",
            "harness/other.py": (
                "from harness.pkg.inner import x as y\nfrom harness.b import _hidden\n"
            ),
            "harness/typed.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from harness.typed2 import T\n"
            ),
            "harness/typed2.py": "from harness.typed import T\n",
            "opx/__init__.py": "",
            "opx/ok.py": "from harness.pkg import inner\n",
            "opx/peek.py": "from harness import b\n\n\ndef f():\n    return b._hidden\n",
        },
    )


def test_the_cycle_rule_finds_planted_cycles(planted: Path) -> None:
    found = cycles(import_graph(planted))
    assert ["harness.a", "harness.b"] in found  # hidden behind a function-level import
    assert any("harness.other" in c and "harness.pkg.inner" in c for c in found)
    # TYPE_CHECKING imports never run: no cycle between typed and typed2.
    assert not any("harness.typed" in c for c in found)


def test_the_private_rule_finds_a_planted_private_import(planted: Path) -> None:
    assert private_imports(planted) == [
        "harness/other.py:2: harness.b._hidden",
        "opx/peek.py:5: harness.b._hidden",
    ]
