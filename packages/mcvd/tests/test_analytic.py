"""Analytic channel models: free space, Kelvin capture, image models, registry."""

import math

import numpy as np
import pytest
from mcvd.core.curves import halfspace_bounds
from mcvd.core.exact import exact_capture
from mcvd.core.freespace import erfc_sum, free_capture, free_F, free_f, free_peak_time
from mcvd.core.geometry import Geometry, Sphere, Transmitter, absorbers
from mcvd.core.kelvin import capacitance, kelvin_chains
from mcvd.core.models import (
    absorber_response,
    available_models,
    capture,
    get_model,
    register_model,
    response,
)
from mcvd.studies.accuracy import accuracy_map
from scipy import special

D = 79.4
PAPER = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])


# ----------------------------------------------------------------------------- free space
def test_free_space_reference_numbers():
    # independent reference numbers (r0 = 10, r = 5, D = 79.4)
    assert free_peak_time(10, 5, D) == pytest.approx(0.05248, abs=5e-6)
    assert float(free_F(0.5, 10, 5, D)) == pytest.approx(0.28736, abs=5e-6)
    assert float(free_F(2.0, 10, 5, D)) == pytest.approx(0.38952, abs=5e-6)
    assert free_capture(10, 5) == 0.5  # r / r0 = 5 / 10: one correctly rounded division


def test_free_rate_is_derivative_and_peak():
    t = np.linspace(0.01, 2, 50)
    h = 1e-6
    num = (free_F(t + h, 10, 5, D) - free_F(t - h, 10, 5, D)) / (2 * h)
    assert np.allclose(free_f(t, 10, 5, D), num, rtol=1e-6, atol=1e-9)
    tp = free_peak_time(10, 5, D)
    grid = np.linspace(tp * 0.5, tp * 1.5, 20001)
    assert grid[np.argmax(free_f(grid, 10, 5, D))] == pytest.approx(tp, rel=1e-4)


def test_free_space_extreme_times():
    t = np.array([0.0, 1e-300, 1e-12, 1e300, np.inf])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        F = free_F(t, 10, 5, D)
        f = free_f(t, 10, 5, D)
    assert np.all(np.isfinite(F)) and np.all(np.isfinite(f))
    assert F[0] == 0 and F[1] == 0 and f[0] == 0 and f[-1] == 0
    # t = inf: (r / r0) erfc(0) = 0.5 exactly (erfc(0) = 1 in IEEE arithmetic); 1e300 is a limit
    assert F[-1] == 0.5 and F[-2] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="times must be >= 0"):
        free_F([-1.0], 10, 5, D)
    with pytest.raises(ValueError, match="r0"):
        free_F(1.0, 4, 5, D)
    with pytest.raises(ValueError, match="D must be > 0"):
        free_F(1.0, 10, 5, -D)


# ----------------------------------------------------------------------------- capture
def test_capture_one_sphere_and_touching_pair():
    g = Geometry.simple(D, (0, 0, 37), [((0, 0, 0), 5)])
    assert capture(g).F_inf == pytest.approx(5 / 37, rel=1e-14)
    # two touching equal spheres: capacitance 2 r ln 2 (classical result)
    pair = [Sphere((-5, 0, 0), 5), Sphere((5, 0, 0), 5)]
    assert capacitance(pair, tol=1e-6) == pytest.approx(10 * math.log(2), rel=1e-7)
    # ... and via the far-field limit of the capture from the transmitter side (TX on the
    # symmetry plane: the dipole term vanishes, the error is O((r/r0)^2))
    r0 = 1000.0
    c = capture(Geometry.simple(D, (0, r0, 0), [((-5, 0, 0), 5), ((5, 0, 0), 5)]), tol=1e-8)
    assert c.F_inf * math.hypot(5, r0) == pytest.approx(10 * math.log(2), rel=1e-4)
    # symmetric receivers capture equally
    assert c.F_inf_per_receiver[0] == pytest.approx(c.F_inf_per_receiver[1], rel=1e-12)


