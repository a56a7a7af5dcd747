"""Escape experiments: gradient descent started next to a minimizer that is too sharp for its step.

Linearised at a minimizer ``w*`` the GD error obeys ``e_{t+1} = (I - eta H) e_t``, so the component
along the top Hessian eigenvector ``v_1`` is multiplied by ``q = |1 - eta lambda_max|`` per step.
For ``eta > 2 / lambda_max`` (``q > 1``) a start at distance ``rho`` along ``v_1`` leaves any ball of
radius ``rho_esc`` after about ``ln(rho_esc / rho) / ln q`` steps; for ``eta < 2 / lambda_max`` the
component shrinks and the tangent (zero-eigenvalue) components do not move to first order.

Escape criterion (documented and used everywhere in this module): a run **escapes** at the first
recorded step ``t`` with ``||w_t - w*|| >= escape_radius``; the default ``escape_radius`` is
``1000 * radius`` (three decades of growth, still deep inside the linear regime for the default
``radius = 1e-9``, so that the measured step can be compared with the linear prediction). The
predicted escape step is ``ln(escape_radius / |c_0|) / ln q`` with ``c_0 = <w_0 - w*, v_1>``
(``c_0 = radius`` for a start along ``v_1``: the formula ``ln(rho_esc / rho) / ln|1 - eta
lambda_max|``); it is ``None`` when ``q <= 1`` or ``c_0 = 0``. In exact linear dynamics the first
crossing happens at ``ceil(prediction)``, i.e. ``0 <= measured - predicted < 1``.

Outcome of each run (:data:`OUTCOMES`): ``"stayed"`` (never escaped), ``"converged"`` (escaped,
then reached a minimizer: relative residual ``||P - M|| / ||M|| <= converge_rtol``), ``"oscillating"``
(escaped, finite, but no minimizer reached within the step budget: persistent oscillation, or a
convergence slower than the budget — inspect the trace), ``"diverged"`` (non-finite values or a loss
above the divergence bound).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .closed_forms import flattest_sharpness
from .factorization import Factorization, check_count, check_positive, check_scale
from .gd import GDResult, gd_batch
from .operators import j_apply, jt_apply
from .spectrum import k_matrix, sharpness

__all__ = [
    "DIRECTIONS",
    "ESCAPE_STEP_TOLERANCE",
    "OUTCOMES",
    "SHARPNESS_TOLERANCE",
    "EscapeClaimsReport",
    "EscapeResult",
    "EscapeRun",
    "check_escape_claims",
    "escape",
    "escape_table",
    "null_direction",
    "predicted_escape_step",
]

OUTCOMES = ("stayed", "converged", "oscillating", "diverged")
DIRECTIONS = ("v1", "vN", "random")


@dataclass(frozen=True)
class EscapeRun:
    """One step size of an escape experiment.

    Attributes
    ----------
    eta, eta_factor : float
        Step size and ``eta_factor = eta * lambda_max / 2``.
    escaped : bool
        Whether ``||w_t - w*|| >= escape_radius`` at some recorded step.
    escape_step : int or None
        First such step.
    predicted_escape_step : float or None
        ``ln(escape_radius / |c_0|) / ln|1 - eta lambda_max|`` (``None`` if not unstable).
    outcome : str
        One of :data:`OUTCOMES`.
    final_sharpness : float or None
        ``lambda_max`` at the last iterate (``None`` when diverged): exact at a minimizer,
        Lanczos on the analytic Hessian otherwise.
    final_relative_residual : float
        ``||P - M|| / ||M||`` at the last (finite) iterate.
    gd : GDResult
        The full run with its trace (``trace.component`` is ``<w_t - w*, v_1>``).
    """

    eta: float
    eta_factor: float
    escaped: bool
    escape_step: int | None
    predicted_escape_step: float | None
    outcome: str
    final_sharpness: float | None
    final_relative_residual: float
    gd: GDResult = field(repr=False)

    @property
    def threshold(self) -> float:
        """``2 / eta``: the largest sharpness of a minimizer that is stable for this step."""
        return 2.0 / self.eta

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays; ``None`` for missing values)."""
        return {
            "eta": self.eta,
            "eta_factor": self.eta_factor,
            "escaped": self.escaped,
            "escape_step": self.escape_step,
            "predicted_escape_step": self.predicted_escape_step,
            "outcome": self.outcome,
            "final_sharpness": self.final_sharpness,
            "two_over_eta": self.threshold,
            "final_relative_residual": self.final_relative_residual,
            "status": self.gd.status,
            "n_steps": self.gd.n_steps,
        }


