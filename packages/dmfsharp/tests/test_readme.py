"""Every code block of the dmfsharp README runs verbatim, each on its own in a fresh interpreter in
an empty folder: ```python blocks with this tree's Python, ```bash blocks with ``dmfsharp`` and
``python`` on PATH. (The repository README's blocks run in the repository's own test suite.)
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import dmfsharp
import pytest

SRC = Path(dmfsharp.__file__).resolve().parents[1]
#: beside the tests (in the repository: packages/dmfsharp/README.md; in an unpacked sdist: its
#: README.md), so that the shipped tests find it wherever the package is installed
PACKAGE_README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def code_blocks(path: Path) -> list[tuple[str, str, int]]:
    """``(language, code, line)`` of every ```python / ```bash block of a markdown file."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        lang, code = m.group(1), m.group(2)
        if lang not in ("python", "bash"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        out.append((lang, code, line))
    return out


def run_block(lang: str, code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run one block in ``cwd`` with this tree's package (fresh interpreter, nothing shared)."""
    bindir = cwd / ".bin"
    bindir.mkdir(exist_ok=True)
    for name, cmd in (
        ("dmfsharp", f'"{sys.executable}" -m dmfsharp.cli'),
        ("python", f'"{sys.executable}"'),
    ):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec {cmd} "$@"\n')
        shim.chmod(0o755)
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PATH": str(bindir) + os.pathsep + os.environ.get("PATH", ""),
        "MPLBACKEND": "Agg",
        # one BLAS thread: on a shared machine several threads per test process oversubscribe
        # the cores and small LAPACK calls slow down several-fold (the results do not change)
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    argv = (
        [sys.executable, "-c", code]
        if lang == "python"
        else ["bash", "-euo", "pipefail", "-c", code]
    )
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _needs(code: str) -> str | None:
    for mod, extra in (("torch", "torch"), ("matplotlib", "plot")):
        if (
            re.search(rf"^\s*(import|from) {mod}\b", code, re.M)
            and importlib.util.find_spec(mod) is None
        ):
            return f"{mod} missing: pip install 'dmfsharp[{extra}]'"
    return None


def _params(path: Path):
    if not path.exists():  # an installed package without its README
        return []
    return [
        pytest.param(lang, code, id=f"package:{line}:{lang}")
        for lang, code, line in code_blocks(path)
    ]


def _check(lang, code, tmp_path):
    reason = _needs(code)
    if reason:
        pytest.skip(reason)
    proc = run_block(lang, code, tmp_path)
    assert proc.returncode == 0, f"block failed:\n{code}\n--- stderr ---\n{proc.stderr[-3000:]}"


def test_the_package_readme_has_blocks_of_both_kinds():
    kinds = [lang for lang, _, _ in code_blocks(PACKAGE_README)]
    assert kinds.count("python") >= 5 and kinds.count("bash") >= 3


@pytest.mark.parametrize(("lang", "code"), _params(PACKAGE_README))
def test_package_readme_block_runs_verbatim(lang, code, tmp_path):
    _check(lang, code, tmp_path)