def test_capture_agrees_with_independent_multipole_solution():
    for tx, rx in [((0, 0, 10), (10, 0, 0)), ((20, 0, 0), (10, 0, 0)), ((5.5, 0, 15), (5.5, 0, 0))]:
        g = Geometry.simple(D, tx, [(rx, 5)], [((0, 0, 0), (1, 0, 0))])
        img = (-rx[0], rx[1], rx[2])
        ref_total = exact_capture(tx, [rx, img], [5.0, 5.0]).sum()
        assert capture(g).F_inf == pytest.approx(ref_total, abs=1e-9)


def test_more_absorbers_never_lower_the_capture():
    rng = np.random.default_rng(1)
    for _ in range(5):
        c = rng.uniform(6, 20)
        tx = (rng.uniform(0, 30), rng.uniform(-10, 10), 15 + rng.uniform(0, 10))
        free_g = Geometry.simple(D, tx, [((c, 0, 0), 5)])
        half = Geometry.simple(D, tx, [((c, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
        two = Geometry.simple(D, tx, [((c, 0, 0), 5), ((c + 12, 0, 0), 5)])
        f0 = capture(free_g).F_inf
        assert capture(half).F_inf >= f0
        assert capture(two).F_inf >= f0
        # ... but never more than the sum of the separate captures
        assert capture(half).F_inf <= 2 * f0 + 1e-12


def test_capacitance_and_chains_are_the_same_series():
    # forward (from the TX) and centre-charge forms of the Kelvin series agree in the far field
    spheres = [Sphere((0, 0, 0), 3), Sphere((15, 1, 0), 4), Sphere((2, 16, 1), 2)]
    C = capacitance(spheres, tol=1e-6)
    far = np.array([3e4, 4e4, 0.0])
    ch = kelvin_chains(far, spheres, tol=1e-9, prune=0.0)
    assert ch.static(3).sum() * np.linalg.norm(far - np.array([5.0, 5.0, 0.3])) == pytest.approx(
        C, rel=1e-3
    )


def test_divergent_reflection_series_is_refused():
    g = Geometry.simple(
        D,
        (0, 0, 10),
        [((5.5, 5.5, 5.5), 5)],
        [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 0, 1))],
    )
    with pytest.raises(ValueError, match="diverges"):
        capture(g, method="kelvin")
    with pytest.raises(ValueError, match="diverges"):
        response(g, [2.0], model="images-ho")
    # the first-order model gives a negative F here: refused, naming the model that serves
    with pytest.raises(ValueError, match=r"kamber2024' is outside its validity.*use model 'exact'"):
        response(g, [0.5, 2], model="kamber2024")


def test_multipole_capture_matches_kelvin_series():
    # two independent methods for the static problem: Kelvin series vs multipole Galerkin
    from mcvd.core.multipole import multipole_capture

    ab = absorbers(PAPER)
    mp = multipole_capture((0, 0, 10), ab.spheres, ab.receiver, tol=1e-11)
    assert mp[0] == pytest.approx(capture(PAPER).F_inf, abs=1e-10)
    # a corner where the series converges: both agree (the series needs ~2e5 chains here)
    corner = Geometry.simple(
        D, (0, 0, 10), [((25, 25, 25), 5)], [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))]
    )
    kel = capture(corner, method="kelvin", tol=1e-6, prune=0.0)
    mpc = capture(corner, method="multipole", tol=1e-10)
    assert kel.method == "kelvin" and mpc.method == "multipole"
    assert kel.F_inf == pytest.approx(mpc.F_inf, abs=2e-6)
    with pytest.raises(ValueError, match="method must be"):
        capture(corner, method="magic")


@pytest.mark.slow
def test_capture_uses_the_exact_static_limit_where_series_diverges():
    g = Geometry.simple(
        D,
        (0, 0, 10),
        [((10, 10, 10), 5)],
        [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 0, 1))],
    )
    c = capture(g)
    assert c.method == "exact"
    # the independent static multipole solver agrees
    assert c.F_inf == pytest.approx(capture(g, method="multipole", tol=1e-10).F_inf, abs=1e-9)
    # bounds: more than the receiver alone in free space, less than the 8 absorbers separately
    ab = absorbers(g)
    single = [s.radius / np.linalg.norm(np.subtract((0, 0, 10), s.center)) for s in ab.spheres]
    assert single[0] < c.F_inf < sum(single)


