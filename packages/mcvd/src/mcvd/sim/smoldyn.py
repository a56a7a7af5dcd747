"""Export a scenario as an equivalent Smoldyn configuration file (for cross-checks).

Units: µm, s, µm²/s in both programs. The file releases the scenario's molecules at the
transmitters (``mol`` at t = 0, ``cmd @ t pointsource`` for later releases), makes every receiver
an absorbing sphere, every plane and box reflecting, and writes the number of molecules left
(``molcount``) every ``count_every`` steps; ``F(t) = 1 - count(t) / N``
(:func:`read_smoldyn_counts`).

Differences from :mod:`mcvd.sim.fixedstep` (document them when comparing)
--------------------------------------------------------------------------
* **Absorption.** Smoldyn absorbs a molecule when the straight segment of a step crosses the
  sphere; it ignores *indirect* crossings (the Brownian path touching the sphere within a step
  while both end points and the segment stay outside). It therefore under-counts like our
  ``end-of-step`` mode (slightly less); our ``bridge`` mode corrects this. Measured here at
  ``dt = 1e-4 s``, r0 = 10 µm, r = 5 µm: Smoldyn F(0.5 s) is about 2.4 % low.
* **Per-receiver counts.** Absorbed molecules are simply removed, so the output gives the total
  over receivers only (one run per receiver is needed for per-receiver curves).
* **Infinite space.** Smoldyn needs a finite system. The exported system box reaches
  ``margin`` (default ``max(50, 8 sqrt(2 D T))`` µm, at least 8 standard deviations of the
  per-axis spread over the horizon) beyond every transmitter, receiver and box; its walls are a
  reflecting surface of their own, so no molecule is lost, and their influence on F is of the
  order of the free-space capture from ``2 * margin`` away.
* **Planes are reflecting panels.** Smoldyn ignores the boundary type of the system box once a
  surface exists (a half-space modelled by a reflecting system boundary alone let 940 of 2000
  molecules end up behind it), so every plane is a reflecting surface: an axis-aligned plane
  is one rectangle spanning the system box (it replaces that wall), an oblique plane two large
  triangles.
* **Physics.** Reactive receivers and degrading molecules are not exported (refused with one
  line): the file would describe another channel.
* **Transmitter on a plane.** Smoldyn places a molecule released exactly on a reflecting panel
  behind it; such transmitters are moved :data:`TX_NUDGE` = 1e-6 µm into the fluid.
* **Random numbers and time stepping** differ (Smoldyn's own generator, its own order of
  diffusion/surface steps), so results agree only statistically.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..core.io import atomic_write
from ..core.scenario import as_scenario
from .params import params_from_scenario

__all__ = [
    "TX_NUDGE",
    "read_smoldyn_counts",
    "run_smoldyn",
    "smoldyn_config",
    "time_smoldyn",
    "write_smoldyn",
]

#: transmitters closer than this (µm) to a plane are moved this far into the fluid in the export
TX_NUDGE = 1e-6


def _fmt(*values) -> str:
    return " ".join(f"{float(v):.12g}" for v in values)


def _box_faces(lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int, str]]:
    """The six faces of the box ``[lo, hi]`` as Smoldyn ``panel rect`` lines, with their axis
    and side (0: the face at ``lo``, facing +axis; 1: the face at ``hi``, facing -axis)."""
    w = hi - lo
    faces = []
    for k in range(3):
        o1, o2 = [a for a in range(3) if a != k]
        for side in (0, 1):
            corner = lo.copy()
            if side == 1:
                corner[k] = hi[k]
            faces.append((k, side, f"panel rect {'+-'[side]}{k} {_fmt(*corner, w[o1], w[o2])}"))
    return faces


def smoldyn_config(
    scenario,
    *,
    dt: float | None = None,
    t_end: float | None = None,
    n_molecules: int | None = None,
    seed: int = 0,
    output: str = "mcvd_counts.txt",
    count_every: int | None = None,
    margin: float | None = None,
) -> str:
    """Smoldyn configuration text equivalent to a scenario.

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel.
    dt, t_end : float, optional
        Time step and horizon (s); default the scenario's.
    n_molecules : int, optional
        Molecules (default the scenario's, split over transmitters as in the simulator).
    seed : int
        Smoldyn ``random_seed``.
    output : str
        Name of the molecule-count file Smoldyn writes (in its working directory).
    count_every : int, optional
        Write the count every this many steps (default: about 100 lines).
    margin : float, optional
        Distance (µm) from the objects to the reflecting system walls.

    Returns
    -------
    str

    Examples
    --------
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 100},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}]}
    >>> text = smoldyn_config(sc)
    >>> "panel sphere 10 0 0 5" in text and "boundaries 0 " in text
    True
    """
    scenario = as_scenario(scenario)
    scenario.geometry().require_physics("the Smoldyn export", alternative="mcvd simulate")
    p, _ = params_from_scenario(scenario, dt=dt, t_end=t_end, n_molecules=n_molecules)
    n_steps = max(1, round(p.t_end / p.dt))
    every = count_every or max(1, n_steps // 100)
    if margin is None:
        margin = max(50.0, 8.0 * math.sqrt(2.0 * p.D * p.t_end))
    pts = [np.asarray(p.tx_pos, float)]
    rc, rr = np.asarray(p.rx_center, float), np.asarray(p.rx_radius, float)
    pts += [rc - rr[:, None], rc + rr[:, None]]
    if p.box_min:
        pts += [np.asarray(p.box_min, float), np.asarray(p.box_max, float)]
    allp = np.vstack(pts)
    lo, hi = allp.min(axis=0) - margin, allp.max(axis=0) + margin
    oblique = []
    aligned = {}  # (axis, side 0 = low / 1 = high) -> plane index
    for j, (point, normal) in enumerate(zip(p.plane_point, p.plane_normal)):
        nrm = np.asarray(normal, float)
        axis = int(np.argmax(np.abs(nrm)))
        if abs(abs(nrm[axis]) - 1.0) < 1e-12:  # axis-aligned plane: a face of the system box
            side = 0 if nrm[axis] > 0 else 1
            (lo if side == 0 else hi)[axis] = point[axis]
            aligned[(axis, side)] = j
        else:
            oblique.append((j, np.asarray(point, float), nrm))
    lines = [
        "# Smoldyn configuration exported by mcvd (units: um, s, um^2/s).",
        "# Differences from mcvd's simulator: see mcvd.sim.smoldyn (straight-segment absorption,",
        "# total counts only, finite reflecting system box).",
        "dim 3",
        *(f"boundaries {k} {_fmt(lo[k] - 1.0, hi[k] + 1.0)} r" for k in range(3)),
        "species A",
        f"difc A {_fmt(p.D)}",
        "time_start 0",
        f"time_stop {_fmt(n_steps * p.dt)}",
        f"time_step {_fmt(p.dt)}",
        f"random_seed {int(seed)}",
        "graphics none",
    ]
    for q, (c, r) in enumerate(zip(p.rx_center, p.rx_radius)):
        lines += [
            f"start_surface rx{q}",
            "action both all absorb",
            f"panel sphere {_fmt(*c, r)} 30 30",
            "end_surface",
        ]
    size = float(np.max(hi - lo)) * 4.0
    for j, point, nrm in oblique:
        u = np.cross(nrm, [1.0, 0, 0] if abs(nrm[0]) < 0.9 else [0, 1.0, 0])
        u /= np.linalg.norm(u)
        v = np.cross(nrm, u)
        c = [point + size * (su * u + sv * v) for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        lines += [
            f"# planes[{j}] (oblique): reflecting, two triangles beyond the system box",
            f"start_surface plane{j}",
            "action both all reflect",
            f"panel tri {_fmt(*c[0], *c[1], *c[2])}",
            f"panel tri {_fmt(*c[0], *c[2], *c[3])}",
            "end_surface",
        ]
    # the faces of the system box: reflecting planes where the scenario has axis-aligned planes,
    # reflecting walls elsewhere (Smoldyn ignores the boundary type of the system box)
    walls = []
    for k, side, panel in _box_faces(lo, hi):
        j = aligned.get((k, side))
        if j is None:
            walls.append(panel)
            continue
        face = lo[k] if side == 0 else hi[k]
        lines += [
            f"# planes[{j}]: reflecting panel {'xyz'[k]} = {_fmt(face)} spanning the box",
            f"start_surface plane{j}",
            "action both all reflect",
            panel,
            "end_surface",
        ]
    if walls:
        lines += [
            f"# system walls: reflecting, {_fmt(margin)} um beyond every object",
            "start_surface walls",
            "action both all reflect",
            *walls,
            "end_surface",
        ]
    for j, (b0, b1) in enumerate(zip(p.box_min, p.box_max)):
        faces = _box_faces(np.asarray(b0, float), np.asarray(b1, float))
        lines += [f"# obstacles[{j}]: reflecting box", f"start_surface box{j}"]
        lines += ["action both all reflect", *(panel for _, _, panel in faces), "end_surface"]
    counts = np.asarray(p.tx_weight, dtype=np.int64)
    for pos, rel, m in zip(p.tx_pos, p.tx_release, counts):
        if m == 0:
            continue
        pos = np.asarray(pos, float)
        for point, normal in zip(p.plane_point, p.plane_normal):
            gap = float(np.dot(pos - np.asarray(point), normal))
            if gap < TX_NUDGE:  # Smoldyn puts molecules released on a panel behind it
                pos = pos + (TX_NUDGE - gap) * np.asarray(normal)
        if rel == 0:
            lines.append(f"mol {int(m)} A {_fmt(*pos)}")
        else:
            lines.append(f"cmd @ {_fmt(rel)} pointsource A {int(m)} {_fmt(*pos)}")
    lines += [
        f"output_files {output}",
        f"cmd B molcount {output}",
        f"cmd N {every} molcount {output}",
        "end_file",
        "",
    ]
    return "\n".join(lines)


def write_smoldyn(scenario, path: str | Path, **kwargs) -> Path:
    """Write :func:`smoldyn_config` to ``path`` atomically.

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel.
    path : str or Path
        Destination file.
    **kwargs
        Passed to :func:`smoldyn_config`.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, os
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10]},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}]}
    >>> p = write_smoldyn(sc, os.path.join(tempfile.mkdtemp(), "s.txt"))
    >>> p.read_text().startswith("# Smoldyn")
    True
    """
    text = smoldyn_config(scenario, **kwargs)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_smoldyn_counts(path: str | Path, n_molecules: int) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``molcount`` file and return ``(times, F)`` with ``F = 1 - count / N``.

    Parameters
    ----------
    path : str or Path
        The count file written by the exported configuration.
    n_molecules : int
        Molecules released.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Unique times (s) and F at them.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "c.txt")
    >>> _ = open(f, "w").write("0 100\\n0.5 70\\n")
    >>> read_smoldyn_counts(f, 100)[1].round(12).tolist()
    [0.0, 0.3]
    """
    data = np.loadtxt(path, ndmin=2)
    t, idx = np.unique(data[:, 0], return_index=True)
    return t, 1.0 - data[idx, 1] / n_molecules


