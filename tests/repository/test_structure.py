"""The shape of the house: no import cycle inside nnpy, the library fenced off from the page's
half of the worker protocol, and no source file that grew long without saying why."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "nnpy"
LONG_FILE = 400  # lines; a longer source file says why in its first lines
LONG_REASON = "longer than 400 lines because"


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(name, path):
    """The nnpy modules `name` imports anywhere in its file (lazy imports in functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from . import layers` imports the module nnpy.layers
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imported_modules(name, path) for name, path in MODULES.items()}


def find_cycle(graph):
    """One import cycle as a list of module names, or None."""
    state = {}  # name -> "open" while on the path, "done" once all it reaches is explored

    def visit(name, path):
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target, [*path, target])):
                return cycle
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name, [name])):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_imports_are_read_from_relative_and_lazy_imports():
    assert "nnpy.saving" in GRAPH["nnpy.model"]  # from .saving import ...
    assert "nnpy.layers" in GRAPH["nnpy.tasks.image_classifier"]  # from .. import layers
    assert "nnpy.saving.safetensors" in GRAPH["nnpy.saving.model_file"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("nnpy.web")))
def test_the_library_names_no_page(name):
    """Only nnpy.web speaks to the worker; the library never imports it, nor `js`/`pyodide` at
    the top of a module (a lazy import inside Pyodide-only code is allowed)."""
    assert not any(target.startswith("nnpy.web") for target in GRAPH[name])
    tree = ast.parse(MODULES[name].read_text())
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = {alias.name for node in top_level if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in top_level if isinstance(node, ast.ImportFrom) and node.module}
    assert not names & {"js", "pyodide"}


SOURCES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "web").rglob("*.js"), ROOT / "build.py"])


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_long_source_file_says_why_at_its_top(path):
    lines = path.read_text().splitlines()
    if len(lines) > LONG_FILE:
        head = " ".join(lines[:15]).lower()
        assert LONG_REASON in head, f"{len(lines)} lines and no '{LONG_REASON} ...' at the top"
