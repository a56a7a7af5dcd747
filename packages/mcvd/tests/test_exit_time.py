"""Exit time of 3-D Brownian motion from a ball centre: law and sampler (fixed seeds)."""

import math

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

from mcvd.sim import exit_time as et
from scipy import integrate, stats


def test_two_series_agree_where_both_converge():
    # small-time (erfc/Gaussian) and large-time (eigenfunction) forms are independent derivations
    tau = np.linspace(0.05, 1.5, 60)
    a = 2.0 * np.arange(12) + 1.0
    F_small = 2.0 / np.sqrt(np.pi * tau) * np.exp(-(a[:, None] ** 2) / (4 * tau)).sum(axis=0)
    n = np.arange(1, 30)[:, None]
    S_large = 2.0 * ((-1.0) ** (n + 1) * np.exp(-(n**2) * np.pi**2 * tau)).sum(axis=0)
    # two code paths (the module switches from a 6-term small-time series to 1 - S of the
    # large-time series at tau = 0.25; here 12 and 29 terms): values <= 1 compared within
    # 1e-15 = 4.5 ulp(1), a bound on the rounding of either sum whatever the CPU's exp kernel
    np.testing.assert_allclose(F_small + S_large, 1.0, atol=1e-14)
    np.testing.assert_allclose(et.cdf(tau), F_small, atol=1e-15)
    np.testing.assert_allclose(et.survival(tau), S_large, atol=1e-15)


@pytest.mark.parametrize("s", [0.3, 2.0, 25.0, 400.0])
def test_density_has_laplace_transform_sqrt_s_over_sinh(s):
    val, _ = integrate.quad(lambda t: math.exp(-s * t) * et.pdf([t])[0], 0, np.inf, limit=200)
    assert val == pytest.approx(math.sqrt(s) / math.sinh(math.sqrt(s)), rel=1e-8)


def test_density_is_derivative_of_cdf():
    tau = np.geomspace(0.01, 3.0, 40)
    h = 1e-6 * tau
    # difference the representation without cancellation: F at small tau, S near F = 1
    dF = et.cdf(tau + h) - et.cdf(tau - h)
    dS = et.survival(tau - h) - et.survival(tau + h)
    num = np.where(tau < 0.25, dF, dS) / (2 * h)
    np.testing.assert_allclose(et.pdf(tau), num, rtol=1e-6, atol=1e-12)


def test_tabulated_inverse_matches_root_finder_at_both_ends():
    assert et.table_max_relative_error(600) < 1e-10


def test_sample_moments_within_4se():
    tau = et.sample_exit_tau(400_000, rng=np.random.default_rng(11))
    # E[tau] = 1/6, E[tau^2] = 7/180 from sqrt(s)/sinh(sqrt(s)) = 1 - s/6 + 7 s^2/360 - ...
    se1 = tau.std() / math.sqrt(tau.size)
    se2 = (tau**2).std() / math.sqrt(tau.size)
    assert abs(tau.mean() - 1 / 6) < 4 * se1
    assert abs((tau**2).mean() - 7 / 180) < 4 * se2


def test_ks_whole_small_and_large_times():
    rng = np.random.default_rng(2024)
    tau = et.sample_exit_tau(200_000, rng=rng)
    assert stats.kstest(tau, et.cdf).pvalue > 1e-3
    # small times: conditional law on tau < 0.03 (F(0.03) ~ 2e-3)
    c = 0.03
    small = tau[tau < c]
    assert small.size > 200
    Fc = et.cdf([c])[0]
    assert stats.kstest(small, lambda x: et.cdf(x) / Fc).pvalue > 1e-3
    # large times: conditional law on tau > 0.6 (the exponential tail), against S
    big = tau[tau > 0.6]
    assert big.size > 200
    S0 = et.survival([0.6])[0]
    assert stats.kstest(big, lambda x: 1.0 - et.survival(x) / S0).pvalue > 1e-3
    # and the fraction in each region is binomially consistent with the law
    for frac, p in [(small.size / tau.size, Fc), (big.size / tau.size, S0)]:
        assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / tau.size)


def test_deep_tail_sampled_analytically():
    # v below S(1) uses tau = log(2/v)/pi^2; compare with the full series inverted by Newton
    v = np.array([1e-5, 1e-30, 1e-200])
    got = np.array([et.tau_from_uniform(x) for x in v])
    np.testing.assert_allclose(et.survival(got), v, rtol=1e-12)


def test_exit_time_scales_with_radius_and_D():
    t = et.sample_exit_time(1000, radius=2.0, D=3.0, rng=5)
    tau = et.sample_exit_tau(1000, rng=5)
    np.testing.assert_allclose(t, tau * 4.0 / 3.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"radius": -1.0, "D": 1.0}, "radius"), ({"radius": 1.0, "D": 0.0}, "D")],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        et.sample_exit_time(3, rng=0, **kwargs)
    with pytest.raises(ValueError, match="tau"):
        et.cdf([-1.0])
