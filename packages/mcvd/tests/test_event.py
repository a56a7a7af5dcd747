"""Event-driven (walk-on-spheres) simulator against independent exact results (fixed seeds, 4 SE)."""

import math

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

from mcvd.core.exact import exact_capture, exact_response
from mcvd.core.geometry import Geometry
from mcvd.sim.event import prepare, walk
from scipy.special import erfc

D = 79.4


def _fraction(out, receiver=None):
    hit = out.receiver >= 0 if receiver is None else out.receiver == receiver
    p = float(hit.mean())
    return p, math.sqrt(max(p * (1 - p), 1e-300) / out.receiver.size)


def _yilmaz(r0, r, t):
    return r / r0 * (erfc((r0 - r) / math.sqrt(4 * D * t)) if math.isfinite(t) else 1.0)


@pytest.mark.parametrize(
    "r0,t", [(7.0, 0.05), (10.0, 0.5), (10.0, 2.0), (20.0, 1.0), (12.0, math.inf)]
)
def test_free_space_matches_exact_formula(r0, t):
    n = 60_000
    g = Geometry.simple(D, (0, 0, 0), [((r0, 0, 0), 5.0)])
    out = walk(prepare(g, t, molecules=[n]), 0, n, seed=int(r0 * 100 + min(t, 9) * 10))
    p, se = _fraction(out)
    assert abs(p - _yilmaz(r0, 5.0, t)) < 4 * se


def test_eps_bias_is_bracketed_by_the_enlarged_sphere():
    # coupling: the walk stops at points of the Brownian path, so every path that hits the sphere
    # is stopped (the walk converges to the hitting point) and every stopped path entered the
    # eps shell: r/r0 <= F_eps(inf) <= (r + eps)/r0. A large eps shows the bias; it is positive.
    n, r0 = 100_000, 12.0
    g = Geometry.simple(D, (0, 0, 0), [((r0, 0, 0), 5.0)])
    ps = []
    for eps in (0.5, 0.05):
        out = walk(prepare(g, math.inf, eps=eps, molecules=[n]), 0, n, seed=4)
        p, se = _fraction(out)
        assert 5.0 / r0 - 4 * se < p < (5.0 + eps) / r0 + 4 * se
        ps.append((p, se))
    (p_big, se_big), (p_small, se_small) = ps
    assert p_big - 5.0 / r0 > 4 * se_big  # eps = 0.5 µm: visibly biased
    # eps = 0.05 µm: no detectable bias, and significantly less than at 0.5 µm (the bracket above
    # already allows p_small up to (5 + eps)/r0 + 4 SE, so a looser check could not fail)
    assert abs(p_small - 5.0 / r0) < 4 * se_small
    assert p_big - p_small > 4 * math.hypot(se_big, se_small)


def test_half_space_response_matches_exact_solution():
    # the paper's topology: TX (0,0,10) on the plane x = 0, RX (10,0,0), r = 5
    n = 100_000
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))])
    times = [0.1, 0.5, 2.0]
    par = prepare(g, 2.0, molecules=[n])
    out = walk(par, 0, n, seed=7)
    ref = exact_response([0, 0, 10], par.centers, par.radii, D, times).F
    for t, f in zip(times, ref):
        p = float(np.mean(out.times <= t))
        se = math.sqrt(p * (1 - p) / n)
        assert abs(p - f) < 4 * se, (t, p, f, se)


@pytest.mark.parametrize(
    "tx,receivers",
    [
        ((30.0, 20.0, 10.0), [((10, 0, 0), 5.0), ((-3, 0, 0), 4.0)]),
        ((0.0, 9.0, 0.0), [((6, 0, 0), 5.0), ((-6, 0, 0), 5.0)]),
    ],
)
def test_capture_of_two_spheres_matches_exact_capture(tx, receivers):
    n = 100_000
    g = Geometry.simple(D, tx, receivers)
    par = prepare(g, math.inf, molecules=[n])
    out = walk(par, 0, n, seed=11)
    ref = exact_capture(tx, par.centers, par.radii)
    for i in range(2):
        p, se = _fraction(out, receiver=i)
        assert abs(p - ref[i]) < 4 * se, (i, p, ref[i], se)


