"""The exact solution against the event-driven simulator in the geometries beyond one receiver and
one plane (a corner, an octant, two receivers next to a wall, a reactive receiver next to a wall,
degrading molecules), within 4 standard errors; and `mcvd response --model exact` on the example
scenarios of these geometries.

Fast tier: 4e4 molecules (SE <= 2.5e-3, still far below the errors of a wrong image system, a
missing reaction or degradation: 1e-2 to 1e-1). Slow tier: 1e6 molecules (SE <= 5e-4).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from mcvd import response
from mcvd.examples import load, path

CASES = [
    "corner_two_walls",
    "octant_three_walls",
    "two_receivers_wall",
    "reactive_receiver_wall",
    "wall_degrading_molecules",
]
TIMES = np.array([0.05, 0.2, 0.5, 1.0, 2.0])


def _agree(name, molecules, seed):
    pytest.importorskip("numba", reason="the simulators need numba")
    from mcvd.sim import simulate  # a plain import: an error in the module must fail

    sc = load(name)
    sim = simulate(sc, "event", n_molecules=molecules, seed=seed, executor="inline")
    got = sim.response(TIMES)
    ref = response(sc, TIMES, model="exact")
    assert ref.info["error_estimate"] <= 1e-9
    z = (got.F_per_receiver - ref.F_per_receiver) / got.F_se_per_receiver
    assert np.all(np.abs(z) < 4), (name, z)
    # the simulated result also agrees in total, and its SE is what the tier promises
    assert np.all(np.abs(got.F - ref.F) < 4 * got.F_se)
    return got.F_se.max()


@pytest.mark.parametrize("name", CASES)
def test_exact_agrees_with_event_simulation(name):
    assert _agree(name, 40_000, seed=20261201) <= 2.6e-3


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_exact_agrees_with_event_simulation_tight(name):
    assert _agree(name, 1_000_000, seed=20261202) <= 5e-4


@pytest.mark.parametrize("name", CASES)
def test_cli_response_exact_on_the_examples(name, capsys):
    from mcvd.cli import main

    assert main(["response", str(path(name)), "--model", "exact", "--times", "0.5,2,inf",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    direct = response(load(name), [0.5, 2.0, np.inf], model="exact")
    assert out["times"][:2] == [0.5, 2.0]
    np.testing.assert_allclose(out["F"], direct.F, rtol=0, atol=1e-15)
    np.testing.assert_allclose(out["F_per_receiver"], direct.F_per_receiver, rtol=0, atol=1e-15)
    assert out["info"]["error_estimate"] <= 1e-9
