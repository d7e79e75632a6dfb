"""The package's dependency rules, read from the source: the harness never imports the reference
site, no two modules import each other, directly or around a loop (imports inside functions
count; imports only for type checkers do not), and no module of the installed package is over
400 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mirror"
# The reference site: this repository's own code under contract, outside the installed package.
SITE_FOLDER = ROOT / "examples" / "fastapi_site"
SITE = "examples.fastapi_site"
MAX_LINES = 400
# What a plain ``pip install billig-harness`` does not bring.
WEB_PACKAGES = frozenset(("fastapi", "starlette", "pydantic", "uvicorn", "httpx"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


HARNESS = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
MODULES = HARNESS | {_module_name(p): p for p in sorted(SITE_FOLDER.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[str]:
    """Every module an import statement names, at any depth, except under ``if TYPE_CHECKING``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (name for child in node.orelse for name in _imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in MODULES else node.module
        yield from _imports(node)


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _graph() -> dict[str, set[str]]:
    return {
        name: {dep for dep in _imports(_tree(path)) if dep in MODULES and dep != name}
        for name, path in MODULES.items()
    }


def _in_site(module: str) -> bool:
    return module == SITE or module.startswith(SITE + ".")


def test_the_package_has_the_layers_of_the_architecture() -> None:
    for layer in ("catalog", "sources", "contracts", "drift", "report", "provision"):
        assert f"mirror.{layer}" in HARNESS, f"mirror/{layer}/ is missing"


def test_the_package_imports_no_web_framework() -> None:
    """The lean install: only ``billig serve`` needs a web server (the ``serve`` extra)."""
    allowed = {"uvicorn": {"mirror.serve"}}
    offenders = sorted(
        f"{module} imports {dep}"
        for module, path in HARNESS.items()
        for dep in _imports(_tree(path))
        if dep.partition(".")[0] in WEB_PACKAGES
        and module not in allowed.get(dep.partition(".")[0], set())
    )
    assert offenders == []


def test_no_module_of_the_package_imports_the_site() -> None:
    offenders = sorted(
        f"{module} imports {dep}"
        for module, path in HARNESS.items()
        for dep in _imports(_tree(path))
        if dep == "examples" or dep.startswith("examples.")
    )
    assert offenders == []


def test_no_module_of_the_package_names_the_site_for_a_dynamic_import() -> None:
    offenders = []
    for module, path in HARNESS.items():
        for node in ast.walk(_tree(path)):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and (text == SITE or text.startswith(SITE + ".")):
                offenders.append(f"{module}: {text!r}")
    assert offenders == []


def test_no_import_cycle_between_modules() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert [" -> ".join(c) for c in cycles] == []


@pytest.mark.parametrize("error", ["ReadOnlyError", "TicketReferenceError"])
def test_site_errors_belong_to_the_site(error: str) -> None:
    defined_in = [
        module
        for module, path in MODULES.items()
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ClassDef) and node.name == error
    ]
    assert defined_in and all(_in_site(module) for module in defined_in), defined_in


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_of_the_package_is_over_400_lines() -> None:
    over = {module: _lines(path) for module, path in HARNESS.items() if _lines(path) > MAX_LINES}
    assert over == {}
