"""Communication layer: slot probabilities, the exact count law, BER, information rate.

Ground truths: brute-force enumeration of every ISI pattern, closed forms of the no-ISI channel,
binomial tails from scipy, the exact capture of the Kelvin series, Le Cam's Poisson bound.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from mcvd.comm import (
    SlotProbabilities,
    approximation_errors,
    ber,
    ber_vs_molecules,
    ber_vs_symbol_duration,
    count_law,
    detect,
    law_moments,
    mutual_information,
    signal_measures,
    slot_probabilities,
    tail_union_bound,
)
from mcvd.core.geometry import Geometry, Sphere, Transmitter
from mcvd.core.models import capture, response
from scipy import stats

D = 79.4  # µm²/s


def paper():
    return Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])


def two_transmitters(release=0.3):
    return Geometry(
        D,
        (Transmitter((0, 0, 10), 1), Transmitter((0, 0, -25), 1, release)),
        (Sphere((10, 0, 0), 5),),
    )


# ----------------------------------------------------------------------------- brute force
def brute_force_law(p, q_rows, N, n_int, p1):
    """Law of C | b by enumerating every pattern of earlier (and interfering) bits."""
    terms = [(N, pj) for pj in p[1:]] + [(n, qj) for n, row in zip(n_int, q_rows) for qj in row]
    size = N + sum(n for n, _ in terms) + 1
    out = np.zeros((2, size))
    for pattern in itertools.product((0, 1), repeat=len(terms)):
        w = math.prod(p1 if b else 1 - p1 for b in pattern)
        dist = np.ones(1)
        for b, (n, pj) in zip(pattern, terms):
            if b:
                dist = np.convolve(dist, stats.binom.pmf(np.arange(n + 1), n, pj))
        for bit in (0, 1):
            d = np.convolve(dist, stats.binom.pmf(np.arange(N * bit + 1), N * bit, p[0]))
            out[bit, : d.size] += w * d
    return out


def on_grid(law, size):
    out = np.zeros((2, size))
    out[:, law.counts[0] : law.counts[0] + law.counts.size] = law.pmf
    return out


@pytest.mark.parametrize("p1", [0.5, 0.3])
def test_exact_law_equals_brute_force_enumeration(p1):
    p = np.array([0.31, 0.12, 0.05, 0.02])  # memory 3: 8 ISI patterns
    q = np.array([[0.04, 0.03, 0.02, 0.01]])  # one interferer: 16 more patterns
    N, n_int = 7, (5,)
    slots = SlotProbabilities.from_values(p, interference=q)
    law = count_law(slots, N, p1, interferer_molecules=n_int)
    ref = brute_force_law(p, q, N, n_int, p1)
    got = on_grid(law, ref.shape[1])
    nz = ref > 0
    assert np.all(got[~nz] == 0)
    # every entry to a few ulps relative, down to the smallest (~1e-25 here)
    assert ref[nz].min() < 1e-20
    assert np.max(np.abs(got[nz] / ref[nz] - 1)) < 1e-13
    # and the BER at every threshold
    for tau in range(ref.shape[1] + 1):
        b_ref = p1 * ref[1, :tau].sum() + (1 - p1) * ref[0, tau:].sum()
        assert law.ber(tau) == pytest.approx(b_ref, rel=1e-12, abs=1e-300)


def test_law_sums_to_one_and_matches_the_moments():
    s = slot_probabilities(paper(), 1.0, 10)
    for N in (10, 1000, 20000):
        law = count_law(s, N)
        assert law.mass_error < 50 * np.finfo(float).eps
        assert np.all(np.abs(law.pmf.sum(axis=1) - 1) < 1e-13)
        mean, var = law_moments(s, N)
        np.testing.assert_allclose(law.mean(), mean, rtol=1e-12)
        np.testing.assert_allclose(law.variance(), var, rtol=1e-10)
    # the moments are the Σ p_j terms
    p = s.p
    N = 1000
    mean, var = law_moments(s, N, 0.5)
    assert mean[1] - mean[0] == pytest.approx(N * p[0], rel=1e-14)
    assert mean[0] == pytest.approx(0.5 * N * p[1:].sum(), rel=1e-14)
    assert var[0] == pytest.approx(
        np.sum(0.5 * N * p[1:] * (1 - p[1:]) + 0.25 * (N * p[1:]) ** 2), rel=1e-14
    )


def test_far_tails_keep_their_relative_accuracy():
    # no ISI, threshold 1: BER = p1 (1 - p0)^N exactly; here 1e-12 and 1e-124
    for N, p0 in [(77, 0.3), (800, 0.3)]:
        r = detect(count_law(SlotProbabilities.from_values([p0]), N, 0.5))
        assert r.threshold == 1
        truth = 0.5 * math.exp(N * math.log1p(-p0))
        assert r.ber == pytest.approx(truth, rel=1e-12)
    # one ISI slot: P(C >= tau | 0) = p1 * binom.sf(tau - 1, N, p1) down to ~1e-200
    N, pj = 1000, 0.02
    law = count_law(SlotProbabilities.from_values([0.3, pj]), N, 0.5)
    for tau in (60, 120, 250):
        truth = 0.5 * stats.binom.sf(tau - 1, N, pj)
        assert truth < 1e-12
        assert law.false_alarm(tau) == pytest.approx(truth, rel=1e-11)


def test_paper_topology_headline():
    g = paper()
    r = ber(g, 1.0, 1000, 10)
    assert r.threshold == 243
    assert r.ber == pytest.approx(7.118e-10, rel=1e-3)
    assert r.ber_error < 1e-6 * r.ber  # the exact model's error estimate barely moves it
    assert r.optimal and r.law.approximation == "exact" and not r.law.approximate
    k = ber(g, 1.0, 1000, 10, model="kamber2024")
    assert k.ber == pytest.approx(5.362e-12, rel=1e-3)
    pois = ber(g, 1.0, 1000, 10, approximation="poisson")
    assert pois.law.approximate
    assert pois.ber == pytest.approx(9.28e-9, rel=1e-3) and pois.threshold == 238
    d = r.to_dict()
    for key in ("ber", "threshold", "slot_probabilities", "tail", "model", "memory"):
        assert key in d
    assert d["molecules"] == 1000 and d["symbol_duration"] == 1.0 and d["memory"] == 10


def test_optimal_threshold_is_the_minimum_over_all_thresholds():
    s = slot_probabilities(paper(), 0.5, 6)
    law = count_law(s, 300, 0.4)
    r = detect(law)
    every = [law.ber(t) for t in range(int(law.counts[-1]) + 2)]
    assert r.ber == min(every)
    assert r.threshold == int(np.argmin(every))
    fixed = detect(law, r.threshold + 3)
    assert fixed.ber > r.ber and not fixed.optimal


def test_tail_against_the_exact_capture_and_the_union_bound():
    g = paper()
    s = slot_probabilities(g, 1.0, 10)
    F11 = response(g, [11.0], model="exact").F[0]
    assert s.tail + F11 == pytest.approx(capture(g).F_inf, abs=2e-9)
    assert s.tail <= tail_union_bound(g, 0, 11.0)
    assert s.tail_molecules(1000) == pytest.approx(500 * s.tail)
    # the slot probabilities are the differences of F
    F = response(g, np.arange(12) * 1.0, model="exact").F
    np.testing.assert_allclose(s.p, np.diff(F), atol=1e-9)


def test_poisson_limit_within_le_cam():
    base = np.array([0.3, 0.1, 0.05]) * 20  # expected counts N p_j
    tv = []
    for N in (100, 1000, 10000):
        p = base / N
        s = SlotProbabilities.from_values(p)
        pois, _ = approximation_errors(s, N, 0.5)
        # Le Cam: TV(Bin(N, p), Poisson(N p)) <= N p^2; a mixture or a convolution adds them
        bound = N * p[0] ** 2 + 0.5 * np.sum(N * p[1:] ** 2)
        assert max(pois.total_variation) <= bound
        tv.append(max(pois.total_variation))
    assert tv[2] < tv[1] / 5 < tv[0] / 25  # O(p): tenfold more molecules, tenfold closer


def test_approximations_are_labelled_and_measured():
    s = slot_probabilities(paper(), 1.0, 10)
    pois, gauss = approximation_errors(s, 1000)
    assert pois.approximation == "poisson" and gauss.approximation == "gaussian"
    assert pois.ber_ratio == pytest.approx(13.04, rel=1e-2)
    assert gauss.ber > 1e3 * gauss.ber_exact  # ISI mixtures are far from normal
    assert pois.true_ber_at_threshold >= pois.ber_exact
    law = count_law(s, 1000, approximation="gaussian")
    assert law.approximate and law.counts[0] < 0  # the normal law reaches negative counts


def test_ber_monotone_without_isi():
    # memory 0: C | 0 = 0, so tau = 1 and BER = p1 (1 - F(T_s))^N falls with T_s and with N
    g = paper()
    T = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    sw = ber_vs_symbol_duration(g, T, 20, 0, models=("exact", "images-ho"))
    assert np.all(np.diff(sw.ber, axis=1) < 0)
    F = response(g, T, model="exact").F
    np.testing.assert_allclose(sw.ber[0], 0.5 * (1 - F) ** 20, rtol=1e-6)
    s = slot_probabilities(g, 0.5, 0)
    swn = ber_vs_molecules(s, [1, 2, 5, 10, 50])
    assert np.all(np.diff(swn.ber[0]) < 0)
    assert swn.ratio(s.model).tolist() == [[1.0] * 5]


def test_sweep_table_and_ratios():
    sw = ber_vs_symbol_duration(paper(), [0.5, 1.0], 1000, models="kamber2024,exact")
    assert sw.models == ("kamber2024", "exact")
    r = sw.ratio("exact")
    assert np.all(r[1] == 1) and r[0, 1] < 0.02
    text = sw.table()
    assert "kamber2024 / exact" in text and text.count("\n") == 3


def test_mutual_information():
    assert mutual_information(0.0, 0.0, 0.5) == 1.0
    assert mutual_information(0.5, 0.5, 0.5) == 0.0
    h = -(0.11 * math.log2(0.11) + 0.89 * math.log2(0.89))
    assert mutual_information(0.11, 0.11) == pytest.approx(1 - h, rel=1e-14)
    # asymmetric channel: brute-force mutual information from the joint law
    a, b, p1 = 0.02, 0.3, 0.3
    joint = np.array([[(1 - p1) * (1 - a), (1 - p1) * a], [p1 * b, p1 * (1 - b)]])
    px, py = joint.sum(1), joint.sum(0)
    ref = float(np.sum(joint * np.log2(joint / np.outer(px, py))))
    assert mutual_information(a, b, p1) == pytest.approx(ref, rel=1e-13)
    r = ber(paper(), 0.5, 500, 5)
    assert 0 < r.information <= 1 and r.information_rate == pytest.approx(r.information / 0.5)
    assert r.max_information_rate >= r.information_rate


def test_signal_measures():
    s = SlotProbabilities.from_values([0.3, 0.1, 0.05], interference=[[0.02, 0.01, 0.0]], tail=0.01)
    m = signal_measures(s, 100, 0.5, interferer_molecules=200)
    assert m.signal == pytest.approx(30.0)
    assert m.isi == pytest.approx(7.5) and m.isi_worst == pytest.approx(15.0)
    assert m.interference == pytest.approx(3.0)
    assert m.sir == pytest.approx(4.0) and m.sinr == pytest.approx(30 / 10.5)
    assert m.eye_opening == pytest.approx(30 - 15 - 6)
    assert m.tail == pytest.approx(0.5)
    assert m.isi_fraction == pytest.approx(0.15 / 0.45)


def test_second_transmitter_interferes_with_its_offset():
    T, m = 1.0, 4
    g = two_transmitters(release=0.3)
    s = slot_probabilities(g, T, m)
    assert s.n_interferers == 1 and s.interference_offsets.tolist() == [0.3]
    tx2 = g.with_transmitter((0, 0, -25))
    t = np.clip(np.arange(m + 2) * T - 0.3, 0, None)
    np.testing.assert_allclose(s.interference[0], np.diff(response(tx2, t, "exact").F), atol=1e-9)
    alone = slot_probabilities(g.with_transmitter((0, 0, 10)), T, m)
    np.testing.assert_allclose(s.p, alone.p, atol=1e-12)
    r_int = ber(g, T, 200, m)
    r_alone = ber(g.with_transmitter((0, 0, 10)), T, 200, m)
    assert r_int.ber > r_alone.ber
    assert r_int.law.interferer_molecules == (200,)
    mean, _ = law_moments(s, 200)
    assert r_int.law.mean()[0] == pytest.approx(mean[0], rel=1e-12)
    # swapping the roles: the second transmitter is the signal, the first interferes at 0.7 s
    s2 = slot_probabilities(g, T, m, transmitter=1)
    assert s2.interference_offsets.tolist() == pytest.approx([0.7])


def test_slot_probabilities_from_a_simulation_carry_standard_errors():
    from mcvd.sim.result import SimulationResult

    rng = np.random.default_rng(5)
    n = 4000
    t = rng.exponential(0.4, n)  # a made-up channel: every molecule absorbed, mean 0.4 s
    res = SimulationResult.from_absorptions(np.zeros(n, int), t, n, [0.0, 3.0], 1)
    s = slot_probabilities(res, 0.5, 3, geometry=paper())
    counts = np.histogram(t, bins=np.arange(5) * 0.5)[0]
    np.testing.assert_allclose(s.p, counts / n, rtol=1e-15)
    np.testing.assert_allclose(s.se, np.sqrt(s.p * (1 - s.p) / n))
    assert s.model == "simulation" and s.tail is None and s.n_samples == n
    assert s.tail_bound >= float(np.mean(t > 2.0))  # at least what was seen after the memory
    r = ber(s, 0.5, 30, 3)
    assert r.ber_se is not None and 0 < r.ber_se < r.ber
    with pytest.raises(ValueError, match=r"memory.*horizon"):
        slot_probabilities(res, 0.5, 6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold": -1}, "threshold must be >= 0"),
        ({"threshold": 2.5}, "threshold must be an integer"),
        ({"symbol_duration": 0.0}, "symbol_duration must be > 0"),
        ({"symbol_duration": -1.0}, "symbol_duration must be > 0"),
        ({"symbol_duration": float("nan")}, "symbol_duration must be finite"),
        ({"molecules": 10.5}, "molecules must be an integer"),
        ({"molecules": 0}, "molecules must be >= 1"),
        ({"molecules": float("nan")}, "molecules must be an integer"),
        ({"p1": 1.5}, r"p1 must be in \[0, 1\]"),
        ({"p1": -0.1}, r"p1 must be in \[0, 1\]"),
        ({"p1": float("nan")}, "p1 must be finite"),
        ({"memory": -1}, "memory must be >= 0"),
        ({"memory": 2.5}, "memory must be an integer"),
        ({"memory": 10**9}, "memory must be <= 100000"),
        ({"model": "nope"}, "model must be one of"),
        ({"approximation": "normal"}, "approximation must be one of"),
        ({"receiver": 3}, "receiver must be < 1"),
    ],
)
def test_bad_input_is_one_clear_line(kwargs, match):
    args = {"symbol_duration": 1.0, "molecules": 100, "memory": 3}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as info:
        ber(paper(), **args)
    assert "\n" not in str(info.value)


def test_nan_and_impossible_slot_probabilities_are_refused():
    with pytest.raises(ValueError, match="finite"):
        SlotProbabilities.from_values([0.3, float("nan")])
    with pytest.raises(ValueError, match="sum to"):
        SlotProbabilities.from_values([0.7, 0.4])
    with pytest.raises(ValueError, match="< 0"):
        SlotProbabilities.from_values([0.3, -0.01])
    with pytest.raises(ValueError, match="tail"):
        SlotProbabilities.from_values([0.3], tail=float("nan"))
    with pytest.raises(TypeError, match="SlotProbabilities"):
        count_law([0.3, 0.1], 10)


def test_work_budget_refuses_absurd_laws():
    s = SlotProbabilities.from_values(np.full(200, 0.004))
    with pytest.raises(ValueError, match="multiply-adds"):
        count_law(s, 1_000_000, max_work=1e8)


def test_certain_priors_and_degenerate_laws():
    s = SlotProbabilities.from_values([0.3, 0.1])
    never = detect(count_law(s, 20, 0.0))  # only zeros are sent: decide 0 always
    assert never.ber == 0.0 and never.false_alarm == 0.0 and never.information == 0.0
    always = detect(count_law(s, 20, 1.0))
    assert always.ber == 0.0 and always.threshold == 0
    g = detect(count_law(SlotProbabilities.from_values([0.4]), 30, approximation="gaussian"))
    assert g.law.pmf[0, g.law.counts == 0] == 1.0  # no ISI: C | 0 = 0 exactly, also here
    assert g.threshold >= 1


def test_ber_against_memory_settles_as_the_tail_shrinks():
    from mcvd.comm import ber_vs_memory

    g = paper()
    sw = ber_vs_memory(g, 1.0, 1000, [10, 100, 1000], models=("exact",))
    assert np.all(np.diff(sw.tail[0]) < 0) and np.all(np.diff(sw.ber[0]) > 0)
    F = response(g, [11.0, 101.0, 1001.0], model="exact").F
    np.testing.assert_allclose(sw.tail[0], capture(g).F_inf - F, atol=2e-9)
    assert sw.memory.tolist() == [10, 100, 1000]
    # the growth slows down: 10 -> 100 is a factor 9, 100 -> 1000 a factor 1.5
    assert sw.ber[0, 1] / sw.ber[0, 0] > 5 > 2 > sw.ber[0, 2] / sw.ber[0, 1]
