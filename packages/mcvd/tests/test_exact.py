"""Tests of mcvd.core.exact against independent references.

References: the one-sphere closed forms (Yilmaz et al. 2014 free-space F and f, and the Laplace
transform (a/r) exp(-(r-a) sqrt(s/D))), the bispherical-coordinate capacitance of two equal
spheres (C = 2a sinh b Σ_n (-1)^{n+1}/sinh(n b), cosh b = d/(2a); -> 2a ln 2 at contact), elementary
transforms for the contour, numerical differentiation of F for f, and a Brownian simulation of
the two-sphere (receiver + image) problem with a Brownian-bridge crossing correction.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mcvd.core.exact import (
    ExactConvergenceError,
    exact_capacitance,
    exact_capture,
    exact_response,
    hyperbolic_contour,
    invert_on_contour,
    laplace_hitting,
    two_sphere_frame,
)
from mcvd.core.nsphere import exact_channel
from scipy.special import erfc

D = 79.4
A = 5.0
PAPER = dict(tx=[0.0, 0.0, 10.0], centres=[[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0]], radii=[A, A])


def yilmaz_F(t, r0, a=A):
    return a / r0 * erfc((r0 - a) / np.sqrt(4 * D * t))


def yilmaz_f(t, r0, a=A):
    d = r0 - a
    return a / r0 * d / np.sqrt(4 * np.pi * D * t**3) * np.exp(-(d**2) / (4 * D * t))


def bispherical_capacitance(a, d):
    b = math.acosh(d / (2 * a))
    n = np.arange(1, 200001, dtype=float)
    terms = (-1.0) ** (n + 1) / np.sinh(np.minimum(n * b, 700.0))
    return 2 * a * math.sinh(b) * float(np.sum(terms[n * b < 700]))


def halfspace(rx, tx, radius=A):
    """Receiver at rx next to the plane x = 0: centres of the receiver and its mirror image."""
    rx = np.asarray(rx, float)
    return dict(tx=tx, centres=[rx, rx * [-1, 1, 1]], radii=[radius, radius])


# ---------------------------------------------------------------------------- one sphere


def test_laplace_one_sphere_closed_form():
    s = np.array([0.0, 1.0, 10.0 + 30j, -50.0 + 1j, 1e4j])
    w = laplace_hitting([0, 0, 12.0], [[0, 0, 0]], [A], D, s)[:, 0]
    expected = A / 12.0 * np.exp(-(12.0 - A) * np.sqrt(s / D))
    np.testing.assert_allclose(w, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("r0", [7.0, 10.0, 20.0])
def test_one_sphere_equals_yilmaz(r0):
    t = np.array([0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 10.0])
    res = exact_response([r0, 0, 0], [[0, 0, 0]], [A], D, t)
    np.testing.assert_allclose(res.F, yilmaz_F(t, r0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.f, yilmaz_f(t, r0), rtol=1e-8, atol=1e-9)
    assert res.error_estimate <= 1e-9


def test_far_plane_limit_equals_yilmaz():
    """The receiver 5 mm from the plane: the image never matters before t = 2 s."""
    t = np.array([0.02, 0.1, 0.3, 1.0, 2.0])
    geo = halfspace([5000.0, 0, 0], [5010.0, 0, 0])
    res = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t)
    np.testing.assert_allclose(res.F, yilmaz_F(t, 10.0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.F_per_sphere[1], 0.0, atol=1e-12)


# ---------------------------------------------------------------------------- contour


def test_contour_elementary_transforms():
    c = hyperbolic_contour(0.1, 10.0, 40)
    t = np.geomspace(0.1, 10.0, 9)
    np.testing.assert_allclose(
        invert_on_contour(c, 1 / (c.nodes + 2.0), t), np.exp(-2 * t), atol=1e-11
    )
    # L^-1[exp(-x sqrt(s))/s] = erfc(x / (2 sqrt t)): the branch cut of the diffusion problems.
    np.testing.assert_allclose(
        invert_on_contour(c, np.exp(-np.sqrt(c.nodes)) / c.nodes, t),
        erfc(1 / (2 * np.sqrt(t))),
        atol=1e-11,
    )


def test_contour_converges_with_nodes():
    t = np.linspace(0.05, 2.0, 30)
    geo = PAPER
    out = []
    for n in (30, 40, 60):
        c = hyperbolic_contour(t[0], t[-1], n)
        w = laplace_hitting(geo["tx"], geo["centres"], geo["radii"], D, c.nodes).sum(-1)
        out.append(invert_on_contour(c, w / c.nodes, t))
    assert np.max(np.abs(out[1] - out[2])) < 1e-9
    assert np.max(np.abs(out[0] - out[2])) < 1e-6


# ---------------------------------------------------------------------------- static limit


def bispherical_matrix(a, d):
    """Capacitance coefficients of two equal spheres (Smythe): c11 and c12."""
    b = math.acosh(d / (2 * a))
    m = np.arange(1, int(80 / b) + 10, dtype=float)
    t = 1 / np.sinh(m * b)
    return a * math.sinh(b) * t[0::2].sum(), -a * math.sinh(b) * t[1::2].sum()


@pytest.mark.parametrize("gap", [10.0, 1.0, 0.1])
def test_capacitance_matrix_equals_bispherical_series(gap):
    d = 2 * A + gap
    c = exact_capacitance([[0, 0, 0], [d, 0, 0]], [A, A], tol=1e-10)
    c11, c12 = bispherical_matrix(A, d)
    np.testing.assert_allclose(c, [[c11, c12], [c12, c11]], rtol=0, atol=1e-9)
    assert c.sum() == pytest.approx(bispherical_capacitance(A, d), abs=1e-9)


def test_total_capacitance_near_contact_tends_to_2a_ln2():
    assert bispherical_capacitance(A, 2 * A * (1 + 1e-8)) == pytest.approx(
        2 * A * math.log(2), rel=1e-3
    )
    # the total converges fast even where the split does not: read it off the far field
    big = 1e5
    for gap in (0.01, 0.002):
        d = 2 * A + gap
        cap = exact_capture([d / 2, big, 0.0], [[0, 0, 0], [d, 0, 0]], [A, A]).sum()
        total = cap * math.hypot(big, d / 2)
        assert total == pytest.approx(bispherical_capacitance(A, d), abs=1e-6)
        assert total > 2 * A * math.log(2)


def test_capture_symmetry_and_split():
    cap = exact_capture(**PAPER)
    assert cap[0] == pytest.approx(cap[1], abs=1e-14)  # TX on the plane: real = image
    res = exact_response(**PAPER, D=D, times=[np.inf])
    assert res.F[0] == pytest.approx(cap.sum(), abs=1e-12)
    # far-away TX: capture -> C / r
    big = 1e5
    far = exact_capture([0, big, 0], PAPER["centres"], PAPER["radii"]).sum()
    assert far * math.hypot(big, 10.0) == pytest.approx(
        exact_capacitance(PAPER["centres"], PAPER["radii"]).sum(), rel=1e-8
    )


def test_unequal_radii_single_sphere_limits():
    """A tiny second sphere barely changes the capture; the split adds up."""
    cap = exact_capture([0, 0, 20.0], [[0, 0, 0], [0, 0, 40.0]], [A, 1e-6])
    assert cap[0] == pytest.approx(A / 20.0, abs=1e-7)
    # first order in the small radius: eps * Dirichlet Green's function of the big sphere
    green = 1 / 20.0 - (A / 40.0) / (20.0 - A**2 / 40.0)
    assert cap[1] == pytest.approx(1e-6 * green, rel=1e-4)


# ---------------------------------------------------------------------------- time domain


def test_paper_topology_properties():
    t = np.concatenate([[0.0], np.linspace(0.002, 2.0, 200), [np.inf]])
    res = exact_response(**PAPER, D=D, times=t)
    assert res.F[0] == 0.0 and res.f[0] == 0.0
    assert np.all(np.diff(res.F) >= -1e-12)  # monotone, including F(2) <= F(inf)
    assert np.all(res.f >= -1e-9)
    assert res.error_estimate <= 1e-9
    np.testing.assert_allclose(res.F_per_sphere[0], res.F_per_sphere[1], atol=1e-12)
    np.testing.assert_allclose(res.F, res.F_per_sphere.sum(0), atol=1e-15)
    # bounds by one-sphere problems: real receiver alone <= total <= real + image alone
    r0 = math.hypot(10.0, 10.0)
    fin = np.isfinite(t) & (t > 0)
    assert np.all(res.F[fin] >= yilmaz_F(t[fin], r0) - 1e-12)
    assert np.all(res.F[fin] <= 2 * yilmaz_F(t[fin], r0) + 1e-12)


def test_hitting_rate_is_derivative_of_F():
    t = np.linspace(0.05, 1.5, 15)
    h = 1e-4
    geo = halfspace([7.0, 0, 0], [3.0, 0, 8.0])
    res = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t)
    tt = np.concatenate([t - 2 * h, t - h, t + h, t + 2 * h])
    Fs = exact_response(geo["tx"], geo["centres"], geo["radii"], D, tt, tol=1e-11).F.reshape(4, -1)
    deriv = (Fs[0] - 8 * Fs[1] + 8 * Fs[2] - Fs[3]) / (12 * h)
    np.testing.assert_allclose(res.f, deriv, rtol=1e-5, atol=1e-6)


def test_converges_under_tighter_tolerance_and_order():
    t = np.array([0.05, 0.2, 1.0, 2.0])
    geo = halfspace([5.5, 0, 0], [0.0, 0, 10.0])
    loose = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t, tol=1e-9)
    tight = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t, tol=1e-11)
    assert np.max(np.abs(loose.F - tight.F)) <= 1e-9
    assert tight.error_estimate <= 1e-11
    # below the roundoff level the inversion refuses instead of looping
    with pytest.raises(ExactConvergenceError, match="attainable"):
        exact_response(geo["tx"], geo["centres"], geo["radii"], D, t, tol=1e-14)
    s = hyperbolic_contour(0.05, 2.0, 20).nodes
    w_lo = laplace_hitting(geo["tx"], geo["centres"], geo["radii"], D, s, tol=1e-6)
    w_hi = laplace_hitting(geo["tx"], geo["centres"], geo["radii"], D, s, tol=1e-13)
    assert np.max(np.abs(w_lo - w_hi)) <= 1e-6
    # fixed orders (white box): the error against the adaptive answer falls geometrically
    from mcvd.core.exact import _frame, _solve_order

    kappa = np.sqrt(s / D)[:, None]
    fr = _frame(geo["tx"], geo["centres"], geo["radii"])
    errs = [np.max(np.abs(_solve_order(kappa, fr, L) - w_hi)) for L in (4, 8, 16, 32)]
    assert errs[0] > errs[1] > errs[2] > errs[3] and errs[2] < 1e-6 and errs[3] < 1e-12


def test_unequal_radii_free_space_two_receivers():
    t = np.array([0.1, 0.5, 2.0, np.inf])
    res = exact_response([0, 0, 0], [[0, 0, 10.0], [0, 0, -20.0]], [5.0, 3.0], D, t)
    # each receiver alone is an upper bound of its share, and the shadowing is small but positive
    assert np.all(res.F_per_sphere[0, :3] <= yilmaz_F(t[:3], 10.0, 5.0))
    assert np.all(res.F_per_sphere[1, :3] <= yilmaz_F(t[:3], 20.0, 3.0))
    assert res.F[-1] == pytest.approx(
        exact_capture([0, 0, 0], [[0, 0, 10.0], [0, 0, -20.0]], [5.0, 3.0]).sum(), abs=1e-12
    )
    assert np.all(np.diff(res.F) > 0)


# ---------------------------------------------------------------------------- errors


def test_bad_input_errors():
    with pytest.raises(ValueError, match="overlap"):
        exact_response([0, 0, 20], [[0, 0, 0], [9, 0, 0]], [5, 5], D, [1.0])
    with pytest.raises(ValueError, match="outside"):
        exact_response([1, 0, 0], [[0, 0, 0]], [5], D, [1.0])
    with pytest.raises(ValueError, match="times"):
        exact_response([10, 0, 0], [[0, 0, 0]], [5], D, [-1.0])
    with pytest.raises(ValueError, match="D"):
        exact_response([10, 0, 0], [[0, 0, 0]], [5], -1.0, [1.0])
    with pytest.raises(ValueError, match="one or two"):
        two_sphere_frame([0, 0, 50], np.array([[0, 0, 0], [20, 0, 0], [40, 0, 0]]), [5, 5, 5])
    with pytest.raises(ValueError, match="branch cut"):
        laplace_hitting([10, 0, 0], [[0, 0, 0]], [5], D, [-1.0])
    for tol in (5.0, 0.5, 1e-16, math.nan):  # a tolerance that means nothing for F in [0, 1]
        with pytest.raises(ValueError, match="tol must be"):
            exact_response([10, 0, 0], [[0, 0, 0]], [5], D, [1.0], tol=tol)


def test_near_contact_fails_loudly():
    # the per-sphere split at 2 nm needs far more than 100 orders
    with pytest.raises(ExactConvergenceError, match="gap"):
        exact_capacitance([[0, 0, 0], [2 * A + 0.002, 0, 0]], [A, A], max_order=100)
    # transmitter next to the 1-nm contact region of receiver and image
    geo = halfspace([5.001, 0, 0], [0.0005, 0, 1.0])
    with pytest.raises(ExactConvergenceError, match="max_order=40"):
        exact_response(geo["tx"], geo["centres"], geo["radii"], D, [0.5, np.inf], max_order=40)


# ---------------------------------------------------------------------------- cross-checks


@pytest.mark.parametrize("gap", [0.1, 1.0, 5.0, 30.0])
@pytest.mark.parametrize("tx", [(0.0, 0.0, 10.0), "behind", (3.0, 4.0, 12.0)])
def test_capture_equals_kelvin_series(gap, tx):
    """F(inf) of the multipole solution vs the Kelvin image-charge series (mcvd.core.models.capture)."""
    from mcvd.core.geometry import Geometry
    from mcvd.core.models import capture

    c = gap + A
    pos = (c + A + 5.0, 0.0, 0.0) if tx == "behind" else tx
    g = Geometry.simple(D, pos, [((c, 0.0, 0.0), A)], [((0, 0, 0), (1, 0, 0))])
    kelvin = capture(g, tol=1e-13).F_inf
    F, res, _ = exact_channel(g, [np.inf])
    assert F[0, 0] == pytest.approx(kelvin, abs=1e-9)
    assert res.F_per_sphere[:, 0].sum() == pytest.approx(kelvin, abs=1e-9)


def test_model_registry_and_geometry_entry_point():
    from mcvd.core.geometry import Geometry
    from mcvd.core.models import available_models, response

    assert "exact" in available_models()
    g = Geometry.simple(D, PAPER["tx"], [(PAPER["centres"][0], A)], [((0, 0, 0), (1, 0, 0))])
    t = [0.0, 0.5, 2.0, np.inf]
    r = response(g, t, model="exact")
    direct = exact_response(**PAPER, D=D, times=t)
    np.testing.assert_allclose(r.F, direct.F, atol=1e-15)
    assert r.info["error_estimate"] <= 1e-9 and r.info["tol"] == 1e-9
    # two receivers in free space, unequal radii: F per receiver in the registry's order
    g2 = Geometry.simple(D, (0, 0, 0), [((0, 0, 10.0), 5.0), ((0, 0, -20.0), 3.0)])
    r2 = response(g2, [1.0], model="exact")
    d2 = exact_response([0, 0, 0], [[0, 0, 10.0], [0, 0, -20.0]], [5.0, 3.0], D, [1.0])
    np.testing.assert_allclose(r2.F_per_receiver, d2.F_per_sphere, atol=1e-15)
    corner = Geometry.simple(
        D, (3, 3, 10), [((10, 10, 0), 5.0)], [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))]
    )
    # a corner has four absorbing spheres: the N-sphere solver answers
    r3 = response(corner, [1.0], model="exact")
    assert r3.info["solver"] == "n-sphere" and r3.info["error_estimate"] <= 1e-9
    assert r2.info["solver"] == r.info["solver"] == "two-sphere"
    touching = Geometry.simple(D, (0, 0, 10), [((A, 0, 0), A)], [((0, 0, 0), (1, 0, 0))])
    with pytest.raises(ValueError, match="touches"):
        response(touching, [1.0], model="exact")


@pytest.mark.parametrize(
    "rx,tx",
    [
        ((5.5, 0.0, 0.0), (15.5, 0.0, 0.0)),  # 0.5 µm gap, TX behind the receiver
        ((7.0, 0.0, 0.0), (7.0, 0.0, 7.0)),  # 2 µm gap, TX beside the receiver
    ],
)
def test_halfspace_agrees_with_event_simulation(rx, tx):
    """Exact F(t) vs the event-driven (walk-on-spheres) simulator, 4 standard errors."""
    pytest.importorskip("numba", reason="the simulators need numba")
    from mcvd.sim import simulate  # a plain import: an error in the module must fail

    scenario = {
        "D": D,
        "transmitter": {"position": list(tx), "molecules": 200_000},
        "receivers": [{"center": list(rx), "radius": A}],
        "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
        "obstacles": [],
        "time": {"end": 2.0, "dt": 1e-3},
    }
    times = np.array([0.05, 0.2, 0.5, 1.0, 2.0])
    sim = simulate(scenario, "event", seed=20261122, executor="inline").response(times)
    geo = halfspace(rx, tx)
    ref = exact_response(geo["tx"], geo["centres"], geo["radii"], D, times).F
    assert np.all(np.abs(sim.F - ref) < 4 * sim.F_se), (sim.F, ref, sim.F_se)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
def test_accuracy_map_geometries_converged(gap):
    """On every geometry of the accuracy map a 10x tighter tolerance moves F by < 1e-9."""
    c = gap + A
    t = np.array([0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, np.inf])
    for tx in [(0.0, 0.0, 10.0), (c + A + 5, 0.0, 0.0), (c, 0.0, A + 5), (c + 20, 0.0, 20.0)]:
        geo = halfspace([c, 0.0, 0.0], tx)
        loose = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t)
        tight = exact_response(geo["tx"], geo["centres"], geo["radii"], D, t, tol=1e-10)
        assert np.max(np.abs(loose.F - tight.F)) < 1e-9
        assert np.max(np.abs(loose.f - tight.f)) < 1e-6


def test_cli_response_model_exact(tmp_path, capsys):
    import json

    from mcvd.cli import main

    scenario = {
        "D": D,
        "transmitter": {"position": PAPER["tx"], "molecules": 1000},
        "receivers": [{"center": PAPER["centres"][0], "radius": A}],
        "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
        "obstacles": [],
        "time": {"end": 2.0, "dt": 1e-3},
    }
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(scenario))
    assert main(["response", str(path), "--model", "exact", "--times", "0.5,2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = exact_response(**PAPER, D=D, times=[0.5, 2.0])
    np.testing.assert_allclose(out["F"], direct.F, atol=1e-15)
    assert out["info"]["error_estimate"] <= 1e-9


def test_two_unequal_receivers_capture_equals_kelvin_series():
    from mcvd.core.geometry import Geometry
    from mcvd.core.models import capture

    recs = [((0.0, 0.0, 9.0), 5.0), ((0.0, 0.0, -7.5), 3.0)]  # gaps 4 and 4.5 µm to the TX
    g = Geometry.simple(D, (1.0, 2.0, 0.0), recs)
    kelvin = capture(g, tol=1e-13).F_inf_per_receiver
    F, _, _ = exact_channel(g, [np.inf])
    np.testing.assert_allclose(F[:, 0], kelvin, rtol=0, atol=1e-9)


def test_two_unequal_receivers_split_agrees_with_event_simulation():
    pytest.importorskip("numba", reason="the simulators need numba")
    from mcvd.sim import simulate  # a plain import: an error in the module must fail

    recs = [{"center": [0.0, 0.0, 9.0], "radius": 5.0}, {"center": [0.0, 0.0, -7.5], "radius": 3.0}]
    scenario = {
        "D": D,
        "transmitter": {"position": [1.0, 2.0, 0.0], "molecules": 400_000},
        "receivers": recs,
        "planes": [],
        "obstacles": [],
        "time": {"end": 1.0, "dt": 1e-3},
    }
    times = np.array([0.02, 0.1, 0.4, 1.0])
    sim = simulate(scenario, "event", seed=20261122, executor="inline").response(times)
    res = exact_response([1.0, 2.0, 0.0], [r["center"] for r in recs], [5.0, 3.0], D, times)
    assert np.all(np.abs(sim.F_per_receiver - res.F_per_sphere) < 4 * sim.F_se_per_receiver)


def test_mirror_solver_equals_general_solver():
    """Equal radii use the mirror-symmetric reduction; radii differing by 1e-13 the full system."""
    s = np.concatenate([[0.0], hyperbolic_contour(0.05, 2.0, 12).nodes])
    tx, centres = [3.0, 1.0, 12.0], [[5.3, 0, 0], [-5.3, 0, 0]]
    mirror = laplace_hitting(tx, centres, [A, A], D, s, tol=1e-13)
    general = laplace_hitting(tx, centres, [A, A * (1 + 1e-13)], D, s, tol=1e-13)
    np.testing.assert_allclose(mirror, general, rtol=0, atol=1e-11)
    cm = exact_capacitance(centres, [A, A], tol=1e-11)
    cg = exact_capacitance(centres, [A, A * (1 + 1e-13)], tol=1e-11)
    np.testing.assert_allclose(cm, cg, rtol=0, atol=1e-9)
