"""Write the benchmark reference from the scripts in ``benchmarks/`` and the READMEs.

For each ``benchmarks/*.py``: its module docstring (what it measures and how; rendered as
reStructuredText when it parses cleanly, else shown verbatim), the command that runs it, and the
results recorded in the READMEs — every README paragraph that names the script, with the table
that directly follows it. Nothing is copied by hand, so the page follows the scripts and the
READMEs as they change.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import docutils.core
import docutils.utils


def _parses_cleanly(text: str) -> bool:
    """Whether ``text`` is reStructuredText that docutils parses without a warning.

    Sphinx roles (``:func:``) are unknown to plain docutils; they are neutralised first.
    """
    probe = re.sub(r":[a-z]+:`([^`]*)`", r"``\1``", text)
    stream = io.StringIO()
    try:
        docutils.core.publish_doctree(
            probe, settings_overrides={"warning_stream": stream, "report_level": 2, "halt_level": 5}
        )
    except docutils.utils.SystemMessage:
        return False
    return stream.getvalue() == ""


#: a markdown link or image whose target is relative (a repository path, not a URL or anchor)
RELATIVE_LINK = re.compile(r"!?\[([^\]]*)\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|#)[^)\s]+\)")


def unlink(markdown: str) -> str:
    """``markdown`` with relative links replaced by their text (they point into the repository,
    not into this site)."""
    return RELATIVE_LINK.sub(lambda m: m[1], markdown)


def readme_results(readme: Path, out: Path) -> None:
    """The README block between ``<!-- results:begin -->`` and ``<!-- results:end -->``."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"<!-- results:begin -->(.*?)<!-- results:end -->", text, re.S)
    block = unlink(match[1].strip()) if match else "*The README has no results block.*"
    _write(out, block + "\n")


def _write(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text(encoding="utf-8") != text:  # keep mtimes stable
        out.write_text(text, encoding="utf-8")


def _blocks(markdown: str) -> list[str]:
    return [b for b in re.split(r"\n\s*\n", markdown) if b.strip()]


def recorded_results(script: str, readmes: list[Path], root: Path) -> list[tuple[str, str]]:
    """(README path, excerpt) for every README block that names ``benchmarks/<script>``."""
    out = []
    for readme in readmes:
        blocks = _blocks(readme.read_text(encoding="utf-8"))
        for k, block in enumerate(blocks):
            if f"benchmarks/{script}" not in block:
                continue
            excerpt = [block]
            if k + 1 < len(blocks) and blocks[k + 1].lstrip().startswith("|"):
                excerpt.append(blocks[k + 1])
            out.append((readme.relative_to(root).as_posix(), unlink("\n\n".join(excerpt))))
    return out


def write_benchmarks(root: Path, out: Path) -> None:
    readmes = [root / "README.md", *sorted((root / "packages").glob("*/README.md"))]
    parts = []
    for path in sorted((root / "benchmarks").glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        title, _, body = doc.partition("\n")
        parts.append(f"## `{path.name}`\n\n{title.strip()}\n")
        parts.append(f"```bash\n.venv/bin/python benchmarks/{path.name}\n```\n")
        body = body.strip()
        if body:
            if _parses_cleanly(body):
                parts.append("```{eval-rst}\n" + body + "\n```\n")
            else:
                parts.append("```text\n" + body + "\n```\n")
        recorded = recorded_results(path.name, readmes, root)
        if recorded:
            parts.append(
                "**Recorded results** (as measured and written in the README; re-run "
                "the script to reproduce them on your machine):\n"
            )
            for readme, excerpt in recorded:
                quoted = "\n".join(("> " + line) if line else ">" for line in excerpt.splitlines())
                parts.append(f"{quoted}\n>\n> — `{readme}`\n")
        else:
            parts.append("No result of this script is recorded in the READMEs yet.\n")
    _write(out, "\n".join(parts))
