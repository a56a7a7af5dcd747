"""Fixed-step simulator: statistical tests against exact results (fixed seeds, 4 standard errors).

References are independent closed forms written here (free-space first passage to a sphere,
folded Gaussian of reflected Brownian motion, the method of images, the discrete-monitoring
boundary shift), never the code under test.
"""

import math

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

import numba
from mcvd.sim import simulate
from mcvd.sim.fixedstep import (
    SURF_FOLD,
    SURF_TRACE,
    FixedStepParams,
    _simulate_arrays,
    _surface_mode,
    final_positions,
    fixed_step_kernel,
    params_from_scenario,
    standard_normals,
)
from mcvd.sim.runner import ChunkTask
from scipy import stats
from scipy.special import erfc

D = 79.4
BGK = 0.5826  # -zeta(1/2) / sqrt(2 pi): discrete-monitoring boundary shift (Broadie et al. 1997)


def f_free(r0, r, t):
    """Free-space fraction absorbed by t (Yilmaz et al. 2014), written out independently."""
    return r / r0 * erfc((r0 - r) / math.sqrt(4 * D * t))


def params(dt, T, n, *, rx=((10.0, 0, 0),), rr=(5.0,), tx=((0.0, 0, 0),), **kw):
    return FixedStepParams(
        D, dt, T, tx, (0.0,) * len(tx), (n,), rx, rr, bin_edges=(0.0, T / 2, T), **kw
    )


def F_end(p, n, seed):
    r = fixed_step_kernel(p, ChunkTask(0, 0, n, seed))
    return r.F[-1], r.F_se[-1]


def test_normal_generator_is_standard_normal():
    z = standard_normals(200, 5000, seed=11).ravel()  # 1e6 normals from 200 streams
    assert stats.kstest(z, "norm").pvalue > 1e-3
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 4 * se
    assert abs(z.var() - 1) < 4 * math.sqrt(2) * se
    # ziggurat tail (|z| > 3.654) and its sampler
    p_tail = 2 * stats.norm.sf(3.6541528853610088)
    assert abs((np.abs(z) > 3.6541528853610088).mean() - p_tail) < 4 * math.sqrt(p_tail / z.size)
    # streams of different molecules are uncorrelated
    zz = standard_normals(2, 200_000, seed=3)
    assert abs(np.corrcoef(zz)[0, 1]) < 4 / math.sqrt(200_000)


def test_free_diffusion_msd_and_axis_variance():
    n, dt, T = 100_000, 1e-3, 0.1
    p = params(dt, T, n, rx=((1e6, 0, 0),))  # receiver out of reach: free diffusion
    x = final_positions(p, n, seed=5)
    var_axis = 2 * D * T
    for k in range(3):
        assert abs(x[:, k].mean()) < 4 * math.sqrt(var_axis / n)
        assert abs(x[:, k].var() - var_axis) < 4 * var_axis * math.sqrt(2 / n)
    sq = (x**2).sum(axis=1)
    assert abs(sq.mean() - 6 * D * T) < 4 * sq.std() / math.sqrt(n)


@pytest.mark.parametrize("surface", ["plane", "box"])
def test_elastic_reflection_gives_folded_density_rollback_does_not(surface):
    # start on the wall x = 0; elastic reflection of a Gaussian walk is |free walk| exactly, so
    # E x = sqrt(4 D t / pi) and E x^2 = 2 D t at every step; 10 steps make rollback's bias large
    n, dt, T = 100_000, 0.01, 0.1
    if surface == "plane":
        geo = {"plane_point": ((0.0, 0, 0),), "plane_normal": ((1.0, 0, 0),)}
    else:  # the face x = 0 of a large box filling x < 0 (tests the box reflection code)
        geo = {"box_min": ((-500.0, -500, -500),), "box_max": ((0.0, 500, 500),)}
    mean_exact = math.sqrt(4 * D * T / math.pi)
    res = {}
    for refl in ("elastic", "rollback"):
        p = params(dt, T, n, rx=((1e6, 0, 0),), reflection=refl, **geo)
        res[refl] = final_positions(p, n, seed=8)[:, 0]
    x = res["elastic"]
    assert x.min() >= 0
    assert abs(x.mean() - mean_exact) < 4 * x.std() / math.sqrt(n)
    assert abs((x**2).mean() - 2 * D * T) < 4 * (x**2).std() / math.sqrt(n)
    xr = res["rollback"]
    assert xr.min() >= 0
    assert mean_exact - xr.mean() > 4 * xr.std() / math.sqrt(n)


