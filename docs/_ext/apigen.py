"""Write the API-reference and command-line pages of a library from the package itself.

Run from ``conf.py`` before Sphinx reads the sources, so that every public name is documented
without a hand-kept list: a new module, a new name in a module's ``__all__`` or a new subcommand
appears in the reference by itself.

Rules
-----
* Modules: every importable module of the package whose dotted name has no component starting
  with ``_``. Subpackages are the *groups* (mcvd's layers); a flat package has one group.
* Public names of a module: its ``__all__``; without one, the functions and classes it defines
  whose names do not start with ``_``.
* Each object is documented once, on the page of the module that defines it (``__module__``),
  under its defining path (``mcvd.core.models.response``), so that relative references in its
  docstring resolve. A name that a module only re-exports is listed there with a link. Names
  that the top-level package exports (``mcvd.response``) are aliases: the object's page says so
  and references to the alias resolve to it (:func:`resolve_alias`).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ModuleInfo:
    name: str
    summary: str
    own: list[str] = field(default_factory=list)  # documented here: short names
    reexported: list[str] = field(default_factory=list)  # full defining paths, documented elsewhere


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def _defining_module(obj) -> str | None:
    """The module that defines ``obj``: ``__module__`` of functions, classes, numba dispatchers."""
    target = getattr(obj, "py_func", obj)  # a numba dispatcher documents its Python function
    if inspect.isfunction(target) or inspect.isclass(target) or inspect.isbuiltin(target):
        return getattr(target, "__module__", None)
    return None


def public_modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public_names(module) -> list[str]:
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__")]
    return sorted(
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and _defining_module(v) == module.__name__
    )


def collect(package: str) -> tuple[list[ModuleInfo], dict[str, str]]:
    """Modules with their own and re-exported names, and the alias map (alias -> defining path)."""
    modules: list[ModuleInfo] = []
    documented: dict[int, str] = {}  # id(data object) -> where it is documented (data only)
    # plain modules before packages, so that data a package re-exports is documented where the
    # module that defines it lists it
    names = public_modules(package)
    ordered = sorted(names, key=lambda n: (hasattr(importlib.import_module(n), "__path__"), n))
    for modname in ordered:
        module = importlib.import_module(modname)
        info = ModuleInfo(modname, _first_line(module))
        for name in public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            home = _defining_module(obj)
            if home is None:  # data: documented where it first appears in an __all__
                if isinstance(obj, (int, float, str, bool)) or id(obj) not in documented:
                    documented[id(obj)] = f"{modname}.{name}"
                    info.own.append(name)
                else:
                    info.reexported.append(documented[id(obj)])
            elif home == modname:
                info.own.append(name)
            else:
                target = getattr(obj, "py_func", obj)
                info.reexported.append(f"{home}.{target.__qualname__}")
        modules.append(info)
    modules.sort(key=lambda m: m.name)
    # every re-export must point at a documented object (a private defining module would not be)
    own = {f"{m.name}.{n}" for m in modules for n in m.own}
    for m in modules:
        for full in list(m.reexported):
            if full not in own:  # defined in a private module: document it where it is public
                m.reexported.remove(full)
                m.own.append(full.rsplit(".", 1)[1])
                own.add(f"{m.name}.{full.rsplit('.', 1)[1]}")
    aliases = {}
    top = importlib.import_module(package)
    for m in modules:
        for n in m.reexported:
            aliases[f"{m.name}.{n.rsplit('.', 1)[1]}"] = n
    for name in public_names(top):
        obj = getattr(top, name)
        home = _defining_module(obj)
        if home and home != package:
            target = getattr(obj, "py_func", obj)
            aliases[f"{package}.{name}"] = f"{home}.{target.__qualname__}"
    # a name defined in a private module and documented on a public page: keep the public path
    for alias, full in list(aliases.items()):
        if full not in own:
            short = full.rsplit(".", 1)[1]
            homes = [f"{m.name}.{short}" for m in modules if short in m.own]
            if homes:
                aliases[alias] = homes[0]
            else:
                del aliases[alias]
    return modules, aliases


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _module_page(m: ModuleInfo) -> str:
    out = [f".. _api-{m.name}:\n", _title(m.name)]
    out.append(f".. automodule:: {m.name}\n   :no-members:\n")
    out.append(f".. currentmodule:: {m.name}\n")
    if m.own:
        out.append(".. autosummary::\n   :toctree: generated\n   :nosignatures:\n")
        out += [f"   {n}" for n in m.own]
        out.append("")
    if m.reexported:
        out.append("Also available from this module (documented where they are defined):\n")
        out.append(".. currentmodule:: None\n")  # the table holds other modules' names
        out.append(".. autosummary::\n   :nosignatures:\n")
        out += [f"   ~{full}" for full in m.reexported]
        out.append("")
    return "\n".join(out) + "\n"


def cli_page(prog: str, parser: argparse.ArgumentParser) -> str:
    """The ``--help`` of a command and of each of its subcommands, as literal blocks."""
    os.environ["COLUMNS"] = "96"  # argparse wraps at the terminal width
    out = [f".. _cli-{prog}:\n", _title(f"Command line: {prog}")]
    out.append(
        f"Generated from the parser of ``{prog}`` at build time (``{prog} --help`` and "
        f"``{prog} COMMAND --help`` print the same).\n"
    )
    out += [".. code-block:: text\n", _indent(parser.format_help()), ""]
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for action in subs:
        for name, sub in action.choices.items():
            out += [
                _title(f"{prog} {name}", "-"),
                ".. code-block:: text\n",
                _indent(sub.format_help()),
                "",
            ]
    return "\n".join(out) + "\n"


def _indent(text: str) -> str:
    return "\n".join(("   " + line) if line.strip() else "" for line in text.splitlines())


def write_api(
    package: str,
    outdir: Path,
    *,
    intro: str,
    groups: dict[str, str] | None = None,
    cli: tuple[str, argparse.ArgumentParser] | None = None,
) -> dict[str, str]:
    """Write ``outdir/index.rst`` and one page per module; returns the alias map.

    ``groups`` maps a subpackage (``"mcvd.core"``) to its heading text; modules are grouped by
    their subpackage in that order, the rest under the package itself.
    """
    modules, aliases = collect(package)
    outdir.mkdir(parents=True, exist_ok=True)
    pages = {m.name: _module_page(m) for m in modules}
    sections: list[tuple[str, list[ModuleInfo]]] = []
    if groups:
        for group, heading in groups.items():
            members = [m for m in modules if m.name == group or m.name.startswith(group + ".")]
            if members:
                sections.append((heading, members))
        rest = [m for m in modules if not any(m in ms for _, ms in sections)]
        if rest:
            sections.insert(0, (f"The package ``{package}``", rest))
    else:
        sections.append(("Modules", modules))
    index = [f".. _api-{package}-index:\n", _title(f"{package} API reference"), intro, ""]
    for heading, members in sections:
        index.append(_title(heading, "-"))
        index.append(".. list-table::\n   :widths: 30 70\n")
        for m in members:
            index.append(f"   * - :ref:`{m.name} <api-{m.name}>`\n     - {m.summary or ' '}")
        index.append("")
        index.append(".. toctree::\n   :hidden:\n")
        index += [f"   {m.name}" for m in members]
        index.append("")
    if cli is not None:
        index += [
            _title("Command line", "-"),
            f":ref:`cli-{cli[0]}`: every subcommand.\n",
            ".. toctree::\n   :hidden:\n\n   cli\n",
        ]
        pages["cli"] = cli_page(*cli)
    pages["index"] = "\n".join(index) + "\n"
    for name, text in pages.items():
        path = outdir / f"{name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:  # keep mtimes stable
            path.write_text(text, encoding="utf-8")
    for stale in outdir.glob("*.rst"):
        if stale.stem not in pages:
            stale.unlink()
    # autosummary's object pages of names that are gone (renamed, moved, removed) would stay
    # behind in an incremental build: orphan pages, and autodoc failing to import them
    documented = {f"{m.name}.{n}" for m in modules for n in m.own}
    for stale in (outdir / "generated").glob("*.rst"):
        if stale.stem not in documented:
            stale.unlink()
    return aliases


def type_aliases(*packages: str) -> dict[str, str]:
    """Short class names (``Scenario``) -> documented path, for numpydoc's parameter types.

    Only names that are unique over the packages; numpydoc then links a parameter type such as
    ``Scenario or Geometry`` to the classes' pages.
    """
    seen: dict[str, set[str]] = {}
    for package in packages:
        modules, _ = collect(package)
        for m in modules:
            module = importlib.import_module(m.name)
            for n in m.own:
                if inspect.isclass(getattr(module, n, None)):
                    seen.setdefault(n, set()).add(f"{m.name}.{n}")
    return {n: next(iter(paths)) for n, paths in seen.items() if len(paths) == 1}


def resolve_alias(aliases: dict[str, str]):
    """A ``missing-reference`` handler: a reference to an alias resolves to the documented object."""

    def handler(app, env, node, contnode):
        if node.get("refdomain") != "py":
            return None
        target = node.get("reftarget", "")
        full = aliases.get(target)
        if full is None:
            return None
        py = env.get_domain("py")
        return py.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], full, node, contnode
        )

    return handler
