"""Gradient descent engine and escape experiments against independent references.

References: a plain GD loop over :func:`dmfsharp.gradient` (a different code path: per-layer
partial products of :class:`Factorization`), torch autograd GD (optional extra), the exact linear
recursion ``c_t = c_0 (1 - eta lambda)^t`` with ``lambda`` from a dense Hessian ``eigh`` (not from
K), and the scalar closed form written out in the test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dmfsharp import Factorization, dense_hessian, gaussian_minimizer, gradient, scalar_minimizer
from dmfsharp.escape import (
    ESCAPE_STEP_TOLERANCE,
    check_escape_claims,
    escape,
    escape_table,
    null_direction,
    predicted_escape_step,
)
from dmfsharp.gd import gd_batch
from dmfsharp.gd import gradient_descent as gd


def _first_step_after(step, predicted: float, slack: float) -> bool:
    """Whether ``step`` is the first integer step at or past ``predicted`` (``ceil``), allowing
    the prediction an uncertainty ``slack`` (a prediction within ``slack`` of an integer may
    round either way on another CPU's log/summation kernels)."""
    return math.ceil(predicted - slack) <= step <= math.ceil(predicted + slack)


def _reference_gd(fac: Factorization, eta: float, steps: int, scale: float = 0.5):
    for _ in range(steps):
        fac = fac.with_weights([w - eta * g for w, g in zip(fac.weights, gradient(fac, scale))])
    return fac


def _perturbed(fac: Factorization, size: float, seed: int) -> Factorization:
    g = np.random.default_rng(seed)
    return fac.with_vector(fac.to_vector() + size * g.standard_normal(fac.n_params))


@pytest.mark.parametrize(
    "fac",
    [
        gaussian_minimizer((3, 4, 5, 2), rng=1),
        gaussian_minimizer((2, 1, 3), rng=2),  # bottleneck
        gaussian_minimizer((4, 3), rng=3),  # depth 1
        scalar_minimizer(7, rng=4),  # scalar (vectorized cumprod path)
    ],
    ids=["depth3", "bottleneck", "depth1", "scalar7"],
)
@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_gd_matches_reference_loop(fac, scale):
    start = _perturbed(fac, 0.1, 0)
    res = gd(start, 0.03, 25, scale=scale, direction=np.ones(fac.n_params))
    ref = _reference_gd(start, 0.03, 25, scale)
    assert res.status == "completed" and res.n_steps == 25
    np.testing.assert_allclose(res.final.to_vector(), ref.to_vector(), rtol=0, atol=1e-13)
    # recorded loss at t = 25 is the loss of the reference's last iterate
    assert res.trace.steps[-1] == 25
    assert res.trace.loss[-1] == pytest.approx(scale * np.sum(ref.residual**2), rel=1e-10)
    d = start.to_vector() - start.to_vector()  # reference point defaults to the start
    assert res.trace.distance[0] == np.linalg.norm(d)


def test_gd_matches_torch_autograd():
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    fac = _perturbed(gaussian_minimizer((3, 5, 4, 2), rng=7), 0.05, 1)
    eta, steps = 0.05, 30
    ws = [torch.tensor(np.array(w), requires_grad=True) for w in fac.weights]
    M = torch.tensor(np.array(fac.target))
    opt = torch.optim.SGD(ws, lr=eta)  # plain GD: no momentum, no weight decay
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * torch.sum((torch.linalg.multi_dot(ws[::-1]) - M) ** 2)
        loss.backward()
        opt.step()
    ours = gd(fac, eta, steps, direction=np.ones(fac.n_params)).final
    for a, w in zip(ours.weights, ws):
        np.testing.assert_allclose(a, w.detach().numpy(), rtol=0, atol=1e-13)


def test_batch_equals_single_runs():
    facs = [_perturbed(gaussian_minimizer((2, 3, 3, 2), rng=s), 0.1, s) for s in range(3)]
    etas = [0.02, 0.05, 0.08]
    dirs = [np.ones(facs[0].n_params)] * 3
    batch = gd_batch(facs, etas, 40, directions=dirs, record_every=7)
    for f, e, r in zip(facs, etas, batch):
        single = gd(f, e, 40, direction=dirs[0], record_every=7)
        # batched (strided views, np.matmul over a stack) and single runs may sum in another
        # order: 40 steps of O(1) parameters agree to rounding, far below any GD effect
        np.testing.assert_allclose(
            r.final.to_vector(), single.final.to_vector(), rtol=0, atol=1e-13
        )
        np.testing.assert_array_equal(r.trace.steps, [0, 7, 14, 21, 28, 35, 40])
        np.testing.assert_allclose(r.trace.loss, single.trace.loss, rtol=1e-12)


@pytest.mark.parametrize("dims", [(3, 4, 4, 2), (1, 1, 1, 1, 1, 1)])
def test_component_follows_linear_theory(dims):
    """Along v1, c_t = rho (1 - eta lambda)^t with lambda from a dense Hessian eigh."""
    rng = np.random.default_rng(11)
    fac = scalar_minimizer(5, rng=rng) if max(dims) == 1 else gaussian_minimizer(dims, rng=rng)
    evals, evecs = np.linalg.eigh(dense_hessian(fac))
    lam, v1 = evals[-1], evecs[:, -1]
    rho = 1e-9
    start = fac.with_vector(fac.to_vector() + rho * v1)
    for factor in (0.8, 1.05):
        eta = 2.0 / lam * factor
        res = gd(start, eta, 120, reference=fac, direction=v1)
        t = res.trace.steps
        expected = rho * (1.0 - eta * lam) ** t
        ok = np.abs(expected) < 1e-6  # linear regime (relative non-linear error ~ |c_t|)
        # atol: float64 rounding of O(1) parameters and of the residual (~ L * 2.2e-16 per step)
        np.testing.assert_allclose(res.trace.component[ok], expected[ok], rtol=1e-5, atol=1e-14)
        assert ok.sum() > 20


def test_divergence_is_a_status_not_nan():
    fac = _perturbed(gaussian_minimizer((3, 4, 4, 3), rng=5), 0.3, 2)
    res = gd(fac, 50.0, 500, direction=np.ones(fac.n_params), sharpness_every=1)
    assert res.status == "diverged"
    assert res.n_steps < 500
    tr = res.trace
    for arr in (tr.loss, tr.distance, tr.component, tr.sharpness, tr.imbalance):
        assert np.all(np.isfinite(arr))
    assert np.all(np.isfinite(res.final.to_vector()))
    assert len(tr.steps) == len(tr.loss) >= 1


def test_stop_rule_and_sharpness_cadence():
    from dmfsharp import sharpness

    fac = _perturbed(gaussian_minimizer((2, 3, 2), rng=8), 0.05, 3)
    res = gd(fac, 0.1, 5000, stop_rtol=1e-10, sharpness_every=10, direction=np.ones(12))
    assert res.status == "converged"
    assert res.final.relative_residual() <= 1e-10
    assert res.trace.steps[-1] == res.n_steps
    tr = res.trace
    assert list(tr.sharpness_steps[:3]) == [0, 10, 20] and tr.sharpness_steps[-1] == res.n_steps
    assert tr.sharpness[0] == pytest.approx(sharpness(fac, rng=0).lambda_max, rel=1e-9)
    assert tr.sharpness[-1] == pytest.approx(sharpness(res.final).lambda_max, rel=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": 0.0}, "eta: must be finite and > 0"),
        ({"eta": -1.0}, "eta: must be finite and > 0"),
        ({"eta": float("nan")}, "eta: must be finite and > 0"),
        ({"eta": float("inf")}, "eta: must be finite and > 0"),
        ({"steps": 0}, "steps: must be >= 1"),
    ],
)
def test_gd_bad_input(kwargs, match):
    fac = gaussian_minimizer((2, 2, 2), rng=0)
    args = {"eta": 0.1, "steps": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        gd(fac, args["eta"], args["steps"], direction=np.ones(8))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius": 0.0}, "radius: must be finite and > 0"),
        ({"radius": -1e-9}, "radius: must be finite and > 0"),
        ({"steps": 0}, "steps: must be >= 1"),
        ({"eta_factors": (1.1, 0.0)}, "eta_factors: must be finite and > 0"),
        ({"eta_factors": (float("nan"),)}, "eta_factors: must be finite and > 0"),
        ({"radius": 1e-3, "escape_radius": 1e-4}, "escape_radius: must exceed radius"),
        ({"direction": "v2"}, "direction: must be one of"),
    ],
)
def test_escape_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        escape(gaussian_minimizer((2, 2, 2), rng=0), **kwargs)