@pytest.mark.parametrize("reflection", ["elastic", "rollback"])
def test_plane_folding_equals_path_tracing_for_orthogonal_and_parallel_planes(reflection):
    # a slab (x = 0, x = 3) cut by the wall y = 0: the kernel folds; forcing the general
    # path-tracing code must give the same points (reflections through these planes commute)
    n, dt, T = 2000, 1e-2, 0.2  # sigma = 1.26 µm: many multiple reflections in the slab
    p = params(
        dt, T, n, rx=((1e6, 0, 0),), tx=((1.5, 0.5, 0.0),), reflection=reflection,
        plane_point=((0.0, 0, 0), (3.0, 0, 0), (0.0, 0, 0)),
        plane_normal=((1.0, 0, 0), (-1.0, 0, 0), (0.0, 1, 0)),
    )  # fmt: skip
    assert _surface_mode(p) == SURF_FOLD
    task = ChunkTask(0, 0, n, 3)
    fold = _simulate_arrays(p, task, True)[2]
    trace = _simulate_arrays(p, task, True, surface=SURF_TRACE)[2]
    assert fold[:, 0].min() >= 0 and fold[:, 0].max() <= 3 and fold[:, 1].min() >= 0
    np.testing.assert_allclose(fold, trace, rtol=0, atol=1e-9)
    # an oblique plane is traced
    oblique = params(dt, T, n, plane_point=((0.0, 0, 0),), plane_normal=((1.0, 1.0, 0),))
    assert _surface_mode(oblique) == SURF_TRACE


def test_bridge_skip_bit_is_the_same_beyond_the_mask():
    # the "start point near the receiver" bit is kept for the first 63 receivers and recomputed
    # for the others: the real receiver as receiver 0 or as receiver 64 (behind 64 decoys out
    # of reach) draws the same uniforms, so the same molecules are absorbed
    n, dt, T = 5000, 1e-3, 0.1
    decoys = tuple((1e6, 10.0 * q, 0.0) for q in range(64))
    first = params(dt, T, n, rx=((10.0, 0, 0), *decoys), rr=(5.0,) + (1.0,) * 64)
    last = params(dt, T, n, rx=(*decoys, (10.0, 0, 0)), rr=(1.0,) * 64 + (5.0,))
    rx_a, t_a, _ = _simulate_arrays(first, ChunkTask(0, 0, n, 12), False)
    rx_b, t_b, _ = _simulate_arrays(last, ChunkTask(0, 0, n, 12), False)
    assert set(rx_a.tolist()) <= {-1, 0} and set(rx_b.tolist()) <= {-1, 64}
    assert np.array_equal(rx_a >= 0, rx_b >= 0)
    np.testing.assert_allclose(t_a, t_b, rtol=1e-15)
    F, se = (rx_a >= 0).mean(), math.sqrt(f_free(10, 5, T) * (1 - f_free(10, 5, T)) / n)
    assert abs(F - f_free(10, 5, T)) < 4 * se


def test_bridge_agrees_with_exact_free_space_at_paper_dt():
    n, T = 100_000, 0.1
    F, se = F_end(params(1e-4, T, n), n, seed=21)
    assert abs(F - f_free(10, 5, T)) < 4 * se


def test_end_of_step_bias_matches_theory_and_shrinks_with_dt():
    n, T, r0, r = 100_000, 0.1, 10.0, 5.0
    exact = f_free(r0, r, T)
    err = {}
    for dt in (1e-3, 1e-4):
        F, se = F_end(params(dt, T, n, absorption="end-of-step"), n, seed=31)
        # under-counts like a receiver shrunk by 0.5826 sqrt(2 D dt) ...
        shifted = f_free(r0, r - BGK * math.sqrt(2 * D * dt), T)
        assert abs(F - shifted) < 4 * se
        err[dt] = (exact - F, se)
    assert err[1e-3][0] > 4 * err[1e-3][1]
    # ... and the error shrinks as dt -> 0
    (e3, s3), (e4, s4) = err[1e-3], err[1e-4]
    assert e3 - e4 > 4 * math.hypot(s3, s4)
    # bridge removes the bias even at the coarse step
    F, se = F_end(params(1e-3, T, n), n, seed=32)
    assert abs(F - exact) < 4 * se


