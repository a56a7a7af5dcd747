"""Every ```python and ```bash block of the READMEs runs verbatim: one test per block.

Each block runs in a fresh temporary folder (a python block as ``snippet.py`` with the test's
interpreter, a bash block with ``bash -e -o pipefail``), with the interpreter's ``bin`` folder
(the venv's: ``mcvd``, ``dmfsharp``) first on PATH, and must exit with status 0. A block is skipped
only by an HTML comment on the line before its fence (blank lines between are allowed):

    <!-- readme-test: skip (the reason, shown in the test report) -->

READMEs are listed in :data:`READMES` (the dmfsharp package README runs in that package's own
tests, which ship in its sdist). A block that imports an optional package which is not installed
(torch) is skipped with the extra to install.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: README files whose blocks run (relative to the repository root)
READMES = ("README.md", "packages/mcvd/README.md")

#: seconds one block may take
TIMEOUT = 300

#: optional packages the examples use (the full install, ``make install``, has them all)
EXTRAS = ("numba", "matplotlib")
#: optional packages a block may import, and the extra that installs them
OPTIONAL = {"torch": "pip install 'dmfsharp[torch]'"}

LANGS = ("python", "bash")
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*\((.+)\)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a README."""

    readme: str
    line: int  # 1-based line of the opening fence
    lang: str
    section: str  # the enclosing level-2 heading ("" before the first)
    code: str
    skip: str | None  # the reason of a skip comment, or None

    @property
    def id(self) -> str:
        return f"{self.readme}:{self.line}:{self.lang}"


def blocks(readme: str, text: str | None = None) -> list[Block]:
    """The python and bash blocks of ``readme`` (text read from the repository unless given)."""
    text = (ROOT / readme).read_text(encoding="utf-8") if text is None else text
    lines = text.splitlines()
    out, section, i = [], "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        m = FENCE.match(line)
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        if i >= len(lines):
            raise ValueError(f"{readme}:{start + 1}: code block is not closed")
        if lang in LANGS:
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            skip = SKIP.match(lines[k].strip()) if k >= 0 else None
            code = "\n".join(lines[start + 1 : i]) + "\n"
            out.append(Block(readme, start + 1, lang, section, code, skip and skip.group(1)))
        i += 1
    return out


ALL = [b for r in READMES for b in blocks(r)]


def test_the_parser_finds_blocks_skips_and_sections():
    text = "\n".join(
        [
            "## one",
            "```python",
            "print(1)",
            "```",
            "<!-- readme-test: skip (too slow) -->",
            "",
            "```bash",
            "sleep 100",
            "```",
            "```text",
            "not code",
            "```",
            "## two",
            "```bash",
            "true",
            "```",
        ]
    )
    got = blocks("X.md", text)
    assert [(b.line, b.lang, b.section, b.skip) for b in got] == [
        (2, "python", "one", None),
        (7, "bash", "one", "too slow"),
        (14, "bash", "two", None),
    ]
    assert got[0].code == "print(1)\n"
    assert len(ALL) >= 6  # the READMEs' blocks were found


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_readme_block_runs_verbatim(block: Block, tmp_path):
    if block.skip is not None:
        pytest.skip(f"{block.id}: {block.skip}")
    for mod, how in OPTIONAL.items():
        uses = re.search(rf"^\s*(import|from) {mod}\b", block.code, re.M)
        if uses and importlib.util.find_spec(mod) is None:
            pytest.skip(f"{block.id}: needs {mod} ({how})")
    missing = [m for m in EXTRAS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the README examples assume every extra (make install); missing: {missing}")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MPLBACKEND"] = "Agg"
    # one BLAS thread: several threads per process oversubscribe a small machine's cores
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["MCVD_RUN_CACHE"] = str(tmp_path / ".run-cache")  # no files outside the folder
    if block.lang == "python":
        (tmp_path / "snippet.py").write_text(block.code, encoding="utf-8")
        cmd = [sys.executable, "snippet.py"]
    else:
        cmd = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, (
        f"{block.id} exited with {proc.returncode}\n--- code\n{block.code}"
        f"--- stdout\n{proc.stdout[-2000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