# ----------------------------------------------------------------------------- paper's model
def _spec_formula(tx, c_i, r, t, variant):
    """Literal transcription of the paper's two-sphere formula (angle form) for one plane x = 0."""
    tx, c_i = np.asarray(tx, float), np.asarray(c_i, float)
    c_j = c_i * np.array([-1, 1, 1])
    r_i = r_j = r
    r0i, r0j = np.linalg.norm(tx - c_i), np.linalg.norm(tx - c_j)
    cphi = np.clip((r0i**2 + r0j**2 - np.linalg.norm(c_i - c_j) ** 2) / (2 * r0i * r0j), -1, 1)
    rho_j, rho_i = r0j - r_j**2 / r0j, r0i - r_i**2 / r0i
    r0ij = np.sqrt(rho_j**2 + r0i**2 - 2 * r0i * rho_j * cphi)
    r0ji = np.sqrt(rho_i**2 + r0j**2 - 2 * r0j * rho_i * cphi)
    a = np.sqrt(4 * D * t)
    if variant == "paper":
        ai, aj = r0i + r0ij - r_i - r_j, r0j + r0ji - r_i - r_j
    else:
        ai, aj = (r0j - r_j) + (r0ij - r_i), (r0i - r_i) + (r0ji - r_j)
    Fi = r_i / r0i * special.erfc((r0i - r_i) / a) - r_i * r_j / (r0j * r0ij) * special.erfc(ai / a)
    Fj = r_j / r0j * special.erfc((r0j - r_j) / a) - r_i * r_j / (r0i * r0ji) * special.erfc(aj / a)
    return Fi, Fj


