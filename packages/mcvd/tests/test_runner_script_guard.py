"""A script that starts the spawn-based process pool without a __main__ guard gets one clear hint."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    from mcvd.sim import simulate
    sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 1},
          "receivers": [{"center": [10, 0, 0], "radius": 5}], "time": {"end": 0.01, "dt": 1e-3}}
    simulate(sc, n_molecules=4, chunk_size=2, seed=0, executor="process", workers=2)
    """
)


def test_unguarded_script_gets_the_main_guard_hint(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: executor: the local process pool broke")
    assert "if __name__ == '__main__':" in last


def test_guarded_script_runs(tmp_path):
    script = tmp_path / "guarded.py"
    body = textwrap.indent(SCRIPT.replace("simulate(sc", "r = simulate(sc"), "    ")
    script.write_text(f"if __name__ == '__main__':\n{body}\n    print(r.n_molecules)\n")
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "4"
