"""Figure experiments: the numbers behind Figure 1 and the matrix-case plots, and the plot API."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
import matplotlib

matplotlib.use("Agg")

from dmfsharp import hvp, loss
from dmfsharp.figures import (
    figure1,
    figure1_experiment,
    loss_on_plane,
    matrix_escape_experiments,
    matrix_figure,
    plot_growth,
)


@pytest.fixture(scope="module")
def fig1():
    return figure1_experiment()  # the documented defaults: depth 15, seed 0


def test_figure1_numbers(fig1):
    res = fig1.result
    fac = res.start
    assert fac.depth == 15 and fac.dims == (1,) * 16
    w = np.array([x[0, 0] for x in fac.weights])
    lam = sum(np.prod(np.delete(w, i)) ** 2 for i in range(15))  # 2c sum prod_{j!=i} w_j^2
    assert res.lambda_max == pytest.approx(lam, rel=1e-12)
    # v_N spans the plane with v1: unit, orthogonal to v1, in the Hessian's null space
    vN = fac.join(fig1.vN)
    assert np.linalg.norm(vN) == pytest.approx(1.0)
    assert abs(vN @ fac.join(res.v1)) < 1e-12
    assert np.linalg.norm(fac.join(hvp(fac, fig1.vN))) < 1e-12 * lam
    stable, *unstable = res.runs
    assert stable.eta_factor < 1 and not stable.escaped
    assert unstable[-1].eta > 2.0 / res.flattest  # one step size with no stable minimizer
    for run in unstable:
        # first integer step past the prediction, allowing the prediction rounding slack
        slack = 1e-6
        p = run.predicted_escape_step
        assert math.ceil(p - slack) <= run.escape_step <= math.ceil(p + slack)
        assert run.outcome != "diverged"
    assert unstable[-1].outcome != "converged"
    for run in res.runs:
        assert run.gd.trace.iterates.shape == (len(run.gd.trace.steps), 15)


def test_loss_on_plane_matches_loss(fig1):
    res = fig1.result
    fac, v1, vN = res.start, res.v1, fig1.vN
    a, b = np.array([-0.1, 0.0, 0.2]), np.array([0.05, -0.3])
    Z = loss_on_plane(fac, v1, vN, a, b)
    for j, bj in enumerate(b):
        for i, ai in enumerate(a):
            pt = fac.with_vector(fac.to_vector() + ai * fac.join(v1) + bj * fac.join(vN))
            assert Z[j, i] == pytest.approx(loss(pt), rel=1e-12, abs=1e-300)


def test_figure1_plot(fig1):
    fig = figure1(fig1)
    axes = fig.axes
    assert len(axes) == 4  # three panels + colorbar
    labels = [t.get_text() for t in fig.legends[0].get_texts()]  # one legend below the panels
    assert any("2/η" in t for t in labels) and len(labels) == 5
    matplotlib.pyplot.close(fig)


def test_matrix_experiments_and_figure():
    res = matrix_escape_experiments(
        (3, 4), width=2, eta_factors=(0.9, 1.2), steps=150, sharpness_every=50
    )
    for r in res:
        stay, go = r.runs
        assert not stay.escaped and go.escaped
        tr = go.gd.trace
        assert tr.sharpness_steps[0] == 0 and tr.sharpness[0] == pytest.approx(r.lambda_max)
    fig = matrix_figure(res)
    assert len(fig.axes) == 6
    matplotlib.pyplot.close(fig)
    fig, ax = matplotlib.pyplot.subplots()
    assert plot_growth(res[0], ax=ax) is fig
    matplotlib.pyplot.close(fig)