def test_half_space_capture_counts_the_image_for_the_real_receiver():
    n = 100_000
    g = Geometry.simple(D, (3, 4, 10), [((8, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))])
    par = prepare(g, math.inf, molecules=[n])
    assert par.owner.tolist() == [0, 0]
    out = walk(par, 0, n, seed=12)
    assert set(np.unique(out.receiver)) <= {-1, 0}
    p, se = _fraction(out)
    assert abs(p - exact_capture([3, 4, 10], par.centers, par.radii).sum()) < 4 * se


def test_same_seed_same_result_and_streams_differ():
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))])
    par = prepare(g, 1.0, molecules=[3000])
    a, b, c = (walk(par, 0, 3000, seed=s) for s in (5, 5, 6))
    # same seed, same kernel (same code path): bit-identical
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.receiver, b.receiver)
    assert not np.array_equal(a.times, c.times)


def test_several_transmitters_and_release_times():
    from mcvd.core.geometry import Sphere, Transmitter

    g = Geometry(
        D,
        (Transmitter((0, 0, 0), 40_000, 0.0), Transmitter((30, 0, 0), 40_000, 0.3)),
        (Sphere((10, 0, 0), 5.0),),
    )
    par = prepare(g, 1.3)
    out = walk(par, 0, 80_000, seed=2)
    late = out.times[40_000:]
    assert np.all(late[np.isfinite(late)] >= 0.3)
    for sl, r0 in ((slice(0, 40_000), 10.0), (slice(40_000, None), 20.0)):
        hit = out.receiver[sl] == 0
        p = hit.mean()
        assert abs(p - _yilmaz(r0, 5.0, 1.0 if r0 == 20.0 else 1.3)) < 4 * math.sqrt(
            p * (1 - p) / hit.size
        )


def test_bad_input_is_rejected_with_clear_messages():
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], obstacles=[((-2, -2, -2), (2, 2, 2))])
    with pytest.raises(ValueError, match="obstacles"):
        prepare(g, 1.0)
    slab = Geometry.simple(
        D, (5, 0, 0), [((10, 20, 0), 3.0)], [((0, 0, 0), (1, 0, 0)), ((20, 0, 0), (-1, 0, 0))]
    )
    with pytest.raises(ValueError, match="infinite horizon"):
        prepare(slab, math.inf)
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)])
    with pytest.raises(ValueError, match="eps"):
        prepare(g, 1.0, eps=0.0)
    with pytest.raises(ValueError, match="horizon"):
        prepare(g, -1.0)
    for bad in (True, "1.0"):  # not a number: refused, not read as 1 s
        with pytest.raises(TypeError, match="horizon must be a real number"):
            prepare(g, bad)


@pytest.mark.parametrize(
    "tx,receivers,planes",
    [
        # two receivers in free space (per-receiver split)
        ((0.0, 9.0, 2.0), [((6, 0, 0), 5.0), ((-7, 0, 0), 3.0)], []),
        # corner: two orthogonal walls (4 absorbers; Kelvin needs some room to converge)
        ((3.0, 14.0, 4.0), [((11, 9, 0), 4.0)], [((0, 0, 0), (1, 0, 0)), ((0, -2, 0), (0, 1, 0))]),
        # three orthogonal walls (8 absorbers), TX deep in the corner
        (
            (3.0, 3.0, 3.0),
            [((20, 17, 18), 3.0)],
            [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 0, 1))],
        ),
    ],
    ids=["two-receivers", "corner", "three-walls"],
)
def test_capture_matches_kelvin_series(tx, receivers, planes):
    from mcvd.core.models import capture

    n = 100_000
    g = Geometry.simple(D, tx, receivers, planes)
    out = walk(prepare(g, math.inf, molecules=[n]), 0, n, seed=13)
    ref = capture(g, tol=1e-5).F_inf_per_receiver  # tol << 4 SE ~ 6e-3
    for i in range(len(receivers)):
        p, se = _fraction(out, receiver=i)
        assert abs(p - ref[i]) < 4 * se, (i, p, ref[i], se)