def test_escape_requires_a_minimizer():
    fac = _perturbed(gaussian_minimizer((2, 3, 2), rng=0), 1e-3, 0)
    with pytest.raises(ValueError, match=r"fac \(escape start\): not a minimizer"):
        escape(fac)


def test_scalar_escape_against_closed_form():
    """15-layer scalar: lambda from the closed form written here; escape step = ceil(prediction)."""
    fac = scalar_minimizer(15, rng=3)
    w = np.array([x[0, 0] for x in fac.weights])
    g = np.array([np.prod(np.delete(w, i)) for i in range(15)])
    lam = float(g @ g)  # 2c * sum_i prod_{j != i} w_j^2 with c = 1/2
    res = escape(fac, (0.95, 1.02, 1.3), steps=3000)
    assert res.lambda_max == pytest.approx(lam, rel=1e-12)
    stayed, slow, fast = res.runs
    assert (stayed.escaped, stayed.outcome, stayed.predicted_escape_step) == (False, "stayed", None)
    for run in (slow, fast):
        q = abs(1 - run.eta * lam)
        predicted = math.log(1e3) / math.log(q)
        # c_0 is measured on the rounded start: relative error ~ 2.2e-16 / 1e-9 ~ 1e-7 in c_0
        assert run.predicted_escape_step == pytest.approx(predicted, abs=1e-6 / math.log(q))
        assert _first_step_after(run.escape_step, predicted, slack=1e-6 / math.log(q))
        assert run.outcome in ("converged", "oscillating")
    for run in res.runs:
        if run.outcome == "converged":
            assert run.final_sharpness <= 2.0 / run.eta
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["runs"][1]["escape_step"] == slow.escape_step
    flattest = 15 * abs(fac.target[0, 0]) ** (2 * 14 / 15)  # 2c L |m|^{2(L-1)/L}, c = 1/2
    assert doc["flattest"] == pytest.approx(flattest, rel=1e-12)
    for run, entry in zip(res.runs, doc["runs"]):
        assert entry["final_sharpness_over_flattest"] == pytest.approx(
            run.final_sharpness / flattest, rel=1e-12
        )
    table = escape_table(res)
    assert table.count("\n") == 4 and "| 1.02 |" in table