@dataclass(frozen=True)
class EscapeResult:
    """An escape experiment: one minimizer, one perturbation, several step sizes.

    Attributes
    ----------
    start : Factorization
        The minimizer ``w*``.
    lambda_max : float
        Its exact sharpness.
    flattest : float or None
        ``2c L sigma_1(M)^{2(L-1)/L}``, the smallest sharpness of any minimizer of ``M``: no
        minimizer is stable for ``eta > 2 / flattest``. ``None`` on data (no closed form).
    v1 : tuple of ndarray
        Top Hessian eigenvector at ``w*`` (unit norm over all blocks).
    direction : str
        Perturbation direction (see :data:`DIRECTIONS`).
    radius, escape_radius : float
        Start distance ``rho`` and escape radius.
    scale : float
        Loss scale ``c``.
    steps : int
        Step budget per run.
    runs : tuple of EscapeRun
        One per step-size factor, in input order.
    """

    start: Factorization = field(repr=False)
    lambda_max: float
    flattest: float | None
    v1: tuple = field(repr=False)
    direction: str
    radius: float
    escape_radius: float
    scale: float
    steps: int
    runs: tuple[EscapeRun, ...]

    def to_dict(self) -> dict:
        """JSON-ready summary with the list ``runs``."""
        return {
            "lambda_max": self.lambda_max,
            "eta_threshold": 2.0 / self.lambda_max,
            "flattest": self.flattest,
            "eta_flattest": None if self.flattest is None else 2.0 / self.flattest,
            "direction": self.direction,
            "radius": self.radius,
            "escape_radius": self.escape_radius,
            "scale": self.scale,
            "steps": self.steps,
            "dims": list(self.start.dims),
            "runs": [
                {
                    **r.to_dict(),
                    "final_sharpness_over_two_over_eta": _ratio(r.final_sharpness, r.threshold),
                    "final_sharpness_over_flattest": _ratio(r.final_sharpness, self.flattest),
                }
                for r in self.runs
            ],
        }


def predicted_escape_step(
    lambda_max: float, eta: float, radius: float, escape_radius: float
) -> float | None:
    """Linear prediction ``ln(escape_radius / radius) / ln|1 - eta lambda_max|`` of the escape step.

    Parameters
    ----------
    lambda_max : float
        Sharpness at the minimizer.
    eta : float
        Step size.
    radius : float
        Start component ``|<w_0 - w*, v_1>|`` (the start distance for a start along ``v_1``).
    escape_radius : float
        Escape radius.

    Returns
    -------
    float or None
        Steps (not rounded); ``None`` when ``|1 - eta lambda_max| <= 1`` (no linear escape) or
        ``radius == 0``.

    Examples
    --------
    >>> round(predicted_escape_step(1.0, 2.2, 1e-9, 1e-6), 3)   # q = 1.2
    37.888
    >>> predicted_escape_step(1.0, 1.9, 1e-9, 1e-6) is None
    True
    """
    q = abs(1.0 - eta * lambda_max)
    if q <= 1.0 or radius <= 0:
        return None
    return math.log(escape_radius / radius) / math.log(q)


def _least_involved_basis_vector(v1: np.ndarray) -> np.ndarray:
    """The coordinate vector ``e_j`` with ``j = argmin_j |v1[j]|`` (null_direction's default seed)."""
    u = np.zeros(v1.size)
    u[int(np.argmin(np.abs(v1)))] = 1.0
    return u


