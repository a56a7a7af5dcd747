"""The import graph of mcvd: no circles, and every import points down the layers.

Layers, bottom to top: ``core`` → ``sim`` → ``comm`` → ``studies`` → ``cli``. A module may import
modules of its own layer or of a layer below (``mcvd/__init__.py`` and ``mcvd/_version.py`` sit
outside the layers: the root may name anything lazily, and everyone may read the version). The
graph is read with ``ast`` from the source, so imports inside functions (lazy imports) count too.
"""

from __future__ import annotations

import ast
import pathlib

import mcvd
import pytest

LAYERS = ("core", "sim", "comm", "studies", "cli")
ROOT = pathlib.Path(mcvd.__file__).parent


def _module_name(path: pathlib.Path, package: str, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def import_graph(package: str, root: pathlib.Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (absolute or relative, at any depth)."""
    modules = {_module_name(p, package, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                # `from pkg import submodule` imports the submodule; `from mod import name` mod
                targets = [
                    f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names
                ]
            for t in targets:
                while t and t not in modules:  # a name inside a module: the module
                    t = t.rpartition(".")[0]
                if t and t != name and t.split(".")[0] == package:
                    deps.add(t)
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if v not in state and (cyc := visit(v)):
                return cyc
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state and (cyc := visit(u)):
            return cyc
    return None


#: packages that sit in a layer under another name: the example data reads scenarios (core)
_SAME_LAYER = {"examples": "core"}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    name = _SAME_LAYER.get(parts[1], parts[1]) if len(parts) > 1 else None
    return LAYERS.index(name) if name in LAYERS else None


def test_find_cycle_detects_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_mcvd_has_no_import_circle():
    assert find_cycle(import_graph("mcvd", ROOT)) is None


def test_every_mcvd_module_sits_in_a_layer():
    outside = {
        m
        for m in import_graph("mcvd", ROOT)
        if _layer(m) is None and m not in ("mcvd", "mcvd._version")
    }
    assert not outside, f"modules outside the layers {LAYERS}: {sorted(outside)}"


def test_mcvd_imports_point_down_the_layers():
    bad = []
    for mod, deps in import_graph("mcvd", ROOT).items():
        lm = _layer(mod)
        for d in deps:
            if d == "mcvd._version" or lm is None:
                continue
            ld = _layer(d)
            if ld is None or ld > lm:
                bad.append(f"{mod} -> {d}")
    assert not bad, "upward imports: " + ", ".join(sorted(bad))


def test_dmfsharp_has_no_import_circle():
    dmfsharp = pytest.importorskip("dmfsharp", reason="dmfsharp is not installed beside mcvd")
    root = pathlib.Path(dmfsharp.__file__).parent
    assert find_cycle(import_graph("dmfsharp", root)) is None


def test_the_libraries_never_import_each_other():
    for pkg, other in (("mcvd", "dmfsharp"), ("dmfsharp", "mcvd")):
        try:
            root = pathlib.Path(__import__(pkg).__file__).parent
        except ImportError:
            continue
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                assert not any(n.split(".")[0] == other for n in names), f"{path} imports {other}"