def time_smoldyn(config: str | Path, python: str | Path | None = None) -> tuple[float, float]:
    """Run a Smoldyn configuration with the ``smoldyn`` Python module; return its timings.

    Parameters
    ----------
    config : str or Path
        Configuration file (its directory is the working directory, where outputs go).
    python : str or Path, optional
        Interpreter that has ``smoldyn`` installed (Smoldyn 2.76 wheels exist for CPython 3.10
        only); default the current one.

    Returns
    -------
    (float, float)
        Wall and CPU seconds of ``runSim`` (excluding interpreter start-up and file parsing).

    Raises
    ------
    RuntimeError
        Smoldyn is missing or failed (its last output line is included).

    Examples
    --------
    >>> wall, cpu = time_smoldyn("bench.txt", python="smoldyn-venv/bin/python")  # doctest: +SKIP
    """
    config = Path(config).resolve()
    code = (
        "import sys, time, smoldyn\n"
        "s = smoldyn.Simulation.fromFile(sys.argv[1])\n"
        "t, c = time.perf_counter(), time.process_time(); s.runSim()\n"
        "print('MCVD_RUN_SECONDS', time.perf_counter() - t, time.process_time() - c)\n"
    )
    proc = subprocess.run(
        [os.path.abspath(python or sys.executable), "-c", code, str(config)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("MCVD_RUN_SECONDS"):
            wall, cpu = (float(v) for v in line.split()[1:3])
            return wall, cpu
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"smoldyn run failed (exit {proc.returncode}): {tail[0]}")


def run_smoldyn(config: str | Path, python: str | Path | None = None) -> float:
    """Run a Smoldyn configuration with the ``smoldyn`` Python module; return the run seconds.

    Parameters
    ----------
    config : str or Path
        Configuration file (its directory is the working directory, where outputs go).
    python : str or Path, optional
        Interpreter that has ``smoldyn`` installed; default the current one.

    Returns
    -------
    float
        Wall seconds of ``runSim`` (see :func:`time_smoldyn` for the CPU seconds too).

    Raises
    ------
    RuntimeError
        Smoldyn is missing or failed (its last output line is included).

    Examples
    --------
    >>> run_smoldyn("missing.txt", python=sys.executable)  # doctest: +SKIP
    """
    return time_smoldyn(config, python)[0]
