"""The demo report assembly and the Makefile: ``make demo`` writes only under ``out/``; the README
results table (``make readme-results``) is the same on every machine and is rewritten only when a
result really changes."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location(
    "assemble_report", ROOT / "scripts/assemble_report.py"
)
assemble = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(assemble)

README = """# project

## Results

<!-- results:begin -->
old table
<!-- results:end -->

after
"""

#: demo-like summaries of two machines: the same results, rounding-level digits that differ
DMF_ROW = (
    "| Gaussian depth 2 | λ_max (c=1/2) | 4.0563635 | 4.0563635 (dense Hessian eigh) "
    "| rel. diff {rel}; S = 4.05636 (tight) |"
)
MCVD_ROWS = [
    "| paper topology | F(2 s) | 0.39151 (images-ho) | 0.39107 (exact) | kamber2024: 0.39261 |",
    "| paper topology | max abs error of F, 0–2 s | 1.2e-03 (images-ho) | 3.3e-03 (kamber2024) | x |",
]


def _demo_out(out: Path, rel: str, cex: str) -> None:
    for lib, rows in {
        "dmfsharp": [DMF_ROW.format(rel=rel), DMF_ROW.format(rel=cex)],
        "mcvd": MCVD_ROWS,
    }.items():
        (out / lib).mkdir(parents=True, exist_ok=True)
        head = f"**{lib}** — summary:\n\n| case | quantity | {lib} | reference | note |\n|---|---|---|---|---|"
        (out / lib / "summary.md").write_text(head + "\n" + "\n".join(rows) + "\n")
        (out / lib / "report.md").write_text(f"## {lib}\n\n![fig](fig.png)\n")


def test_readme_table_is_stable_across_machines_and_runs(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    out = tmp_path / "out"
    _demo_out(out, "9e-16", "0e+00")  # one machine's rounding-level differences
    assert assemble.main(["--out", str(out), "--readme", str(readme)]) == 0
    first = readme.read_text()
    assert "rel. diff < 1e-14" in first and "9e-16" not in first and "0e+00" not in first
    assert "1.2e-03 (images-ho)" in first  # real numbers are kept as they are
    assert first.endswith("<!-- results:end -->\n\nafter\n")
    assert "](out/dmfsharp/" not in first  # links of the report are not in the summaries
    capsys.readouterr()
    _demo_out(out, "4.4e-16", "2e-16")  # another machine (or run): other last digits
    assert assemble.main(["--out", str(out), "--readme", str(readme)]) == 0
    assert readme.read_text() == first
    assert "is up to date" in capsys.readouterr().out
    assert (out / "REPORT.md").read_text().count("## ") == 2
    assert "](dmfsharp/fig.png)" in (out / "REPORT.md").read_text()


def test_report_without_readme_touches_no_readme(tmp_path):
    out = tmp_path / "out"
    _demo_out(out, "9e-16", "0e+00")
    assert assemble.main(["--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_bound_tiny_keeps_every_other_number():
    text = "rel. diff 1e-15 | 2.0E-17 | -3e-20 | 1e-14 | 5e-3 | 77.786328 | 2e10 | x9e-16"
    assert assemble.bound_tiny(text) == (
        "rel. diff < 1e-14 | < 1e-14 | < 1e-14 | 1e-14 | 5e-3 | 77.786328 | 2e10 | x9e-16"
    )


def _recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    m = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n|.*\\\n)*)", text, re.M)
    assert m, target
    return m.group(1)


def test_make_demo_writes_only_under_out_and_readme_results_is_explicit():
    demo = _recipe("demo")
    assert "README" not in demo and "--readme" not in demo
    assert "--readme README.md" in _recipe("readme-results")
    assert "git status --porcelain" in _recipe("demo-check-clean")
    assert " tests" in re.search(r"^TESTS :=.*$", (ROOT / "Makefile").read_text(), re.M)[0]


@pytest.mark.slow
def test_make_demo_leaves_the_working_tree_unchanged():
    if shutil.which("make") is None or not (ROOT / ".git").exists():
        pytest.skip("needs make and a git checkout")
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        ["make", "--no-print-directory", "demo", "STAMP=", f"BIN={bin_dir}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=1800,
    )
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert after == before