def null_direction(fac: Factorization, seed_vector=None) -> tuple[np.ndarray, ...]:
    """A unit vector of the Hessian's null space at a minimizer (eigenvalue 0, the smallest).

    At a minimizer the Hessian is ``2c J^T J``, so its null space is ``ker J`` with
    ``J[U] = sum_k A_k U_k B_k``. The vector returned is the normalized orthogonal projection
    ``u - J^T K^+ J u`` of ``seed_vector`` onto ``ker J`` (``K = J J^T``, pseudo-inverted densely;
    ``d_L d_0 <= 4096``). Default ``seed_vector``: the coordinate vector ``e_j`` of the parameter
    least involved in the top eigenvector (``j = argmin_j |v_1[j]|``), a deterministic choice.
    In the scalar case the null space is ``(L-1)``-dimensional and this picks one element of it.

    Parameters
    ----------
    fac : Factorization
        A minimizer.
    seed_vector : array_like, optional
        Flat vector to project (length ``n_params``).

    Returns
    -------
    tuple of ndarray
        Per-layer blocks, unit norm.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization, hvp
    >>> fac = Factorization([np.array([[2.0]]), np.array([[3.0]])])
    >>> u = null_direction(fac)
    >>> np.allclose(fac.join(hvp(fac, u)), 0.0)
    True
    """
    fac.require_minimizer(what="fac (null_direction)")
    if seed_vector is None:
        u = _least_involved_basis_vector(fac.join(sharpness(fac).eigenvector))
    else:
        u = np.asarray(seed_vector, dtype=np.float64)
        if u.shape != (fac.n_params,):
            raise ValueError(f"seed_vector: expected shape ({fac.n_params},), got {u.shape}")
    blocks = fac.split(u)
    Ju = j_apply(fac, blocks)
    X = np.linalg.lstsq(k_matrix(fac), Ju.ravel(), rcond=None)[0].reshape(Ju.shape)
    proj = [b_ - jx for b_, jx in zip(blocks, jt_apply(fac, X))]
    n = np.linalg.norm(fac.join(proj))
    if n <= 1e-12 * max(np.linalg.norm(u), 1e-300):
        raise ValueError("seed_vector: has no component in the Hessian's null space")
    return tuple(p / n for p in proj)


def _unit_direction(fac: Factorization, direction: str, v1: np.ndarray, rng) -> np.ndarray:
    if direction == "v1":
        return v1
    if direction == "vN":  # null_direction's default seed, from the v1 computed already
        return fac.join(null_direction(fac, _least_involved_basis_vector(v1)))
    g = np.random.default_rng(rng)
    u = g.standard_normal(fac.n_params)
    return u / np.linalg.norm(u)


