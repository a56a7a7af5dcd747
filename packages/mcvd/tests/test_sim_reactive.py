"""Fixed-step simulator with reactive receivers and degrading molecules, against closed forms.

References written out here, independently of the code under test: the Collins–Kimball response
of a reactive sphere in free space, the free-space response of degrading molecules, and their
combination by quadrature of the Laplace-shift identity ``F_deg(t) = int f(tau) exp(-k_d tau)``.
Statistical checks: fixed seeds, 4 standard errors.
"""

import math
import warnings

import numpy as np
import pytest
from mcvd.sim import simulate
from mcvd.sim.fixedstep import FixedStepParams, fixed_step_kernel
from mcvd.sim.params import REACTION_P_MAX, REACTION_P_WARN, reaction_probability
from mcvd.sim.runner import ChunkTask
from scipy.integrate import quad
from scipy.special import erfc, erfcx

D = 79.4
R0, A = 10.0, 5.0  # TX-centre distance and radius (µm)
K_HALF = D / A  # reaction rate constant (µm/s) with k a / (k a + D) = 1/2


def F_collins_kimball(t, r0, a, k):
    """Reactive sphere in free space (Collins & Kimball 1949); exp(.) erfc(.) as erfcx."""
    z = (r0 - a) / math.sqrt(4 * D * t)
    alpha = 1 / a + k / D
    w = z + alpha * math.sqrt(D * t)
    return a / r0 * k * a / (k * a + D) * (erfc(z) - erfcx(w) * math.exp(-z * z))


def F_degrading(t, r0, a, kd):
    """Absorbing sphere, molecules degrading at rate kd (1/s), free space."""
    z = (r0 - a) / math.sqrt(4 * D * t)
    s, g = math.sqrt(kd * t), (r0 - a) * math.sqrt(kd / D)
    return a / r0 * 0.5 * (math.exp(-g) * erfc(z - s) + erfcx(z + s) * math.exp(-z * z - kd * t))


def F_shifted(F, t, kd):
    """int_0^t f(tau) exp(-kd tau) dtau = exp(-kd t) F(t) + kd int_0^t exp(-kd tau) F(tau)."""
    integral = quad(lambda tau: math.exp(-kd * tau) * F(tau), 0, t, epsabs=1e-13, limit=200)[0]
    return math.exp(-kd * t) * F(t) + kd * integral


def run(dt, T, n, seed, *, k=(), kd=0.0, absorption="bridge", **kw):
    p = FixedStepParams(
        D, dt, T, ((0.0, 0, 0),), (0.0,), (n,), ((R0, 0, 0),), (A,), absorption=absorption,
        bin_edges=(0.0, T / 2, T), rx_reaction_rate=k, degradation_rate=kd, **kw,
    )  # fmt: skip
    r = fixed_step_kernel(p, ChunkTask(0, 0, n, seed))
    return r.F[-1], r.F_se[-1]


def test_reference_formulas_have_the_right_limits():
    # the reference itself: k -> inf and kd -> 0 give the absorbing free-space response
    t = 0.3
    F_abs = A / R0 * erfc((R0 - A) / math.sqrt(4 * D * t))
    assert math.isclose(F_collins_kimball(t, R0, A, 1e12), F_abs, rel_tol=1e-9)
    assert math.isclose(F_degrading(t, R0, A, 1e-14), F_abs, rel_tol=1e-9)
    assert math.isclose(F_shifted(lambda s: F_degrading(s, R0, A, 1e-14), t, 2.0),
                        F_degrading(t, R0, A, 2.0), rel_tol=1e-7)  # fmt: skip
    # long-time capture of the reactive sphere (a / r0) k a / (k a + D)
    assert math.isclose(F_collins_kimball(1e9, R0, A, K_HALF), 0.25, rel_tol=1e-3)


def test_reactive_receiver_matches_collins_kimball():
    n, T, dt = 20_000, 0.3, 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # P = 0.032 per crossing warns
        F, se = run(dt, T, n, 3, k=(K_HALF,))
        # reactive receivers are tested at the end of the step in both modes: same numbers
        assert (F, se) == run(dt, T, n, 3, k=(K_HALF,), absorption="end-of-step")
    exact = F_collins_kimball(T, R0, A, K_HALF)
    assert abs(F - exact) < 4 * se
    # not vacuous: the absorbing receiver catches far more
    F_abs, se_abs = run(dt, T, n, 3)
    assert F_abs - F > 10 * math.hypot(se, se_abs)


def test_degradation_matches_the_free_space_formula():
    n, T, dt, kd = 20_000, 0.5, 1e-4, 2.0
    F, se = run(dt, T, n, 5, kd=kd)
    assert abs(F - F_degrading(T, R0, A, kd)) < 4 * se
    F0, se0 = run(dt, T, n, 5)
    assert F0 - F > 4 * math.hypot(se, se0)  # same streams: degradation removes hits