@pytest.mark.slow
def test_end_of_step_undercounts_at_paper_dt():
    n, T, dt = 1_000_000, 0.1, 1e-4
    F, se = F_end(params(dt, T, n, absorption="end-of-step"), n, seed=33)
    assert f_free(10, 5, T) - F > 4 * se
    assert abs(F - f_free(10, 5 - BGK * math.sqrt(2 * D * dt), T)) < 4 * se
    Fb, seb = F_end(params(dt, T, n), n, seed=34)
    assert abs(Fb - f_free(10, 5, T)) < 4 * seb


def test_half_space_equals_free_space_with_image_receiver():
    # TX on the plane x = 0, RX at (10, 0, 0): reflected motion = folded free motion, so the
    # half-space count equals the free-space count of RX + its mirror image (method of images)
    n, dt, T = 100_000, 1e-3, 0.3
    tx = ((0.0, 0.0, 10.0),)
    half = params(dt, T, n, tx=tx, plane_point=((0.0, 0, 0),), plane_normal=((1.0, 0, 0),))
    free2 = params(dt, T, n, tx=tx, rx=((10.0, 0, 0), (-10.0, 0, 0)), rr=(5.0, 5.0))
    Fh, sh = F_end(half, n, seed=41)
    Ff, sf = F_end(free2, n, seed=42)
    assert abs(Fh - Ff) < 4 * math.hypot(sh, sf)
    assert Fh > 4 * sh  # not a vacuous comparison
    # by symmetry the free-space run splits evenly between RX and image
    r = fixed_step_kernel(free2, ChunkTask(0, 0, n, 42))
    a, b = r.n_absorbed
    assert abs(a - b) < 4 * math.sqrt(a + b)


BOX = {"type": "box", "min": [20, -20, -20], "max": [24, 20, 20]}


