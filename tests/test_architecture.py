"""The package's dependency rules, read from the source: the harness never imports the reference
site, and no two modules import each other, directly or around a loop (imports inside functions
count; imports only for type checkers do not)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mirror"
SITE = "mirror.site"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


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


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {dep for dep in _imports(tree) if dep in MODULES and dep != name}
    return graph


def _in_site(module: str) -> bool:
    return module == SITE or module.startswith(SITE + ".")


def test_the_package_has_the_layers_of_the_architecture() -> None:
    for layer in ("catalog", "sources", "contracts", "drift", "report", "provision", "site"):
        assert f"mirror.{layer}" in MODULES, f"mirror/{layer}/ is missing"


def test_no_module_outside_the_site_imports_the_site() -> None:
    offenders = sorted(
        f"{module} imports {dep}"
        for module, deps in _graph().items()
        if not _in_site(module)
        for dep in deps
        if _in_site(dep)
    )
    assert offenders == []


def test_no_module_outside_the_site_names_it_for_a_dynamic_import() -> None:
    offenders = []
    for module, path in MODULES.items():
        if _in_site(module):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name == error
    ]
    assert defined_in and all(_in_site(module) for module in defined_in), defined_in