def test_degradation_at_a_coarse_step_uses_the_midpoint_of_the_lifetime():
    # dt = 1e-3 with kd = 20/s: losing the whole step in which a molecule dies would bias F by
    # ~ kd dt / 2 = 1 % relative; the midpoint rule is O((kd dt)^2)
    n, T, dt, kd = 40_000, 0.3, 1e-3, 20.0
    F, se = run(dt, T, n, 6, kd=kd)
    assert abs(F - F_degrading(T, R0, A, kd)) < 4 * se


def test_reactive_receiver_with_degradation_matches_the_shifted_response():
    n, T, dt, kd = 20_000, 0.4, 1e-4, 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F, se = run(dt, T, n, 7, k=(K_HALF,), kd=kd)
    exact = F_shifted(lambda s: F_collins_kimball(s, R0, A, K_HALF), T, kd)
    assert abs(F - exact) < 4 * se
    assert F_collins_kimball(T, R0, A, K_HALF) - exact > 8 * se


def test_reaction_probability_is_refused_above_its_bound_and_warns_below_it():
    k = 40.0
    assert math.isclose(reaction_probability(k, D, 1e-5, warn=False),
                        k * math.sqrt(math.pi * 1e-5 / D), rel_tol=1e-15)  # fmt: skip
    assert reaction_probability(math.inf, D, 1.0) == 1.0
    dt_max = D / math.pi * (REACTION_P_MAX / k) ** 2
    with pytest.raises(ValueError, match=r"^dt: reaction_rate 40 µm/s .* use dt <= ") as exc:
        reaction_probability(k, D, 1.01 * dt_max)
    assert "\n" not in str(exc.value)
    with pytest.warns(UserWarning, match="biased"):
        assert REACTION_P_WARN < reaction_probability(k, D, 0.99 * dt_max) <= REACTION_P_MAX
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reaction_probability(k, D, dt_max * (REACTION_P_WARN / REACTION_P_MAX) ** 2 * 0.99)
    # through the scenario: the largest allowed time step is named
    sc = {
        "D": D,
        "transmitter": {"position": [0, 0, 0], "molecules": 10},
        "receivers": [{"center": [R0, 0, 0], "radius": A, "reaction_rate": k}],
        "time": {"end": 0.1, "dt": 1e-3},
    }
    with pytest.raises(ValueError, match=r"use dt <= 0\.000158 s"):
        simulate(sc, seed=1, executor="inline")


def test_metadata_records_the_physics():
    p = FixedStepParams(D, 1e-4, 0.1, ((0.0, 0, 0),), (0.0,), (10,), ((R0, 0, 0),), (A,),
                        rx_reaction_rate=(10.0,), degradation_rate=2.0)  # fmt: skip
    meta = p.metadata()
    assert meta["degradation_rate"] == 2.0 and meta["reaction_rate"] == [10.0]
    assert "Erban & Chapman" in meta["reaction_scheme"]
    plain = FixedStepParams(D, 1e-4, 0.1, ((0.0, 0, 0),), (0.0,), (10,), ((R0, 0, 0),), (A,))
    assert "reaction_rate" not in plain.metadata() and "degradation_rate" not in plain.metadata()


@pytest.mark.slow
def test_reactive_scheme_is_first_order_in_the_reaction_probability():
    # F(P) at three time steps, fitted by F0 + s P: the extrapolation P -> 0 agrees with
    # Collins-Kimball within 4 SE; the effective rate constant is too large by ~0.5 P relative
    # plus a curvature term ~0.3-0.8 sqrt(2 D dt) / a (here ~0.2-0.6 P): ~1.1 P, +-0.4 at this N
    n, T = 200_000, 0.5
    exact = F_collins_kimball(T, R0, A, K_HALF)
    dF_dlnk = (F_collins_kimball(T, R0, A, K_HALF * 1.001) - exact) / math.log(1.001)
    P, F, se = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, dt in enumerate((4e-4, 1e-4, 2.5e-5)):
            f, s = run(dt, T, n, 40 + j, k=(K_HALF,))
            P.append(reaction_probability(K_HALF, D, dt, warn=False))
            F.append(f)
            se.append(s)
    P, F, se = map(np.asarray, (P, F, se))
    X = np.column_stack([np.ones_like(P), P])
    W = np.diag(1 / se**2)
    cov = np.linalg.inv(X.T @ W @ X)
    F0, slope = cov @ X.T @ W @ F
    assert abs(F0 - exact) < 4 * math.sqrt(cov[0, 0])
    rel_k_per_P = slope / dF_dlnk
    assert 0 < rel_k_per_P < 2.5