def escape(
    fac: Factorization,
    eta_factors: Sequence[float] = (0.9, 0.99, 1.01, 1.1),
    *,
    steps: int = 5000,
    radius: float = 1e-9,
    escape_radius: float | None = None,
    direction: str = "v1",
    scale: float = 0.5,
    rng=None,
    record_every: int = 1,
    sharpness_every: int | None = None,
    converge_rtol: float = 1e-9,
    rtol_minimizer: float = 1e-10,
    keep_iterates: bool = False,
) -> EscapeResult:
    """Run GD from ``w* + radius * u`` for ``eta = (2 / lambda_max) * f`` and each factor ``f``.

    See the module docstring for the escape criterion, the prediction and the outcome labels.

    Parameters
    ----------
    fac : Factorization
        A minimizer ``w*`` (``ValueError`` otherwise).
    eta_factors : sequence of float, default (0.9, 0.99, 1.01, 1.1)
        Step sizes in units of the stability threshold ``2 / lambda_max``; each finite, > 0.
    steps : int, default 5000
        Step budget per run (>= 1).
    radius : float, default 1e-9
        Start distance ``rho > 0`` (Euclidean, over all parameters).
    escape_radius : float, optional
        Escape radius (> ``radius``); default ``1000 * radius``.
    direction : {"v1", "vN", "random"}, default "v1"
        Perturbation direction: top Hessian eigenvector, a null-space vector
        (:func:`null_direction`) or a uniformly random unit vector (uses ``rng``).
    scale : float, default 0.5
        Loss scale ``c``.
    rng : Generator, SeedSequence or int, optional
        For ``direction="random"``.
    record_every : int, default 1
        Trace cadence; the escape step is resolved to this many steps.
    sharpness_every : int, optional
        Sharpness/balance cadence of the traces (``None``: no sharpness trace; the final
        sharpness of each run is computed in any case).
    converge_rtol : float, default 1e-9
        A run that has escaped stops as converged once ``||P - M|| / ||M|| <= converge_rtol``.
    rtol_minimizer : float, default 1e-10
        Tolerance for accepting ``fac`` as a minimizer.
    keep_iterates : bool, default False
        Store the iterates in the traces (for trajectory plots; small problems).

    Returns
    -------
    EscapeResult

    Examples
    --------
    >>> from dmfsharp import scalar_minimizer
    >>> res = escape(scalar_minimizer(5, rng=0), eta_factors=(0.9, 1.1), steps=400)
    >>> [(r.escaped, r.escape_step, round(r.predicted_escape_step or 0, 1)) for r in res.runs]
    [(False, None, 0), (True, 38, 37.9)]
    """
    if not isinstance(fac, Factorization):
        raise TypeError(f"fac: expected a Factorization, got {type(fac).__name__}")
    c = check_scale(scale)
    factors = [check_positive(f, "eta_factors") for f in eta_factors]
    if not factors:
        raise ValueError("eta_factors: need at least one factor")
    steps = check_count(steps, "steps")
    radius = check_positive(radius, "radius")
    escape_radius = 1e3 * radius if escape_radius is None else escape_radius
    escape_radius = check_positive(escape_radius, "escape_radius")
    if escape_radius <= radius:
        raise ValueError(f"escape_radius: must exceed radius = {radius:g}, got {escape_radius:g}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    fac.require_minimizer(rtol_minimizer, what="fac (escape start)")
    top = sharpness(fac, scale=c, rtol_minimizer=rtol_minimizer)
    lam = top.lambda_max
    if not lam > 0:
        raise ValueError("fac: sharpness is 0 (zero product), so GD is stable for every eta")
    v1 = fac.join(top.eigenvector)
    u = _unit_direction(fac, direction, v1, rng)
    start = fac.with_vector(fac.to_vector() + radius * u)
    c0 = abs(float((start.to_vector() - fac.to_vector()) @ v1))
    etas = [2.0 / lam * f for f in factors]
    runs_gd = gd_batch(
        [start] * len(etas),
        etas,
        steps,
        scale=c,
        record_every=record_every,
        sharpness_every=sharpness_every,
        references=[fac] * len(etas),
        directions=[v1] * len(etas),
        stop_rtol=converge_rtol,
        stop_after_distance=escape_radius,
        keep_iterates=keep_iterates,
    )
    runs = tuple(_summarize(r, f, lam, c0, escape_radius, c) for r, f in zip(runs_gd, factors))
    return EscapeResult(
        start=fac,
        lambda_max=lam,
        flattest=None if fac.data is not None else flattest_sharpness(fac.target, fac.depth, c),
        v1=top.eigenvector,
        direction=direction,
        radius=radius,
        escape_radius=escape_radius,
        scale=c,
        steps=steps,
        runs=runs,
    )


def _summarize(
    r: GDResult, factor: float, lam: float, c0: float, escape_radius: float, c: float
) -> EscapeRun:
    step = r.trace.first_step_where(r.trace.distance >= escape_radius)
    escaped = step is not None
    if r.status == "diverged":
        outcome = "diverged"
    elif not escaped:
        outcome = "stayed"
    elif r.status == "converged":
        outcome = "converged"
    else:
        outcome = "oscillating"
    final_sharp = None
    if outcome != "diverged":
        final_sharp = float(sharpness(r.final, scale=c, rng=0).lambda_max)
    return EscapeRun(
        eta=r.eta,
        eta_factor=factor,
        escaped=escaped,
        escape_step=step,
        predicted_escape_step=predicted_escape_step(lam, r.eta, c0, escape_radius),
        outcome=outcome,
        final_sharpness=final_sharp,
        final_relative_residual=float(r.final.relative_residual()),
        gd=r,
    )


def _ratio(x: float | None, y: float | None) -> float | None:
    return None if x is None or y is None else x / y


def _fmt(x, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def escape_table(result: EscapeResult) -> str:
    """Markdown table of an :class:`EscapeResult` (one row per step size).

    Examples
    --------
    >>> from dmfsharp import scalar_minimizer
    >>> print(escape_table(escape(scalar_minimizer(3, rng=0), (1.1,), steps=50)).splitlines()[0])
    | eta factor | eta | escaped | escape step | predicted | outcome | final sharpness | 2/eta | final / flattest |
    """
    lines = [
        "| eta factor | eta | escaped | escape step | predicted | outcome | final sharpness "
        "| 2/eta | final / flattest |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result.runs:
        lines.append(
            f"| {r.eta_factor:g} | {r.eta:.4g} | {'yes' if r.escaped else 'no'} "
            f"| {_fmt(r.escape_step, 'd')} | {_fmt(r.predicted_escape_step, '.1f')} "
            f"| {r.outcome} | {_fmt(r.final_sharpness, '.5g')} | {r.threshold:.5g} "
            f"| {_fmt(_ratio(r.final_sharpness, result.flattest), '.4f')} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ claim checks
#: Escape-step tolerance used by :func:`check_escape_claims`: ``measured - predicted`` must lie in
#: ``[lo, hi]``. Exact linear dynamics give ``[0, 1)`` (first integer step past the crossing).
#: The margin 0.05 covers the non-linear correction up to ``escape_radius = 1e3 * radius``: the
#: per-step growth factor changes by a relative ``O(|e_t|)``, which summed over the geometric
#: trajectory shifts the crossing by ``O(escape_radius / (q - 1)^2)`` steps, ``< 1e-2`` for
#: ``escape_radius = 1e-6`` and ``q - 1 >= 0.02`` (delta >= 0.01).
ESCAPE_STEP_TOLERANCE = (-0.05, 1.05)

#: Relative tolerance of "new minimizer sharpness <= 2 / eta": the final iterate has a relative
#: residual <= ``converge_rtol`` and its sharpness is that of the limit up to the remaining
#: distance, which at ``converge_rtol = 1e-9`` is far below 1e-6 relative.
SHARPNESS_TOLERANCE = 1e-6


@dataclass(frozen=True)
class EscapeClaimsReport:
    """The paper's escape claims checked over many random minimizers.

    Attributes
    ----------
    claims : tuple of Claim
        ``escape_above``, ``stay_below``, ``escape_step``, ``new_minimizer_stable``,
        ``no_convergence_beyond_flattest`` (:class:`dmfsharp.closed_forms.Claim`).
    n_minimizers : int
        Number of random minimizers.
    depths : tuple of int
        Depths cycled through.
    deltas : tuple of float
        ``eta = (2 / lambda_max)(1 +- delta)``.
    max_step_error : tuple of float
        Smallest and largest ``measured - predicted`` escape step.
    max_sharpness_ratio : float
        Largest ``final_sharpness / (2 / eta)`` over converged runs (``nan`` if none).
    counts : dict
        Outcome counts per run kind (``"above"``, ``"below"``, ``"beyond_flattest"``).
    """

    claims: tuple
    n_minimizers: int
    depths: tuple[int, ...]
    deltas: tuple[float, ...]
    max_step_error: tuple[float, float]
    max_sharpness_ratio: float
    counts: dict

    @property
    def all_hold(self) -> bool:
        """Whether every claim that applies holds."""
        return all(cl.holds for cl in self.claims if cl.applies)

    def to_markdown(self) -> str:
        """The claims as a markdown table."""
        verdict = {True: "holds", False: "FAILS", None: "n/a"}
        rows = ["| claim | verdict | detail |", "|---|---|---|"]
        rows += [f"| {cl.statement} | {verdict[cl.holds]} | {cl.detail} |" for cl in self.claims]
        return "\n".join(rows)


def _random_dims(depth: int, max_width: int, g: np.random.Generator) -> tuple[int, ...]:
    outer = g.integers(1, max_width, size=2)
    hidden = g.integers(2, max_width + 1, size=depth - 1)
    return (int(outer[0]), *map(int, hidden), int(outer[1]))


def check_escape_claims(
    n_minimizers: int = 100,
    *,
    depths: Sequence[int] = (3, 4, 5, 6),
    deltas: Sequence[float] = (0.01, 0.1),
    beyond_flattest: float = 1.1,
    steps: int = 1500,
    radius: float = 1e-9,
    max_width: int = 4,
    scale: float = 0.5,
    seed=0,
    direction: str = "v1",
) -> EscapeClaimsReport:
    """Check the escape claims (linear stability and the paper's claims) on random Gaussian minimizers.

    For minimizer ``i`` (depth ``depths[i % len(depths)]``, outer widths uniform in
    ``1..max_width-1``, hidden widths uniform in ``2..max_width``, factors from
    :func:`dmfsharp.gaussian_minimizer`), GD starts ``radius`` away along ``v_1`` (or ``direction``) with
    ``eta = (2 / lambda_max)(1 +- delta)`` for every ``delta`` and with
    ``eta = beyond_flattest * 2 / flattest``. Claims:

    * every run above the threshold escapes; no run below it escapes (within ``steps``);
    * measured - predicted escape step lies in :data:`ESCAPE_STEP_TOLERANCE` (above-threshold
      and beyond-flattest runs; the former all share ``q = 1 + 2 delta``, the latter have
      varied ``q``);
    * every converged run ends at a minimizer with sharpness ``<= (2 / eta)(1 + tol)``
      (:data:`SHARPNESS_TOLERANCE`);
    * no run with ``eta > 2 / flattest`` converges to a minimizer.

    Parameters
    ----------
    n_minimizers : int, default 100
    depths : sequence of int, default (3, 4, 5, 6)
    deltas : sequence of float, default (0.01, 0.1)
        Each in (0, 1).
    beyond_flattest : float, default 1.1
        Factor (> 1) on ``2 / flattest`` for the last run.
    steps : int, default 1500
        Step budget per run; must exceed the predicted escape step of the smallest ``delta``
        (``ln(1000) / ln(1 + 2 delta)`` = 349 steps for ``delta = 0.01``).
    radius : float, default 1e-9
        Start distance (escape radius ``1000 * radius``).
    max_width : int, default 4
    scale : float, default 0.5
    seed : int or SeedSequence, default 0
        One ``SeedSequence`` child per minimizer.
    direction : {"v1", "random"}, default "v1"
        Start direction. With ``"random"`` (a generic start) the escape-step claim does not
        apply: other unstable eigendirections may carry the escape.

    Returns
    -------
    EscapeClaimsReport

    Examples
    --------
    >>> rep = check_escape_claims(4, depths=(3,), steps=600)
    >>> rep.all_hold
    True
    """
    from .closed_forms import Claim
    from .constructors import gaussian_minimizer

    n_minimizers = check_count(n_minimizers, "n_minimizers")
    deltas = tuple(float(d) for d in deltas)
    if not deltas or not all(0 < d < 1 for d in deltas):
        raise ValueError(f"deltas: need values in (0, 1), got {deltas}")
    if not beyond_flattest > 1:
        raise ValueError(f"beyond_flattest: must be > 1, got {beyond_flattest!r}")
    depths = tuple(check_count(d, "depths") for d in depths)
    max_width = check_count(max_width, "max_width", minimum=2)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    kinds = [("below", -d) for d in deltas] + [("above", d) for d in deltas]
    counts = {k: dict.fromkeys(OUTCOMES, 0) for k in ("below", "above", "beyond_flattest")}
    step_err: list[float] = []
    ratios: list[float] = []
    for i, child in enumerate(ss.spawn(n_minimizers)):
        g = np.random.default_rng(child)
        fac = gaussian_minimizer(_random_dims(depths[i % len(depths)], max_width, g), rng=g)
        lam = sharpness(fac, scale=scale).lambda_max
        flat = flattest_sharpness(fac.target, fac.depth, scale=scale)
        factors = [1 + d for _, d in kinds] + [beyond_flattest * lam / flat]
        res = escape(
            fac, factors, steps=steps, radius=radius, scale=scale, direction=direction, rng=g
        )
        for kind, run in zip([k for k, _ in kinds] + ["beyond_flattest"], res.runs):
            counts[kind][run.outcome] += 1
            if kind != "below" and run.escaped:  # beyond_flattest runs: larger, varied q
                step_err.append(run.escape_step - run.predicted_escape_step)
            if run.outcome == "converged":
                ratios.append(run.final_sharpness * run.eta / 2.0)
    n_dir = n_minimizers * len(deltas)
    lo, hi = (min(step_err), max(step_err)) if step_err else (float("nan"),) * 2
    tol_lo, tol_hi = ESCAPE_STEP_TOLERANCE
    max_ratio = max(ratios) if ratios else float("nan")
    beyond = counts["beyond_flattest"]
    claims = (
        Claim(
            "escape_above",
            f"GD started {radius:g} along {direction} escapes when eta = (2/lambda_max)(1 + delta)"
            " (paper)",
            True,
            n_dir - counts["above"]["stayed"] == n_dir,
            f"{n_dir - counts['above']['stayed']}/{n_dir} runs escaped",
        ),
        Claim(
            "stay_below",
            "no escape when eta = (2/lambda_max)(1 - delta) (linear stability)",
            True,
            counts["below"]["stayed"] == n_dir,
            f"{counts['below']['stayed']}/{n_dir} runs stayed",
        ),
        Claim(
            "escape_step",
            "escape step = ln(rho_esc/rho)/ln|1 - eta lambda_max| (linear theory)",
            direction == "v1",
            None if direction != "v1" else len(step_err) >= n_dir and tol_lo <= lo and hi <= tol_hi,
            f"{len(step_err)} escapes: measured - predicted in [{lo:.3f}, {hi:.3f}] "
            f"(tolerance [{tol_lo}, {tol_hi}])",
        ),
        Claim(
            "new_minimizer_stable",
            "after escaping, GD converges only to minimizers with sharpness <= 2/eta (paper)",
            True,
            not ratios or max_ratio <= 1 + SHARPNESS_TOLERANCE,
            f"{len(ratios)} converged runs; max sharpness * eta / 2 = {max_ratio:.6f}",
        ),
        Claim(
            "no_convergence_beyond_flattest",
            "eta > 2/lambda_flattest: GD converges to no minimizer (no stable minimizer exists)",
            True,
            beyond["converged"] == 0,
            f"{n_minimizers} runs: {beyond['oscillating']} oscillating, "
            f"{beyond['diverged']} diverged, {beyond['converged']} converged",
        ),
    )
    return EscapeClaimsReport(
        claims=claims,
        n_minimizers=n_minimizers,
        depths=depths,
        deltas=deltas,
        max_step_error=(lo, hi),
        max_sharpness_ratio=max_ratio,
        counts=counts,
    )
