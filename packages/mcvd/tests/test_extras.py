"""Missing optional extras: one line naming what to install, never a traceback; the test suite
itself collects with only the ``test`` extra (files needing an extra skip with a reason).

Each check runs in a fresh interpreter where the extra's package is made unimportable
(``sys.modules[name] = None``, as if it were not installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
TESTS = Path(__file__).resolve().parent

PAPER = {
    "D": 79.4,
    "transmitter": {"position": [0, 0, 10], "molecules": 100},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": 0.1, "dt": 1e-3},
}


def without(blocked, code, *args, cwd=None):
    """Run ``code`` in a fresh interpreter in which the modules ``blocked`` cannot be imported."""
    prelude = f"import sys\nfor _m in {list(blocked)!r}:\n    sys.modules[_m] = None\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-c", prelude + code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


CLI = "from mcvd.cli import main\nsys.exit(main())"


@pytest.mark.parametrize(
    ("blocked", "argv", "needle"),
    [
        (
            ["numba"],
            ["simulate", "{sc}"],
            "method 'fixed-step' needs numba (pip install 'mcvd[sim]')",
        ),
        (
            ["numba"],
            ["simulate", "{sc}", "--method", "event"],
            "needs numba (pip install 'mcvd[sim]')",
        ),
        (
            ["matplotlib"],
            ["demo", "--out", "{tmp}/demo"],
            "needs matplotlib (pip install 'mcvd[plot]')",
        ),
        (
            ["matplotlib"],
            ["crosscheck", "--out", "{tmp}/cc", "--gaps", "3"],
            "needs matplotlib (pip install 'mcvd[plot]')",
        ),
        (
            ["distributed", "dask"],
            ["simulate", "{sc}", "--scheduler", "tcp://127.0.0.1:9"],
            "needs distributed (pip install 'mcvd[dask]')",
        ),
    ],
)
def test_cli_names_the_missing_extra_in_one_line(tmp_path, blocked, argv, needle):
    sc = tmp_path / "sc.json"
    sc.write_text(json.dumps(PAPER))
    args = [a.format(sc=sc, tmp=tmp_path) for a in argv]
    if "--scheduler" in args:
        pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")
    if argv[0] == "simulate":
        args.append("--no-progress")
    proc = without(blocked, CLI, *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcvd: error: ") and needle in lines[0], lines


def test_api_raises_an_import_error_naming_the_extra():
    code = (
        "import mcvd\n"
        f"sc = {PAPER!r}\n"
        "try:\n    mcvd.simulate(sc, executor='inline')\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc)\n"
        "from mcvd.core.plots import plot_responses\n"
        "try:\n    plot_responses([mcvd.response(mcvd.load_example('paper_halfspace'), [0.5])])\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    proc = without(["numba", "matplotlib"], code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "MissingExtraError method 'fixed-step' needs numba (pip install 'mcvd[sim]')",
        "MissingExtraError plots needs matplotlib (pip install 'mcvd[plot]')",
    ]


def test_the_test_extra_alone_collects_every_test_file():
    # numba, matplotlib and dask missing: no file fails at import; those that need an extra skip
    # with a reason naming it
    code = "import pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    proc = without(
        ["numba", "matplotlib", "distributed", "dask"],
        code,
        "--collect-only",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        str(TESTS),
        cwd=TESTS.parents[2],
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert "collected" in last and "error" not in last, last
    assert "ERROR " not in proc.stdout
    assert "pip install 'mcvd[sim]'" in proc.stdout