def test_random_and_null_directions():
    fac = gaussian_minimizer((2, 3, 3, 2), rng=4)
    H = dense_hessian(fac)
    u = fac.join(null_direction(fac))
    assert np.linalg.norm(u) == pytest.approx(1.0)
    assert np.linalg.norm(H @ u) <= 1e-12 * np.linalg.norm(H)
    res = escape(fac, (1.2,), steps=400, direction="random", rng=0)
    run = res.runs[0]
    assert run.escaped
    lo, hi = ESCAPE_STEP_TOLERANCE
    assert lo <= run.escape_step - run.predicted_escape_step <= hi


def test_predicted_escape_step_formula():
    assert predicted_escape_step(2.0, 1.5, 1e-9, 1e-3) == pytest.approx(math.log(1e6) / math.log(2))
    assert predicted_escape_step(2.0, 0.5, 1e-9, 1e-3) is None


def test_escape_claims_fast():
    """Fast tier: 100 random minimizers of depths 3-6, delta in {0.01, 0.1}."""
    rep = check_escape_claims(100, depths=(3, 4, 5, 6), deltas=(0.01, 0.1), steps=1500)
    assert rep.all_hold, rep.to_markdown()
    assert rep.counts["above"]["stayed"] == 0 and rep.counts["below"]["stayed"] == 200
    assert sum(rep.counts["above"].values()) == 200


@pytest.mark.slow
def test_escape_claims_random_starts_slow():
    """Generic (random-direction) starts: escape above, stay below, no convergence beyond."""
    rep = check_escape_claims(100, direction="random", steps=3000, seed=2)
    assert rep.all_hold, rep.to_markdown()
    assert rep.counts["above"]["stayed"] == 0


@pytest.mark.slow
def test_escape_claims_slow():
    """Heavier: 400 minimizers, widths up to 6, depths 2-8, three deltas, longer runs."""
    rep = check_escape_claims(
        400, depths=(2, 3, 4, 5, 6, 8), deltas=(0.01, 0.05, 0.1), steps=6000, max_width=6, seed=1
    )
    assert rep.all_hold, rep.to_markdown()


@pytest.mark.parametrize("record_every", [1, 7])
def test_scalar_numba_loop_equals_numpy_loop(record_every):
    """The compiled scalar loop reproduces the numpy loop: records, statuses, stop, divergence."""
    from dmfsharp import _scalar_kernel

    if not _scalar_kernel.AVAILABLE:
        pytest.skip("numba not installed")
    from dmfsharp import sharpness

    fac = scalar_minimizer(9, rng=5)
    lam = sharpness(fac).lambda_max
    start = fac.with_vector(fac.to_vector() + 1e-9 * fac.join(sharpness(fac).eigenvector))
    etas = [2 / lam * f for f in (0.9, 1.02, 1.3, 3.0, 30.0)]  # stay/converge/.../diverge
    kw = dict(
        references=[fac] * 5,
        directions=[np.ones(9)] * 5,
        stop_rtol=1e-9,
        stop_after_distance=1e-6,
        record_every=record_every,
        keep_iterates=True,
    )
    fast = gd_batch([start] * 5, etas, 3000, engine="numba", **kw)
    slow = gd_batch([start] * 5, etas, 3000, engine="numpy", **kw)
    assert {r.status for r in fast} >= {"completed", "converged", "diverged"}
    for a, b in zip(fast, slow):
        assert (a.status, a.n_steps) == (b.status, b.n_steps)
        np.testing.assert_array_equal(a.trace.steps, b.trace.steps)
        np.testing.assert_allclose(a.final.to_vector(), b.final.to_vector(), rtol=1e-13)
        for name in ("loss", "distance", "component", "iterates"):
            np.testing.assert_allclose(
                getattr(a.trace, name), getattr(b.trace, name), rtol=1e-9, atol=1e-22
            )


def test_record_cadence_kept_under_stop_rule():
    fac = gaussian_minimizer((2, 3, 2), rng=3)
    res = escape(fac, (0.9, 1.3), steps=600, record_every=5)
    for run in res.runs:
        steps = run.gd.trace.steps
        assert np.all(steps[:-1] % 5 == 0)
        assert steps[-1] == run.gd.n_steps
