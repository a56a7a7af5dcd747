"""Tests of the N-sphere exact solver (mcvd.core.nsphere) against independent references.

References: the axisymmetric two-sphere solver (Legendre series, a separate implementation), the
free-space closed forms for absorbing, reactive (Collins–Kimball) and degrading channels, the
Kelvin image-charge series and the static multipole solver (mcvd.core.multipole), the
bispherical capacitance of two equal spheres, numerical differentiation, and the symmetry
reduction switched off.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mcvd import capture, response
from mcvd.core.exact import (
    ExactConvergenceError,
    exact_response,
    hyperbolic_contour,
    laplace_hitting,
)
from mcvd.core.freespace import free_capture, free_F
from mcvd.core.geometry import Geometry, Plane, Sphere, Transmitter
from mcvd.core.multipole import multipole_capture
from mcvd.core.nsphere import (
    _index,
    _problem,
    _rule,
    exact_channel,
    nsphere_capture,
    nsphere_laplace,
    nsphere_response,
    real_harmonics,
    reflection_signs,
)

D = 79.4
A = 5.0
WALL_X = Plane((0, 0, 0), (1, 0, 0))
WALL_Y = Plane((0, 0, 0), (0, 1, 0))
WALL_Z = Plane((0, 0, 0), (0, 0, 1))
S_NODES = np.concatenate([[0.0], hyperbolic_contour(0.02, 2.0, 24).nodes[::3], [400 + 900j]])


def _head(res, n):
    """The first ``n`` times of a response."""
    import dataclasses

    return dataclasses.replace(
        res, times=res.times[:n], F=res.F[:n], f=res.f[:n],
        F_per_sphere=res.F_per_sphere[:, :n], f_per_sphere=res.f_per_sphere[:, :n],
    )  # fmt: skip


def _unit(n, seed=1):
    v = np.random.default_rng(seed).standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


# ---------------------------------------------------------------------------- harmonics


def test_real_harmonics_are_orthonormal_and_match_scipy():
    from mcvd.core.multipole import _real_sh

    for L in (0, 3, 11):
        rule = _rule(L)
        Y = real_harmonics(L, rule.dirs)
        # the fast (trigonometric x Legendre) projection of the own basis is the identity
        P = rule.project((Y + 0j)[:, :, None])[0]
        np.testing.assert_allclose(P, np.eye(Y.shape[1]), atol=2e-14)
    v = _unit(200)
    theta, phi = np.arccos(v[:, 2]), np.arctan2(v[:, 1], v[:, 0])
    ref = _real_sh(9, theta, phi)  # scipy's sph_harm_y (Condon–Shortley phase: signs differ)
    np.testing.assert_allclose(np.abs(real_harmonics(9, v)), np.abs(ref), atol=1e-13)


@pytest.mark.parametrize("diag", [(-1, 1, 1), (1, -1, 1), (1, 1, -1), (-1, -1, 1), (-1, -1, -1)])
def test_reflection_signs(diag):
    v = _unit(100, seed=2)
    Y, Yr = real_harmonics(8, v), real_harmonics(8, v * np.array(diag))
    np.testing.assert_allclose(Yr, reflection_signs(8, diag) * Y, atol=1e-14)
    ls, ms = _index(8)
    assert np.all(ls**2 + ls + ms == np.arange(ls.size))


# ---------------------------------------------------------------------------- Laplace domain


@pytest.mark.parametrize(
    "case",
    [
        dict(tx=[0, 0, 10], rx=[[10, 0, 0]], radii=[A], planes=[WALL_X]),
        dict(tx=[3, 4, 12], rx=[[5.6, 0, 0]], radii=[A], planes=[WALL_X]),
        dict(tx=[1, 2, 0], rx=[[0, 0, 9], [0, 0, -7.5]], radii=[5.0, 3.0], planes=[]),
        dict(tx=[0, 0, 0], rx=[[0, 0, 9], [0, 0, -9]], radii=[A, A], planes=[]),
        dict(tx=[0, 0, 10], rx=[[10, 0, 0]], radii=[A], planes=[WALL_X], k=[20.0]),
        dict(tx=[1, 2, 0], rx=[[0, 0, 9], [0, 0, -7.5]], radii=[5.0, 3.0], k=[3.0, 200.0]),
        dict(tx=[3, 4, 12], rx=[[7, 0, 0]], radii=[A], planes=[WALL_X], k=[20.0], kd=0.7),
    ],
)
def test_laplace_matches_two_sphere_solver(case):
    """The 3-D solver (images, symmetry-adapted harmonics) vs the axisymmetric Legendre solver."""
    planes = case.get("planes", [])
    k, kd = case.get("k"), case.get("kd", 0.0)
    rx = np.asarray(case["rx"], float)
    if planes:  # the two-sphere solver gets the receiver and its mirror image
        centres, radii = [rx[0], rx[0] * [-1, 1, 1]], case["radii"] * 2
        rates = None if k is None else k * 2
    else:
        centres, radii, rates = rx, case["radii"], k
    s = S_NODES
    two = laplace_hitting(case["tx"], centres, radii, D, s, tol=1e-13)
    if rates is not None or kd:
        from mcvd.core.exact import _Frame, _frame, _laplace_values

        fr = _frame(case["tx"], centres, radii)
        fr = _Frame(fr.z, fr.a, fr.tx_rho, fr.tx_z, np.asarray(rates or [math.inf] * 2, float))
        two = _laplace_values(s, fr, D, 1e-13, 400, kd=kd)[0]
    if planes:
        two = two.sum(axis=1, keepdims=True)
    w = nsphere_laplace(
        case["tx"], rx, case["radii"], D, s, planes=planes, reaction_rates=k,
        degradation_rate=kd, tol=1e-13,
    )  # fmt: skip
    np.testing.assert_allclose(w, two, rtol=0, atol=2e-12)


def test_symmetry_reduction_changes_nothing():
    """Mirrors through the transmitter cut the unknowns; the values are those without them."""
    cases = [
        ([0, 0, 10], [[10, 0, 0], [10, 0, 20]], [A, A], [WALL_X]),  # fixed and swapped mirrors
        ([0, 0, 0], [[8, 0, 0], [-9, 0, 0], [0, 10, 0]], [A, 4.0, 3.0], []),
        ([2, 3, 4], [[9, 8, 0.5]], [A], [WALL_X, WALL_Y]),  # no symmetry at all
    ]
    kappa = np.sqrt(S_NODES / D)[:, None]
    for tx, rx, radii, planes in cases:
        sym, _ = _problem(tx, rx, radii, D, None, 0.0, planes, 2.0, 1e-9)
        plain, _ = _problem(tx, rx, radii, D, None, 0.0, planes, 2.0, 1e-9, symmetry=False)
        np.testing.assert_allclose(sym.solve(kappa, 9), plain.solve(kappa, 9), atol=1e-13)
    # beyond the memory budget the angular tables are recomputed per chunk: same values
    import mcvd.core.nsphere as ns

    tx, rx, radii, planes = cases[2]
    cached, _ = _problem(tx, rx, radii, D, None, 0.0, planes, 2.0, 1e-9)
    budget, ns._CACHE_BYTES = ns._CACHE_BYTES, 0
    try:
        fresh, _ = _problem(tx, rx, radii, D, None, 0.0, planes, 2.0, 1e-9)
        assert fresh.level(9).pair_y[(0, 0)] is None
        np.testing.assert_allclose(fresh.solve(kappa, 9), cached.solve(kappa, 9), atol=1e-15)
    finally:
        ns._CACHE_BYTES = budget
    # two receivers mirrored in z = 10 and centred on y = 0: one orbit, half the harmonics
    sym, _ = _problem(*cases[0][:3], D, None, 0.0, cases[0][3], 2.0, 1e-9)
    assert sym.reps == [0] and sym.level(9).keep[0].size == 55  # m >= 0 of (9+1)² = 100


# ---------------------------------------------------------------------------- time domain


@pytest.mark.parametrize(
    "rx,tx",
    [
        ((10.0, 0, 0), (0.0, 0, 10.0)),
        pytest.param((6.0, 0, 0), (16.0, 0, 0), marks=pytest.mark.slow),
        pytest.param((8.0, 0, 0), (8, 0, 8), marks=pytest.mark.slow),
    ],
)
def test_time_domain_reproduces_two_sphere_solver(rx, tx):
    t = np.concatenate([np.linspace(0.01, 2.0, 60), [np.inf]])
    rx = np.asarray(rx)
    two = exact_response(tx, [rx, rx * [-1, 1, 1]], [A, A], D, t, tol=1e-10)
    res = nsphere_response(tx, [rx], [A], D, t, planes=[WALL_X], tol=1e-10)
    assert res.error_estimate <= 1e-10
    np.testing.assert_allclose(res.F, two.F, rtol=0, atol=5e-10)
    np.testing.assert_allclose(res.f, two.f, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("k,kd", [(20.0, 0.0), (math.inf, 0.7), (20.0, 0.7), (3.0, 5.0)])
def test_one_sphere_reactive_and_degrading_closed_forms(k, kd):
    t = np.array([0.005, 0.05, 0.3, 1.0, 3.0, 30.0, np.inf])
    ref = free_F(t, 12.0, A, D, reaction_rate=k, degradation_rate=kd)
    for solve in (nsphere_response, exact_response):
        res = solve([12.0, 0, 0], [[0, 0, 0]], [A], D, t, reaction_rates=[k], degradation_rate=kd)
        assert res.error_estimate <= 1e-9
        np.testing.assert_allclose(res.F, ref, rtol=0, atol=1e-9)


def test_corner_response_is_a_valid_channel():
    grid = np.concatenate([[0.0], np.geomspace(0.005, 2.0, 80), [np.inf]])
    tt, h = np.array([0.2, 0.5, 1.0]), 1e-4
    full = nsphere_response(
        [2, 1, 10], [[10, 9, 0]], [A], D, np.concatenate([grid, tt, tt - h, tt + h]),
        planes=[WALL_X, WALL_Y],
    )  # fmt: skip
    res, t = _head(full, grid.size), grid
    assert res.error_estimate <= 1e-9 and res.F[0] == 0.0
    assert np.all(np.diff(res.F) >= -2 * res.error_estimate) and np.all(res.f >= -1e-8)
    # bounds: the receiver alone in free space <= F <= the union bound of its four images
    r0 = np.linalg.norm(np.array([2, 1, 10]) - [10, 9, 0])
    fin = np.isfinite(t) & (t > 0)
    assert np.all(res.F[fin] >= free_F(t[fin], r0, A, D) - res.error_estimate)
    images = [[10, 9, 0], [-10, 9, 0], [10, -9, 0], [-10, -9, 0]]
    union = sum(free_F(t[fin], np.linalg.norm(np.array([2, 1, 10]) - c), A, D) for c in images)
    assert np.all(res.F[fin] <= union + res.error_estimate)
    # f is the derivative of F (central differences: F errors ~1e-10 / h, and O(h²) f'')
    f, F_minus, F_plus = full.f[grid.size : grid.size + 3], full.F[-6:-3], full.F[-3:]
    np.testing.assert_allclose(f, (F_plus - F_minus) / (2 * h), rtol=1e-5, atol=2e-6)


# ---------------------------------------------------------------------------- static limit


def test_static_limit_matches_kelvin_series_where_it_converges():
    g = Geometry.simple(D, (1, 2, 3), [((25, 0, 0), 5), ((-22, 3, 0), 4), ((0, 24, 2), 3)])
    kelvin = capture(g, method="kelvin", tol=1e-10, prune=0.0).F_inf_per_receiver
    F, err = nsphere_capture([1, 2, 3], [s.center for s in g.receivers], [5, 4, 3])
    np.testing.assert_allclose(F, kelvin, rtol=0, atol=1e-9)
    assert err <= 1e-11


@pytest.mark.parametrize(
    "tx,rx,radii,planes",
    [
        ((0, 0, 10), [(10, 10, 0)], [A], [WALL_X, WALL_Y]),
        ((0, 0, 10), [(10, 0, 0), (10, 0, 20)], [A, A], [WALL_X]),
        pytest.param((1, 2, 3), [(9, 8, 7)], [A], [WALL_X, WALL_Y, WALL_Z], marks=pytest.mark.slow),
    ],
)
def test_static_limit_matches_multipole_solver(tx, rx, radii, planes):
    g = Geometry(D, Transmitter(tx), [Sphere(c, r) for c, r in zip(rx, radii)], planes)
    from mcvd.core.geometry import absorbers

    ab = absorbers(g)
    mp = multipole_capture(tx, ab.spheres, ab.receiver, tol=1e-11, max_degree=40)
    F, _ = nsphere_capture(tx, rx, radii, planes=planes)
    np.testing.assert_allclose(F, mp, rtol=0, atol=1e-9)


def test_capacitance_of_two_close_spheres():
    """Far field of two equal spheres: F(∞) r -> C (bispherical series; 2a ln 2 at contact)."""
    for gap in (1.0, 0.3):
        d = 2 * A + gap
        big = 1e6
        F, _ = nsphere_capture([d / 2, big, 0], [[0, 0, 0], [d, 0, 0]], [A, A])
        beta = math.acosh(d / (2 * A))
        n = np.arange(1, 20001)
        series = (
            2 * A * math.sinh(beta) * np.sum((-1.0) ** (n + 1) / np.sinh(np.minimum(n * beta, 700)))
        )
        assert F.sum() * math.hypot(big, d / 2) == pytest.approx(series, rel=1e-7)
        assert series > 2 * A * math.log(2)


# ---------------------------------------------------------------------------- slab


@pytest.mark.slow
def test_slab_converges_under_a_tighter_tolerance():
    t = np.array([0.1, 0.5, 2.0])
    narrow_planes = [WALL_X, Plane((22, 0, 0), (-1, 0, 0))]
    loose = nsphere_response([4, 0, 10], [[11, 0, 0]], [A], D, t, planes=narrow_planes)
    tight = nsphere_response([4, 0, 10], [[11, 0, 0]], [A], D, t, planes=narrow_planes, tol=1e-11)
    np.testing.assert_allclose(loose.F, tight.F, rtol=0, atol=1e-9)


def test_slab_truncation():
    t = np.array([0.1, 0.5, 2.0])
    wide = nsphere_response(
        [0, 0, 10], [[10, 0, 0]], [A], D, t, planes=[WALL_X, Plane((400, 0, 0), (-1, 0, 0))]
    )
    half = exact_response([0, 0, 10], [[10, 0, 0], [-10, 0, 0]], [A, A], D, t)
    np.testing.assert_allclose(wide.F, half.F, rtol=0, atol=2e-9)
    narrow_planes = [WALL_X, Plane((22, 0, 0), (-1, 0, 0))]
    narrow = nsphere_response([4, 0, 10], [[11, 0, 0]], [A], D, t, planes=narrow_planes)
    assert narrow.error_estimate <= 1e-9
    # the second wall adds the images on the other side: more is captured than with one wall
    one = nsphere_response([4, 0, 10], [[11, 0, 0]], [A], D, t, planes=[WALL_X])
    assert np.all(narrow.F > one.F)
    with pytest.raises(ValueError, match="parallel planes"):
        nsphere_response([4, 0, 10], [[11, 0, 0]], [A], D, [np.inf], planes=narrow_planes)


# ---------------------------------------------------------------------------- refusals


def test_bad_inputs_and_refusals():
    with pytest.raises(ValueError, match="touches a plane"):
        nsphere_response([0, 0, 10], [[5, 5, 0]], [A], D, [1.0], planes=[WALL_X, WALL_Y])
    with pytest.raises(ValueError, match="receivers\\[0\\] and receivers\\[1\\]"):
        nsphere_response([0, 0, 30], [[10, 10, 0], [20, 10, 0]], [A, A], D, [1.0], planes=[WALL_X])
    with pytest.raises(ValueError, match="wrong side"):
        nsphere_response([-1, 0, 10], [[10, 0, 0]], [A], D, [1.0], planes=[WALL_X])
    with pytest.raises(ValueError, match="reaction_rates must be > 0"):
        nsphere_response([0, 0, 10], [[10, 0, 0]], [A], D, [1.0], reaction_rates=[0.0])
    with pytest.raises(ValueError, match="degradation_rate must be >= 0"):
        nsphere_response([0, 0, 10], [[10, 0, 0]], [A], D, [1.0], degradation_rate=-1)
    for solve in (nsphere_response, nsphere_laplace):
        with pytest.raises(ValueError, match=r"tol must be between 1e-15 and 0\.01, got 5\.0"):
            solve([0, 0, 10], [[10, 0, 0]], [A], D, [1.0], tol=5.0)
    with pytest.raises(ValueError, match="tol must be finite"):
        nsphere_capture([0, 0, 10], [[10, 0, 0]], [A], tol=math.nan)
    with pytest.raises(ExactConvergenceError) as info:
        nsphere_response([0, 0, 10], [[5.3, 5.3, 0]], [A], D, [1.0], planes=[WALL_X, WALL_Y],
                         max_order=8)  # fmt: skip
    msg = str(info.value)
    assert "max_order=8" in msg and "0.6 µm" in msg and "--method event" in msg
    assert "\n" not in msg


def test_exact_model_covers_every_image_geometry():
    X, Y = ((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))
    corner = Geometry.simple(D, (0, 0, 10), [((10, 10, 0), A)], [X, Y])
    two = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), A), ((10, 0, 20), A)], [X])
    three = Geometry.simple(D, (0, 0, 0), [((8, 0, 0), A), ((-9, 0, 0), 4), ((0, 10, 0), 3)])
    reactive = Geometry(
        D, Transmitter((0, 0, 10)), [Sphere((10, 0, 0), A, 20.0)], [Plane(*X)], (), 0.5
    )
    t = [0.5, 2.0, np.inf]
    for g, solver in ((corner, "n-sphere"), (two, "n-sphere"), (three, "n-sphere"),
                      (reactive, "two-sphere")):  # fmt: skip
        r = response(g, t, model="exact")
        assert r.info["solver"] == solver and r.info["error_estimate"] <= 1e-9
        assert r.F_per_receiver.shape == (g.n_receivers, 3)
        assert np.all(np.diff(r.F) > 0) and r.F[-1] <= 1
    # the two receivers are mirror images of each other seen from the transmitter
    r = response(two, t, model="exact")
    np.testing.assert_allclose(r.F_per_receiver[0], r.F_per_receiver[1], atol=1e-13)
    # the reactive receiver with degradation, through the N-sphere solver directly
    F, _, solver = exact_channel(reactive, t)
    assert solver == "two-sphere"
    direct = nsphere_response(
        (0, 0, 10), [(10, 0, 0)], [A], D, t, planes=[Plane(*X)], reaction_rates=[20.0],
        degradation_rate=0.5,
    )  # fmt: skip
    np.testing.assert_allclose(F[0], direct.F, atol=2e-9)
    # capture of a corner: the static limit, and the same value as the response at inf
    cap = capture(corner)
    assert cap.method == "exact"
    assert cap.F_inf == pytest.approx(response(corner, [np.inf], model="exact").F[0], abs=1e-11)


# ---------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize(
    "k,kd",
    [(20.0, 0.0), (math.inf, 0.7), (20.0, 0.7), (3.0, 5.0), (1e4, 0.1), (D * 0.8, D)],
)  # the last one has α = 1/a + k/D = sqrt(k_d/D): the removable singularity
def test_free_closed_forms_invert_their_laplace_forms(k, kd):
    from mcvd.core.exact import invert_on_contour
    from mcvd.core.freespace import free_capture, free_laplace

    t = np.geomspace(0.002, 20.0, 25)
    c = hyperbolic_contour(t[0], t[-1], 120)
    w = free_laplace(c.nodes, 10.0, A, D, reaction_rate=k, degradation_rate=kd)
    numeric = invert_on_contour(c, w / c.nodes, t)
    closed = free_F(t, 10.0, A, D, reaction_rate=k, degradation_rate=kd)
    np.testing.assert_allclose(closed, numeric, rtol=0, atol=1e-10)
    cap = free_capture(10.0, A, D, reaction_rate=k, degradation_rate=kd)
    assert free_F(np.inf, 10.0, A, D, reaction_rate=k, degradation_rate=kd) == cap
    assert cap == pytest.approx(free_laplace(0.0, 10.0, A, D, reaction_rate=k,
                                             degradation_rate=kd).real, rel=1e-14)  # fmt: skip
    assert np.all(np.diff(closed) >= 0) and closed[-1] <= cap + 1e-12


def test_closed_forms_refuse_outside_their_validity():
    X, Y, Z = ((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 0, 1))
    corner = Geometry.simple(D, (0, 0, 10), [((10, 10, 0), A)], [X, Y])
    octant = Geometry.simple(D, (0, 0, 10), [((10, 10, 10), A)], [X, Y, Z])
    three = Geometry.simple(D, (0, 0, 0), [((10, 0, 0), A), ((-10, 0, 0), A), ((0, 10, 0), A)])
    for g, model in ((corner, "kamber2024"), (octant, "kamber2024-conv"), (octant, "images-ho"),
                     (three, "kamber2024")):  # fmt: skip
        with pytest.raises(ValueError, match=rf"'{model}' is outside its validity.*model 'exact'"):
            response(g, [0.5, np.inf], model=model)
    # free ignores the shadowing: three receivers would capture more than everything
    with pytest.raises(ValueError, match=r"'free' is outside.*total F = 1.5 > 1 at t = inf"):
        response(three, [0.5, np.inf], model="free")
    # a closed form that stays a valid response over the requested times is returned
    far = Geometry.simple(D, (0, 0, 10), [((30, 30, 0), A)], [X, Y])
    t = np.linspace(0.05, 2.0, 40)
    F = response(far, t, model="kamber2024").F
    assert np.all(np.diff(F) >= 0) and np.all((F >= 0) & (F <= 1))
    exact = response(far, t, model="exact").F
    assert np.max(np.abs(F - exact)) < 2e-3  # approximate: measured 1.0e-3


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
def test_reproduces_two_sphere_solver_on_the_accuracy_map(gap):
    """Every geometry of the accuracy map at the exact model's default tolerance, 1e-9 (measured:
    max |ΔF| 2.2e-11, orders up to 38; at tol 1e-10 the receiver 0.1 µm from the plane with the
    transmitter on the plane needs order 48, above the default cap of 40, and is refused)."""
    from mcvd.studies.accuracy import PLACEMENTS, placement_geometry

    t = np.array([0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, np.inf])
    for place in PLACEMENTS:
        g = placement_geometry(gap, place)
        rx, tx = np.array(g.receivers[0].center), g.transmitter.position
        two = exact_response(tx, [rx, rx * [-1, 1, 1]], [A, A], D, t, tol=1e-10)
        res = nsphere_response(tx, [rx], [A], D, t, planes=g.planes, tol=1e-9)
        np.testing.assert_allclose(res.F, two.F, rtol=0, atol=1e-9)


def test_capture_needs_D_only_where_it_matters():
    # F(inf) of an absorbing receiver in a stable fluid does not depend on D; with a reactive
    # receiver or degradation it does, and a missing D is refused instead of taken as 1 µm²/s
    assert free_capture(10.0, 5.0) == free_capture(10.0, 5.0, D)
    F, _ = nsphere_capture([0, 0, 10], [[0, 0, 0]], [A])
    assert abs(F[0] - 0.5) < 1e-12
    with pytest.raises(ValueError, match="D: a reactive receiver or degradation"):
        free_capture(10.0, 5.0, reaction_rate=20.0)
    with pytest.raises(ValueError, match="D: a reactive receiver or degradation"):
        free_capture(10.0, 5.0, degradation_rate=1.0)
    with pytest.raises(ValueError, match="D: a reactive receiver or degradation"):
        nsphere_capture([0, 0, 10], [[0, 0, 0]], [A], reaction_rates=[20.0])
    with pytest.raises(ValueError, match="D: a reactive receiver or degradation"):
        nsphere_capture([0, 0, 10], [[0, 0, 0]], [A], degradation_rate=1.0)
    F, _ = nsphere_capture([0, 0, 10], [[0, 0, 0]], [A], D=D, reaction_rates=[20.0])
    assert abs(F[0] - free_capture(10.0, A, D, reaction_rate=20.0)) < 1e-10