@pytest.mark.parametrize(
    ("extra", "dt"),
    [
        ({"obstacles": [BOX]}, 1e-3),  # traced reflections (plane + box)
        ({"degradation_rate": 2.0}, 1e-4),  # folded plane, lifetimes
        ({"receivers": [{"center": [10, 0, 0], "radius": 5, "reaction_rate": 10.0}]}, 1e-4),
    ],
    ids=["box", "degradation", "reactive"],
)
def test_same_seed_same_result_any_threads_and_chunking(extra, dt):
    sc = {
        "D": D,
        "transmitter": {"position": [0, 0, 10], "molecules": 3000},
        "receivers": [{"center": [10, 0, 0], "radius": 5}],
        "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
        "time": {"end": 0.2, "dt": dt},
        **extra,
    }
    old = numba.get_num_threads()
    runs = []
    try:
        for threads, chunk in ((1, 3000), (2, 3000), (2, 700)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            runs.append(simulate(sc, seed=9, chunk_size=chunk, executor="inline"))
    finally:
        numba.set_num_threads(old)
    ref = runs[0]
    assert ref.n_absorbed.sum() > 20
    # exact equality: one compiled kernel, per-molecule streams (same code path for any thread
    # count or chunking)
    for r in runs[1:]:
        assert np.array_equal(r.counts, ref.counts)
        assert np.array_equal(r.absorption_times[0], ref.absorption_times[0])
    other = simulate(sc, seed=10, executor="inline")
    assert not np.array_equal(other.absorption_times[0], ref.absorption_times[0])


def test_multiple_transmitters_release_times_and_plate_blocking():
    # two transmitters; the second releases later: its molecules are all absorbed later
    sc = {
        "D": D,
        "transmitters": [
            {"position": [-10, 0, 0], "molecules": 2000},
            {"position": [10, 0, 8], "molecules": 2000, "release_time": 0.1},
        ],
        "receivers": [{"center": [10, 0, 0], "radius": 5}],
        "time": {"end": 0.2, "dt": 1e-3},
    }
    p, n = params_from_scenario(sc)
    assert n == 4000
    rx, t, _ = _simulate_arrays(p, ChunkTask(0, 0, n, 1), False)
    late = t[2000:][rx[2000:] >= 0]
    assert late.size > 100 and late.min() > 0.1
    # a reflecting plate between a TX and the receiver blocks it: free space expects
    # 1e4 F_free(20 µm, 0.2 s) ~ 19 molecules (P(none) ~ 4e-9), the plate lets none through
    one = {k: v for k, v in sc.items() if k != "transmitters"}
    one["transmitter"] = {"position": [-10, 0, 0], "molecules": 10_000}
    plate = {"obstacles": [{"type": "box", "min": [-3, -30, -30], "max": [-1, 30, 30]}]}
    p_free, _ = params_from_scenario(one)
    rx_free, _, _ = _simulate_arrays(p_free, ChunkTask(0, 0, 10_000, 1), False)
    F, expected = (rx_free >= 0).mean(), f_free(20, 5, 0.2)
    assert abs(F - expected) < 4 * math.sqrt(expected * (1 - expected) / 10_000)
    p2, _ = params_from_scenario({**one, **plate})
    rx2, _, _ = _simulate_arrays(p2, ChunkTask(0, 0, 10_000, 1), False)
    assert (rx2 >= 0).sum() == 0
    # n_molecules override splits over transmitters in proportion
    p3, n3 = params_from_scenario(sc, n_molecules=1001)
    assert n3 == 1001 and sorted(p3.tx_weight) == [500, 501]


def test_destruction_radius_warns_and_biases_low():
    sc = {
        "D": D,
        "transmitter": {"position": [0, 0, 0], "molecules": 20_000},
        "receivers": [{"center": [10, 0, 0], "radius": 5}],
        "time": {"end": 0.3, "dt": 1e-3},
    }
    with pytest.warns(UserWarning, match="biased"):
        r = simulate(sc, seed=2, destruction_radius=12.0, executor="inline")
    ref = simulate(sc, seed=2, executor="inline")
    assert ref.F[-1] - r.F[-1] > 4 * ref.F_se[-1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"absorption": "sticky"}, "absorption must be one of"),
        ({"reflection": "bounce"}, "reflection must be one of"),
        ({"dt": -1e-4}, "dt must be"),
        ({"n_molecules": 0}, "n_molecules must be >= 1"),
    ],
)
def test_bad_arguments_one_line_errors(kwargs, match):
    sc = {
        "D": D,
        "transmitter": {"position": [0, 0, 0]},
        "receivers": [{"center": [9, 0, 0], "radius": 5}],
    }
    with pytest.raises(ValueError, match=match) as exc:
        simulate(sc, executor="inline", **kwargs)
    assert "\n" not in str(exc.value)


@pytest.mark.slow
def test_1e8_molecules_run_in_bounded_memory():
    # 1e8 molecules (3 steps each, so it is quick) in a fresh process: peak RSS < 1 GiB. The peak
    # is the process's own high-water mark (VmHWM, reset by exec); ru_maxrss would also count the
    # pytest process it was forked from (Linux keeps ru_maxrss across exec).
    import subprocess
    import sys

    code = (
        "import resource\n"
        "from mcvd.sim import simulate\n"
        "sc = {'D': 79.4, 'transmitter': {'position': [0, 0, 5.2]},\n"
        "      'receivers': [{'center': [0, 0, 0], 'radius': 5}], 'time': {'end': 3e-4}}\n"
        "r = simulate(sc, n_molecules=10**8, seed=1, executor='inline', chunk_size=10**6)\n"
        "assert r.absorption_times is None and r.n_molecules == 10**8\n"
        "try:\n"
        "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
        "    peak = int(hwm[0].split()[1])\n"
        "except (OSError, IndexError):\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(r.n_absorbed.sum(), peak)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    absorbed, maxrss_kib = (int(v) for v in out.stdout.split())
    assert maxrss_kib < 1024**2
    assert 0 < absorbed < 10**8
