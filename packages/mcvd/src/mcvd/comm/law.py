"""The law of the slot count given the current bit, exactly and in two common approximations.

On-off keying with i.i.d. bits, ``P(b = 1) = p1``: the count of slot ``k`` is

    C_k = Bin(N b_k, p_0) + sum_{j=1}^{m} Bin(N b_{k-j}, p_j)
          + sum_{interferers i} sum_{j=0}^{m} Bin(N_i b^i_{k-j}, q^i_j),

every term independent (molecules move independently; a molecule is absorbed at most once, but
the terms of one slot come from different releases). Averaging the earlier and the interfering
bits, each ISI term is the mixture ``(1 - p1) delta_0 + p1 Bin(N, p_j)``, so the law of ``C_k``
given ``b_k`` is the convolution of ``Bin(N b_k, p_0)`` with these mixtures: ``m`` convolutions,
no enumeration of the ``2^m`` ISI patterns.

Numerics: every factor is a non-negative vector (binomial pmfs from ``scipy.stats.binom``, accurate
to a few ulps relative, also far in the tails) and the convolutions are direct sums of
non-negative products (``numpy.convolve``), so every entry of the law — also an entry of 1e-200 —
has a relative error of a few ulps times the number of factors: there is no cancellation and no
FFT round-off floor. Tail probabilities are summed from the small end (never ``1 - cdf``), so
a BER of 1e-12 (or 1e-200) keeps its relative accuracy. Entries below ``1e-300`` at either end
of the support are dropped as they arise (their total is reported as ``truncated_mass``); the
law then sums to 1 within a few ulps (checked: :attr:`CountLaw.mass_error`).

Approximations (labelled as such in the result, see :func:`count_law`):

``poisson``
    Every ``Bin(N, p)`` replaced by ``Poisson(N p)`` (the ISI mixtures kept): the
    large-``N``, small-``p`` limit (Le Cam: total-variation error at most ``N p^2`` per term).
``gaussian``
    A normal law with the exact conditional mean and variance of ``C_k`` (ISI averaged), read
    on the integers with the continuity correction: ``P(C = k) = Phi((k + 1/2 - mu)/sigma) -
    Phi((k - 1/2 - mu)/sigma)``; its support includes negative counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from . import _checks
from .slots import SlotProbabilities

__all__ = ["APPROXIMATIONS", "CountLaw", "count_law", "law_moments"]

#: names of the laws :func:`count_law` computes
APPROXIMATIONS = ("exact", "poisson", "gaussian")
#: entries below this at either end of a support are dropped (their mass is reported)
FLOOR = 1e-300
#: the law must sum to 1 within this (plus the dropped mass); a larger defect is a bug
MASS_TOL = 1e-12
#: default budget of multiply-adds for the direct convolutions
MAX_WORK = 3e10


@dataclass(frozen=True, eq=False)
class CountLaw:
    """Law of the slot count ``C_k`` given the current bit ``b_k``.

    Attributes
    ----------
    counts : numpy.ndarray of int, shape (n,)
        Support (consecutive integers; may start below 0 for the Gaussian approximation).
    pmf : numpy.ndarray, shape (2, n)
        ``pmf[b, i] = P(C_k = counts[i] | b_k = b)``.
    approximation : str
        ``"exact"``, ``"poisson"`` or ``"gaussian"`` (the last two are approximations of the
        exact law for the same slot probabilities).
    molecules : int
        ``N``, molecules released per bit 1 by the signal transmitter.
    p1 : float
        Prior ``P(b = 1)`` of every bit (the signal's earlier bits and the interferers').
    slots : SlotProbabilities
        The ``p_j`` (and interferers' ``q_j``) the law is built from.
    interferer_molecules : tuple of int
        ``N_i`` of the interferers.
    mass_error : float
        ``max_b |sum pmf[b] - 1 + truncated_mass[b]|`` (a few ulps).
    truncated_mass : numpy.ndarray, shape (2,)
        Probability dropped below :data:`FLOOR` at the ends of the supports.
    """

    counts: np.ndarray
    pmf: np.ndarray
    approximation: str
    molecules: int
    p1: float
    slots: SlotProbabilities
    interferer_molecules: tuple = ()
    mass_error: float = 0.0
    truncated_mass: np.ndarray = field(default_factory=lambda: np.zeros(2))

    @property
    def approximate(self) -> bool:
        """True for the Poisson and Gaussian approximations."""
        return self.approximation != "exact"

    def mean(self) -> np.ndarray:
        """``E[C_k | b_k = b]`` for ``b = 0, 1`` from the pmf."""
        return self.pmf @ self.counts

    def variance(self) -> np.ndarray:
        """``Var[C_k | b_k = b]`` for ``b = 0, 1`` from the pmf."""
        mu = self.mean()
        return np.array([self.pmf[b] @ (self.counts - mu[b]) ** 2 for b in (0, 1)])

    def _index(self, tau) -> int:
        return int(np.clip(int(tau) - int(self.counts[0]), 0, self.counts.size))

    def false_alarm(self, threshold: int) -> float:
        """``P(C_k >= threshold | b_k = 0)``, summed from the small end."""
        i = self._index(_checks.threshold(threshold))
        return float(np.sum(self.pmf[0, i:][::-1]))

    def miss(self, threshold: int) -> float:
        """``P(C_k < threshold | b_k = 1)``."""
        i = self._index(_checks.threshold(threshold))
        return float(np.sum(self.pmf[1, :i]))

    def error_curves(self):
        """False-alarm and miss probabilities of every threshold ``0 ... counts[-1] + 1``.

        Returns
        -------
        thresholds : numpy.ndarray of int
        false_alarm, miss : numpy.ndarray
            ``P(C >= tau | 0)`` and ``P(C < tau | 1)`` for each threshold ``tau``.

        Examples
        --------
        >>> law = count_law(SlotProbabilities.from_values([0.5]), 2)
        >>> tau, fa, mi = law.error_curves()
        >>> tau.tolist(), fa.round(15).tolist(), mi.round(15).tolist()
        ([0, 1, 2, 3], [1.0, 0.0, 0.0, 0.0], [0.0, 0.25, 0.75, 1.0])
        """
        top = max(int(self.counts[-1]) + 1, 0)
        tau = np.arange(0, top + 1)
        # cumulative sums from the small end of each tail (relative accuracy of tiny tails)
        upper0 = np.concatenate([np.cumsum(self.pmf[0][::-1])[::-1], [0.0]])
        lower1 = np.concatenate([[0.0], np.cumsum(self.pmf[1])])
        idx = np.clip(tau - int(self.counts[0]), 0, self.counts.size)
        return tau, upper0[idx], lower1[idx]

    def ber(self, threshold: int) -> float:
        """``p1 P(C < tau | 1) + (1 - p1) P(C >= tau | 0)`` for the threshold ``tau``.

        Examples
        --------
        >>> law = count_law(SlotProbabilities.from_values([0.5]), 2)
        >>> round(law.ber(1), 15)  # decide 1 iff any molecule: misses (1/2)^2 of the ones
        0.125
        """
        return self.p1 * self.miss(threshold) + (1.0 - self.p1) * self.false_alarm(threshold)


# --------------------------------------------------------------------------- factors
def _trim(a: np.ndarray, offset: int):
    """Drop the ends of ``a`` below FLOOR; returns (a, offset, dropped mass)."""
    keep = np.flatnonzero(a >= FLOOR)
    if keep.size == 0:  # cannot happen for a probability vector; keep the largest entry
        k = int(np.argmax(a))
        return a[k : k + 1], offset + k, float(a.sum() - a[k])
    lo, hi = int(keep[0]), int(keep[-1]) + 1
    dropped = float(a[:lo].sum() + a[hi:].sum())
    return a[lo:hi], offset + lo, dropped


def _window(mean: float, sd: float, n: int | None):
    """Support window [lo, hi] outside which a binomial / Poisson pmf is far below FLOOR."""
    lo = max(0, int(mean - 40.0 * sd - 700))
    hi = int(mean + 40.0 * sd + 700)
    return lo, hi if n is None else min(n, hi)


def _binomial(n: int, p: float):
    """pmf of Bin(n, p) on its numerically non-zero support: (values, offset, dropped)."""
    if p <= 0.0 or n == 0:
        return np.ones(1), 0, 0.0
    if p >= 1.0:
        return np.ones(1), n, 0.0
    lo, hi = _window(n * p, math.sqrt(n * p * (1.0 - p)), n)
    v, off, dropped = _trim(stats.binom.pmf(np.arange(lo, hi + 1), n, p), lo)
    outside = (stats.binom.cdf(lo - 1, n, p) if lo > 0 else 0.0) + stats.binom.sf(hi, n, p)
    return v, off, dropped + float(outside)


def _poisson(lam: float):
    """pmf of Poisson(lam) on its numerically non-zero support: (values, offset, dropped)."""
    if lam <= 0.0:
        return np.ones(1), 0, 0.0
    lo, hi = _window(lam, math.sqrt(lam), None)
    v, off, dropped = _trim(stats.poisson.pmf(np.arange(lo, hi + 1), lam), lo)
    outside = (stats.poisson.cdf(lo - 1, lam) if lo > 0 else 0.0) + stats.poisson.sf(hi, lam)
    return v, off, dropped + float(outside)


def _mixture(term, p1: float):
    """``(1 - p1) delta_0 + p1 * term`` as (values, offset=0, dropped)."""
    v, off, dropped = term
    out = np.zeros(off + v.size)
    out[off:] = p1 * v
    out[0] += 1.0 - p1
    a, o, d = _trim(out, 0)
    return a, o, p1 * dropped + d


class _Convolver:
    """Running direct convolution of non-negative factors, with a work budget."""

    def __init__(self, max_work: float):
        self.v, self.off, self.dropped, self.work, self.max_work = np.ones(1), 0, 0.0, 0.0, max_work

    def add(self, factor):
        v, off, dropped = factor
        self.work += float(self.v.size) * float(v.size)
        if self.work > self.max_work:
            raise ValueError(
                f"molecules/memory: the exact count law needs more than {self.max_work:.0e} "
                "multiply-adds here; reduce memory or molecules, or use approximation='gaussian'"
            )
        conv = np.convolve(self.v, v)
        self.v, self.off, d = _trim(conv, self.off + off)
        self.dropped += dropped + d


def _factor(kind: str, n: int, p: float):
    return _binomial(n, p) if kind == "exact" else _poisson(n * p)


def law_moments(
    slots: SlotProbabilities, molecules: int, p1: float = 0.5, interferer_molecules=None
):
    """Exact mean and variance of ``C_k`` given ``b_k = 0, 1`` from the slot probabilities.

    ``E = N b p_0 + p1 sum_j N_j p_j`` and ``Var = N b p_0 (1 - p_0) + sum_j [p1 N_j p_j
    (1 - p_j) + p1 (1 - p1) N_j^2 p_j^2]`` over the ISI and interference terms ``j``.

    Returns
    -------
    mean, variance : numpy.ndarray, shape (2,)

    Examples
    --------
    >>> s = SlotProbabilities.from_values([0.4, 0.1])
    >>> [v.round(12).tolist() for v in law_moments(s, 10)]  # mean, variance for b = 0, 1
    [[0.5, 4.5], [0.7, 3.1]]
    """
    N = _checks.molecules(molecules)
    p1 = _checks.prior(p1)
    ns, ps = _isi_terms(slots, N, interferer_molecules)
    ns, ps = np.asarray(ns, float), np.asarray(ps, float)
    isi_mean = float(np.sum(p1 * ns * ps))
    isi_var = float(np.sum(p1 * ns * ps * (1 - ps) + p1 * (1 - p1) * (ns * ps) ** 2))
    p0 = float(slots.p[0])
    mean = np.array([isi_mean, isi_mean + N * p0])
    var = np.array([isi_var, isi_var + N * p0 * (1 - p0)])
    return mean, var


def _isi_terms(slots: SlotProbabilities, N: int, interferer_molecules):
    """(molecules, probability) of every mixture term: the signal's p_1..p_m, then every
    interferer's q_0..q_m."""
    n_i = _checks.interferer_counts(interferer_molecules, slots.n_interferers, N)
    ns = [N] * slots.memory
    ps = list(slots.p[1:])
    for n, q in zip(n_i, slots.interference):
        ns.extend([n] * q.size)
        ps.extend(q.tolist())
    return ns, ps


def count_law(
    slots: SlotProbabilities,
    molecules: int,
    p1: float = 0.5,
    *,
    approximation: str = "exact",
    interferer_molecules=None,
    max_work: float = MAX_WORK,
) -> CountLaw:
    """Law of the slot count given the current bit.

    Parameters
    ----------
    slots : SlotProbabilities
        ``p_0 ... p_m`` (and interferers' ``q_j``), e.g. from :func:`slot_probabilities`.
    molecules : int
        ``N`` >= 1, molecules released per bit 1.
    p1 : float
        Prior ``P(b = 1)`` in ``[0, 1]`` of every bit.
    approximation : {"exact", "poisson", "gaussian"}
        ``"exact"``: convolution of the binomial terms and ISI mixtures; the others are the
        approximations of the module description.
    interferer_molecules : int or sequence of int, optional
        Molecules per bit 1 of each interferer (default ``molecules``).
    max_work : float
        Budget of multiply-adds of the direct convolutions (``ValueError`` beyond).

    Returns
    -------
    CountLaw

    Examples
    --------
    One ISI slot, N = 2: ``C | b=0`` is ``1/2 delta_0 + 1/2 Bin(2, 0.25)``.

    >>> law = count_law(SlotProbabilities.from_values([0.5, 0.25]), 2)
    >>> law.counts.tolist(), law.pmf[0].tolist()
    ([0, 1, 2, 3, 4], [0.78125, 0.1875, 0.03125, 0.0, 0.0])
    >>> abs(float(law.pmf[1].sum()) - 1) < 1e-15
    True
    """
    if not isinstance(slots, SlotProbabilities):
        raise TypeError(f"slots must be a SlotProbabilities, got {type(slots).__name__}")
    N = _checks.molecules(molecules)
    p1 = _checks.prior(p1)
    if approximation not in APPROXIMATIONS:
        raise ValueError(f"approximation must be one of {APPROXIMATIONS}, got {approximation!r}")
    ns, ps = _isi_terms(slots, N, interferer_molecules)
    n_int = tuple(ns[slots.memory :: slots.memory + 1]) if slots.n_interferers else ()
    if approximation == "gaussian":
        counts, pmf, dropped = _gaussian(slots, N, p1, interferer_molecules)
    else:
        conv = _Convolver(float(max_work))
        for n, p in zip(ns, ps):
            if p > 0 and n > 0 and p1 > 0:
                conv.add(_mixture(_factor(approximation, n, p), p1))
        isi = (conv.v, conv.off, conv.dropped)
        conv.add(_factor(approximation, N, float(slots.p[0])))
        parts = [isi, (conv.v, conv.off, conv.dropped)]
        lo = min(o for _, o, _ in parts)
        hi = max(o + v.size for v, o, _ in parts)
        counts = np.arange(lo, hi)
        pmf = np.zeros((2, counts.size))
        for b, (v, o, _) in enumerate(parts):
            pmf[b, o - lo : o - lo + v.size] = v
        dropped = np.array([parts[0][2], parts[1][2]])
    mass = np.abs(pmf.sum(axis=1) - 1.0 + dropped)
    if float(mass.max()) > MASS_TOL:
        raise ArithmeticError(
            f"count law: the {approximation} law sums to 1 only within {mass.max():.1e}"
        )
    return CountLaw(
        counts=counts,
        pmf=pmf,
        approximation=approximation,
        molecules=N,
        p1=p1,
        slots=slots,
        interferer_molecules=tuple(int(v) for v in n_int),
        mass_error=float(mass.max()),
        truncated_mass=dropped,
    )


def _gaussian(slots, N, p1, interferer_molecules):
    """Continuity-corrected normal laws with the exact conditional moments."""
    mean, var = law_moments(slots, N, p1, interferer_molecules)
    sd = np.sqrt(var)
    lo = math.floor(min(mean - 40 * sd)) - 1
    hi = math.ceil(max(mean + 40 * sd)) + 1
    counts = np.arange(lo, hi + 1)
    pmf = np.zeros((2, counts.size))
    dropped = np.zeros(2)
    for b in (0, 1):
        if sd[b] == 0:
            pmf[b, round(mean[b]) - lo] = 1.0
            continue
        a = (counts - 0.5 - mean[b]) / sd[b]
        c = (counts + 0.5 - mean[b]) / sd[b]
        # differences of small cdfs left of the mean, of small survival functions right of it
        pmf[b] = np.where(
            c <= 0, stats.norm.cdf(c) - stats.norm.cdf(a), stats.norm.sf(a) - stats.norm.sf(c)
        )
        dropped[b] = stats.norm.cdf(a[0]) + stats.norm.sf(c[-1])
    return counts, pmf, dropped
