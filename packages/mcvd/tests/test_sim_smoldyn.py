"""The Smoldyn export (a half-space is a reflecting panel, walls far away) and the command line
without numba (export works; simulating names the extra to install)."""

import math
import subprocess
import sys

import pytest
from mcvd.sim.smoldyn import TX_NUDGE, smoldyn_config

D, T = 79.4, 2.0
PAPER = {
    "D": D,
    "transmitter": {"position": [0, 0, 10], "molecules": 2000},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": T, "dt": 1e-4},
}


def surfaces(text):
    """name -> (action lines, panel lines) of a Smoldyn configuration."""
    out, name = {}, None
    for ln in text.splitlines():
        if ln.startswith("start_surface"):
            name = ln.split()[1]
            out[name] = ([], [])
        elif ln == "end_surface":
            name = None
        elif name is not None:
            out[name][0 if ln.startswith("action") else 1].append(ln.split())
    return out


def test_half_space_is_a_reflecting_panel_and_the_walls_are_far():
    text = smoldyn_config(PAPER)
    s = surfaces(text)
    assert set(s) == {"rx0", "plane0", "walls"}
    assert s["rx0"][0] == [["action", "both", "all", "absorb"]]
    assert s["plane0"][0] == [["action", "both", "all", "reflect"]]
    # the plane x = 0: one rectangle facing +x at x = 0 spanning the whole box cross-section
    ((_, _, axis, x0, y0, z0, wy, wz),) = s["plane0"][1]
    bounds = [ln.split()[2:4] for ln in text.splitlines() if ln.startswith("boundaries")]
    blo, bhi = ([float(b[i]) for b in bounds] for i in (0, 1))
    # (the system walls lie 1 µm inside the Smoldyn boundaries; 1e-6: 12 printed digits)
    assert axis == "+0" and float(x0) == 0.0
    assert float(y0) <= blo[1] + 1 + 1e-6 and float(y0) + float(wy) >= bhi[1] - 1 - 1e-6
    assert float(z0) <= blo[2] + 1 + 1e-6 and float(z0) + float(wz) >= bhi[2] - 1 - 1e-6
    # the other five faces are reflecting walls >= 8 sqrt(2 D T) from TX and receiver
    assert s["walls"][0] == [["action", "both", "all", "reflect"]]
    assert len(s["walls"][1]) == 5
    reach = 8 * math.sqrt(2 * D * T)
    objects_lo, objects_hi = (0, -5, -5), (15, 5, 10)  # TX (0,0,10), RX box [5,15]x[-5,5]^2
    for panel in s["walls"][1]:
        sign, k = panel[2][0], int(panel[2][1])
        face = float(panel[3 + k])
        gap = objects_lo[k] - face if sign == "+" else face - objects_hi[k]
        assert gap >= reach
    # the transmitter on the plane starts in front of it
    assert f"mol 2000 A {TX_NUDGE:.12g} 0 10" in text.splitlines()


def test_export_refuses_reactive_receivers_and_degradation():
    reactive = {**PAPER, "receivers": [{"center": [10, 0, 0], "radius": 5, "reaction_rate": 5.0}]}
    with pytest.raises(ValueError, match=r"^reaction_rate: the Smoldyn export supports only"):
        smoldyn_config(reactive)
    with pytest.raises(ValueError, match=r"^degradation_rate: the Smoldyn export supports only"):
        smoldyn_config({**PAPER, "degradation_rate": 1.0})


def _cli_without_numba(tmp_path, *argv):
    """Run the mcvd command line in a fresh interpreter where ``import numba`` fails."""
    code = (
        "import sys\n"
        "sys.modules['numba'] = None  # import numba now raises ImportError\n"
        "from mcvd.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print('numba' in sys.modules and sys.modules['numba'] is None)\n"
        "sys.exit(rc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path
    )


def test_cli_export_works_and_simulate_names_the_extra_without_numba(tmp_path):
    import json

    path = tmp_path / "paper.json"
    path.write_text(json.dumps(PAPER))
    out = _cli_without_numba(tmp_path, "export-smoldyn", str(path), "-o", "paper.txt")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "paper.txt").read_text() == smoldyn_config(PAPER)
    for method in ("fixed-step", "event"):
        out = _cli_without_numba(tmp_path, "simulate", str(path), "--method", method)
        assert out.returncode == 2
        assert out.stderr.splitlines() == [
            "mcvd: error: the particle simulators need numba: pip install 'mcvd[sim]'"
        ]