@pytest.mark.parametrize("tx", [(0, 0, 10), (20, 0, 0), (3, 4, 12), (40, 0, 30)])
def test_kamber_models_match_spec_formula(tx):
    t = np.array([0.05, 0.3, 1.0, 2.0])
    g = Geometry.simple(D, tx, [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    for model, variant in [("kamber2024", "paper"), ("kamber2024-conv", "conv")]:
        Fi, Fj = _spec_formula(tx, (10, 0, 0), 5.0, t, variant)
        _, F = absorber_response(g, t, model)
        assert np.allclose(F[0], Fi, rtol=1e-12, atol=1e-15)
        assert np.allclose(F[1], Fj, rtol=1e-12, atol=1e-15)
        assert np.allclose(response(g, t, model=model).F, Fi + Fj, rtol=1e-12)


HALF_MODELS = ["kamber2024", "kamber2024-conv", "images-ho"]


@pytest.mark.parametrize("model", HALF_MODELS)
def test_halfspace_model_properties(model):
    t = np.concatenate([[0.0], np.geomspace(1e-3, 5, 300)])
    F = response(PAPER, t, model=model).F
    assert F[0] == 0.0
    assert np.all(np.diff(F) >= -1e-12), "F must be non-decreasing"
    # TX on the plane: real receiver and image receive equally
    _, Fab = absorber_response(PAPER, t, model)
    assert np.allclose(Fab[0], Fab[1], rtol=1e-12, atol=1e-15)
    # far plane -> free space
    far = Geometry.simple(D, (1e4, 0, 10), [((1e4 + 10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    free = response(Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5)]), t, model="free").F
    assert np.allclose(response(far, t, model=model).F, free, atol=1e-12)


def test_variants_coincide_only_when_tx_on_plane():
    t = [0.1, 0.5, 2.0]
    on = [response(PAPER, t, model=m).F for m in ("kamber2024", "kamber2024-conv")]
    assert np.allclose(*on, rtol=1e-14)
    off = PAPER.with_transmitter((20, 0, 0))
    a, b = (response(off, t, model=m).F for m in ("kamber2024", "kamber2024-conv"))
    assert np.max(np.abs(a - b)) > 1e-4


def halfspace_bound_violations(model, gaps=(0.1, 1, 5, 30)):
    """Record (not hide) violations of F_free(r0i) <= F_HS <= F_free(r0i) + F_free(r0j)."""
    t = np.geomspace(0.01, 2, 40)
    out = []
    for gap in gaps:
        c = 5 + gap
        for tx in [(0, 0, 10), (c + 15, 0, 0), (c, 0, 15), (40, 0, 30)]:
            g = Geometry.simple(D, tx, [((c, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
            b = halfspace_bounds(g, t, model)
            if b.below_lower > 1e-12 or b.above_upper > 1e-12:
                out.append((gap, tx, b.below_lower, b.above_upper))
    return out


def test_halfspace_bounds_recorded(record_property):
    # The exact response satisfies both bounds (union of absorbers >= one absorber, <= sum).
    # Measured (recorded, not hidden): the paper's first-order model violates the LOWER bound
    # with the transmitter behind the receiver / far (its negative correction over-subtracts), by
    # up to 0.013 at gap 0.1 µm; the higher-order model violates it too on the same geometries,
    # 45x less (2.9e-4). The upper bound holds structurally for both.
    v1 = halfspace_bound_violations("kamber2024")
    v2 = halfspace_bound_violations("kamber2024-conv")
    vho = halfspace_bound_violations("images-ho")
    record_property("kamber2024_violations", v1)
    record_property("kamber2024_conv_violations", v2)
    record_property("images_ho_violations", vho)
    for v in v1 + v2 + vho:
        assert v[3] <= 1e-12, "upper bound holds structurally (corrections are subtracted)"
    assert max(v[2] for v in v1) > 0.01, "known lower-bound violation of kamber2024 vanished?"
    assert max(v[2] for v in vho) <= max(v[2] for v in v1) / 10
    assert max(v[2] for v in vho) < 5e-4


# ----------------------------------------------------------------------------- higher order
def test_higher_order_static_limit_is_the_capture():
    for tx in [(0, 0, 10), (20, 0, 0), (5.3, 0, 12)]:
        g = PAPER.with_transmitter(tx)
        ref = capture(g).F_inf
        F = response(g, [1e9, np.inf], model="images-ho").F
        assert F[1] == pytest.approx(ref, abs=1e-9)
        assert F[0] == pytest.approx(ref, abs=1e-5)  # erfc(delta/a) ~ 1 - O(delta/a)
    # first-order models fall short of it (kamber2024: 7.1 % below on this topology)
    k = response(PAPER, [np.inf], model="kamber2024").F[0]
    assert k < capture(PAPER).F_inf * 0.95


def test_higher_order_beats_paper_model_against_exact():
    t = np.append(np.geomspace(0.05, 2, 30), np.inf)
    for tx, c in [((0, 0, 10), 10.0), ((20, 0, 0), 10.0), ((10, 0, 15), 10.0)]:
        g = Geometry.simple(D, tx, [((c, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
        ref = response(g, t, model="exact").F
        e_ho = np.max(np.abs(response(g, t, model="images-ho").F - ref))
        e_k = np.max(np.abs(response(g, t, model="kamber2024").F - ref))
        assert e_ho <= e_k / 5, (tx, e_ho, e_k)


# ----------------------------------------------------------------------------- other surfaces
def test_corner_and_slab_models():
    t = [0.2, 1.0, 2.0]
    # receiver far from a second plane: the corner model approaches the one-plane model
    corner = Geometry.simple(
        D, (0, 200, 10), [((10, 200, 0), 5)], [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))]
    )
    one = Geometry.simple(D, (0, 200, 10), [((10, 200, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    for m in HALF_MODELS:
        assert np.allclose(response(corner, t, model=m).F, response(one, t, model=m).F, atol=1e-12)
    # wide slab -> one plane; a narrow slab captures more than one plane
    wide = Geometry.simple(
        D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0)), ((400, 0, 0), (-1, 0, 0))]
    )
    narrow = Geometry.simple(
        D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0)), ((20, 0, 0), (-1, 0, 0))]
    )
    for m in HALF_MODELS:
        assert np.allclose(response(wide, t, model=m).F, response(PAPER, t, model=m).F, atol=1e-10)
    # the narrow slab captures more (the first-order models over-subtract at early times: measured
    # 0.074064 < 0.074066 at t = 0.2 s for kamber2024, so only the series is checked)
    assert np.all(
        response(narrow, t, model="images-ho").F > response(PAPER, t, model="images-ho").F
    )
    with pytest.raises(ValueError, match="parallel planes"):
        response(narrow, [np.inf], model="images-ho")
    # t = 0 alone needs no image beyond the first period: F = 0 (not a refusal of t_max)
    for m in (*HALF_MODELS, "exact"):
        assert response(narrow, [0.0], model=m).F.tolist() == [0.0]


def test_several_transmitters_superpose():
    tx1, tx2 = Transmitter((0, 0, 10), 3), Transmitter((20, 0, 0), 1, release_time=0.5)
    g = Geometry(D, (tx1, tx2), PAPER.receivers, PAPER.planes)
    t = np.array([0.2, 0.7, 2.0])
    got = response(g, t, model="kamber2024").F
    a = response(PAPER, t, model="kamber2024").F
    b = response(PAPER.with_transmitter((20, 0, 0)), np.clip(t - 0.5, 0, None), "kamber2024").F
    assert np.allclose(got, 0.75 * a + 0.25 * b)
    assert response(g, t, model="free").molecules == 4


def test_registry_and_errors():
    assert {"free", "kamber2024", "kamber2024-conv", "images-ho"} <= set(available_models())
    with pytest.raises(ValueError, match="model must be one of"):
        get_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_model("free", lambda g, t: None)
    register_model("bad-shape", lambda g, t: np.zeros(3), overwrite=True)
    with pytest.raises(ValueError, match="returned shape"):
        response(PAPER, [1.0], model="bad-shape")
    with pytest.raises(ValueError, match="times must be >= 0"):
        response(PAPER, [-1.0])
    with pytest.raises(TypeError, match="Geometry or Scenario"):
        response({"D": 1}, [1.0])
    boxy = Geometry(D, PAPER.transmitters, PAPER.receivers, PAPER.planes, [])
    from mcvd.core.geometry import Box

    boxy = Geometry(
        D, PAPER.transmitters, PAPER.receivers, PAPER.planes, [Box((30, -5, -5), (34, 5, 5))]
    )
    with pytest.raises(ValueError, match="obstacles"):
        response(boxy, [1.0], model="kamber2024")


def test_erfc_sum_rate_matches_derivative():
    amp, dl, grp = np.array([0.5, -0.2, 0.1]), np.array([5.0, 12.0, 3.0]), np.array([0, 0, 1])
    t = np.linspace(0.01, 1, 30)
    h = 1e-6
    num = (erfc_sum(t + h, amp, dl, D, grp, 2) - erfc_sum(t - h, amp, dl, D, grp, 2)) / (2 * h)
    assert np.allclose(erfc_sum(t, amp, dl, D, grp, 2, rate=True), num, rtol=1e-5, atol=1e-8)


@pytest.mark.slow
def test_higher_order_accuracy_map_goal():
    # goal: max error <= 1/5 of the paper model's over the accuracy-map grid (exact ref.)
    times = (*np.geomspace(0.02, 2, 25), np.inf)
    am = accuracy_map(models=["kamber2024", "images-ho"], times=times)
    err = np.abs(am.error)
    k, ho = (am.models.index(m) for m in ("kamber2024", "images-ho"))
    assert err[ho].max() <= err[k].max() / 5
    fin = am.max_abs_error(finite_times=True)
    assert fin[ho].max() <= fin[k].max() / 5  # also at finite times only (measured 0.0082/0.087)
    assert fin[ho].max() < 0.01
