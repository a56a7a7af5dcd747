"""Threshold detection of on-off keying: BER, optimal threshold, information rate, sweeps.

A threshold detector decides ``b_k = 1`` iff the slot count ``C_k >= tau``. Its bit error rate is

    BER(tau) = p1 P(C_k < tau | b_k = 1) + (1 - p1) P(C_k >= tau | b_k = 0),

from the law of :func:`mcvd.comm.law.count_law` (the earlier bits averaged out). The optimal
threshold minimises it over all integers ``tau >= 0`` (ties: the smallest). With i.i.d. inputs the
detector turns the channel into a binary asymmetric channel with crossover probabilities
``alpha = P(C >= tau | 0)`` and ``beta = P(C < tau | 1)``; its mutual information
``I(b_k; b^_k) = H(p1 (1 - beta) + (1 - p1) alpha) - (1 - p1) H(alpha) - p1 H(beta)`` bits per
slot, divided by ``T_s``, is an achievable information rate (bits/s) of the channel with this
detector (symbol-by-symbol, ISI treated as noise).

Uncertainty of the slot probabilities is carried to the BER to first order: from a simulation
the ``p_j`` are multinomial (covariance ``(diag p - p p^T)/n``), giving :attr:`BERResult.ber_se`;
from the ``exact`` model their evaluation error bound gives :attr:`BERResult.ber_error`. The
gradient is a central difference of the BER at the fixed threshold.

Units: times in s, counts in molecules, rates in bits/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import entr

from . import _checks
from .law import CountLaw, _isi_terms, count_law
from .slots import SlotProbabilities, slot_probabilities

__all__ = [
    "ApproximationError",
    "BERResult",
    "BERSweep",
    "SignalMeasures",
    "approximation_errors",
    "ber",
    "ber_vs_memory",
    "ber_vs_molecules",
    "ber_vs_symbol_duration",
    "detect",
    "mutual_information",
    "signal_measures",
]


def _h2(x):
    """Binary entropy (bits), accurate for tiny ``x`` and ``1 - x``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(x < 1.0, -(1.0 - x) * np.log1p(-x), 0.0)
    return (entr(x) + rest) / math.log(2.0)


def mutual_information(false_alarm, miss, p1: float = 0.5):
    """Mutual information ``I(b; b^)`` (bits per slot) of the binary asymmetric channel.

    Parameters
    ----------
    false_alarm, miss : float or array_like
        ``P(b^ = 1 | b = 0)`` and ``P(b^ = 0 | b = 1)``.
    p1 : float
        Input prior ``P(b = 1)``.

    Returns
    -------
    float or numpy.ndarray
        Bits per slot, in ``[0, H(p1)]``.

    Examples
    --------
    >>> float(mutual_information(0.0, 0.0))
    1.0
    >>> round(float(mutual_information(0.11, 0.11)), 4)  # binary symmetric channel, 1 - H(0.11)
    0.5001
    """
    p1 = _checks.prior(p1)
    a, b = np.asarray(false_alarm, float), np.asarray(miss, float)
    q = p1 * (1.0 - b) + (1.0 - p1) * a
    out = _h2(q) - (1.0 - p1) * _h2(a) - p1 * _h2(b)
    out = np.clip(out, 0.0, None)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, eq=False)
class BERResult:
    """Bit error rate of a threshold detector.

    Attributes
    ----------
    ber : float
        ``p1 miss + (1 - p1) false_alarm``.
    threshold : int
        ``tau`` (decide 1 iff ``C_k >= tau``).
    optimal : bool
        True when ``tau`` was chosen to minimise the BER.
    false_alarm, miss : float
        ``P(C >= tau | 0)``, ``P(C < tau | 1)``.
    information : float
        Mutual information ``I(b_k; b^_k)`` (bits per slot) at this threshold.
    information_rate : float
        ``information / T_s`` (bits/s).
    max_information_rate : float
        The largest rate over all thresholds (bits/s).
    ber_se : float or None
        First-order standard error from the statistical uncertainty of the ``p_j`` (simulation).
    ber_error : float
        First-order bound from the evaluation error of the ``p_j`` (``exact``; 0 for closed forms).
    law : CountLaw
        The count law used (its ``approximation`` says whether it is exact).
    """

    ber: float
    threshold: int
    optimal: bool
    false_alarm: float
    miss: float
    information: float
    information_rate: float
    max_information_rate: float
    ber_se: float | None
    ber_error: float
    law: CountLaw

    @property
    def slots(self) -> SlotProbabilities:
        """The slot probabilities."""
        return self.law.slots

    @property
    def approximation(self) -> str:
        """``"exact"``, ``"poisson"`` or ``"gaussian"`` (the count law)."""
        return self.law.approximation

    def to_dict(self) -> dict:
        """JSON-ready dictionary: ``ber``, ``threshold``, ``slot_probabilities``, ``tail``,
        ``model``, ``memory``, ``molecules``, ``symbol_duration`` and the details.

        Examples
        --------
        >>> r = detect(count_law(SlotProbabilities.from_values([0.5, 0.1]), 10))
        >>> d = r.to_dict()
        >>> d["threshold"], d["memory"], d["approximation"]
        (3, 1, 'exact')
        """
        s = self.slots
        tail_bound = None if math.isinf(s.tail_bound) else s.tail_bound
        return {
            "ber": self.ber,
            "threshold": self.threshold,
            "optimal_threshold": self.optimal,
            "slot_probabilities": s.p.tolist(),
            "slot_probabilities_se": None if s.se is None else s.se.tolist(),
            "tail": s.tail,
            "tail_bound": tail_bound,
            "tail_note": s.tail_note,
            "tail_molecules": None
            if tail_bound is None
            else s.tail_molecules(self.law.molecules, self.law.p1),
            "model": s.model,
            "memory": s.memory,
            "molecules": self.law.molecules,
            "symbol_duration": s.symbol_duration,
            "p1": self.law.p1,
            "approximation": self.law.approximation,
            "false_alarm": self.false_alarm,
            "miss": self.miss,
            "information_bits_per_slot": self.information,
            "information_rate": self.information_rate,
            "max_information_rate": self.max_information_rate,
            "ber_se": self.ber_se,
            "ber_error": self.ber_error,
            "receiver": s.receiver,
            "transmitter": s.transmitter,
            "interference": s.interference.tolist(),
            "interference_offsets": s.interference_offsets.tolist(),
        }


def _optimal(law: CountLaw):
    tau, fa, mi = law.error_curves()
    b = law.p1 * mi + (1.0 - law.p1) * fa
    k = int(np.argmin(b))
    info = mutual_information(fa, mi, law.p1)
    return int(tau[k]), info


def _ber_gradient(law: CountLaw, tau: int):
    """Central-difference gradient of BER(tau) with respect to p_0..p_m and the interferers'
    q_j (same shapes as ``slots.p`` and ``slots.interference``)."""
    s = law.slots
    kw = dict(
        molecules=law.molecules,
        p1=law.p1,
        approximation=law.approximation,
        interferer_molecules=law.interferer_molecules or None,
    )

    def value(p, q):
        return count_law(s.with_values(p, q), **kw).ber(tau)

    def grad(arr, put):
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            h = max(1e-6 * arr[idx], 1e-12)
            up, dn = arr.copy(), arr.copy()
            up[idx] += h
            dn[idx] = max(dn[idx] - h, 0.0)
            g[idx] = (value(*put(up)) - value(*put(dn))) / (up[idx] - dn[idx])
        return g

    gp = grad(s.p, lambda p: (p, s.interference))
    gq = grad(s.interference, lambda q: (s.p, q))
    return gp, gq


def detect(law: CountLaw, threshold: int | None = None, *, uncertainty: bool = True) -> BERResult:
    """BER of the threshold detector on a count law (optimal threshold when none is given).

    Parameters
    ----------
    law : CountLaw
        From :func:`mcvd.comm.law.count_law`.
    threshold : int, optional
        ``tau >= 0`` (molecules); default: the BER-optimal threshold.
    uncertainty : bool
        Carry the uncertainty of the slot probabilities to the BER (``ber_se``, ``ber_error``;
        ``2 (m + 1)`` extra laws when the slots have any).

    Returns
    -------
    BERResult

    Examples
    --------
    No ISI, one slot with ``p_0 = 0.5``, 4 molecules: the optimal detector decides 1 on any
    molecule and misses ``(1/2)^4`` of the ones.

    >>> r = detect(count_law(SlotProbabilities.from_values([0.5]), 4))
    >>> r.threshold, round(r.ber, 15)
    (1, 0.03125)
    """
    if not isinstance(law, CountLaw):
        raise TypeError(f"law must be a CountLaw, got {type(law).__name__}")
    tau_opt, info_curve = _optimal(law)
    tau = tau_opt if threshold is None else _checks.threshold(threshold)
    fa, mi = law.false_alarm(tau), law.miss(tau)
    s = law.slots
    T = s.symbol_duration
    ber_se, ber_err = None, 0.0
    if uncertainty and (s.se is not None or s.error_bound > 0):
        gp, gq = _ber_gradient(law, tau)
        if s.n_samples:
            p = s.p
            cov = (np.diag(p) - np.outer(p, p)) / s.n_samples
            ber_se = float(math.sqrt(max(float(gp @ cov @ gp), 0.0)))
        elif s.se is not None:
            ber_se = float(math.sqrt(float(np.sum((gp * s.se) ** 2))))
        ber_err = float(s.error_bound * (np.abs(gp).sum() + np.abs(gq).sum()))
    info = float(mutual_information(fa, mi, law.p1))
    return BERResult(
        ber=law.p1 * mi + (1.0 - law.p1) * fa,
        threshold=int(tau),
        optimal=threshold is None or int(tau) == tau_opt,
        false_alarm=fa,
        miss=mi,
        information=info,
        information_rate=info / T,
        max_information_rate=float(np.max(info_curve)) / T,
        ber_se=ber_se,
        ber_error=ber_err,
        law=law,
    )


def ber(
    source,
    symbol_duration: float,
    molecules: int,
    memory: int = 10,
    *,
    threshold: int | None = None,
    p1: float = 0.5,
    model: str = "exact",
    approximation: str = "exact",
    receiver: int = 0,
    transmitter: int = 0,
    interferer_molecules=None,
    geometry=None,
    uncertainty: bool = True,
    **options,
) -> BERResult:
    """Bit error rate of on-off keying with a threshold detector over a channel.

    Parameters
    ----------
    source : Scenario, Geometry, dict, str, Path, SimulationResult or SlotProbabilities
        The channel (see :func:`slot_probabilities`), or slot probabilities already computed
        (then ``symbol_duration``, ``memory`` and ``model`` are taken from them).
    symbol_duration : float
        ``T_s`` (s), > 0.
    molecules : int
        ``N`` >= 1, molecules per bit 1.
    memory : int
        ISI memory ``m`` >= 0 (slots).
    threshold : int, optional
        ``tau >= 0``; default the BER-optimal one.
    p1 : float
        Prior ``P(b = 1)`` in ``[0, 1]``.
    model : str
        Channel model (default ``"exact"``).
    approximation : {"exact", "poisson", "gaussian"}
        Count law (the last two are approximations).
    receiver, transmitter : int
        Detecting receiver and signal transmitter (the scenario's other transmitters interfere).
    interferer_molecules : int or sequence of int, optional
        Molecules per bit 1 of the interferers (default ``molecules``).
    geometry : Geometry, optional
        For a simulation source: the channel, to bound the tail.
    uncertainty : bool
        Carry the uncertainty of the ``p_j`` to the BER.
    **options
        Channel-model options (e.g. ``tol``).

    Returns
    -------
    BERResult

    Examples
    --------
    The paper's topology (µm, µm²/s): 1 s slots, 1000 molecules, memory 10, exact channel and
    exact count law.

    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> r = ber(g, 1.0, 1000)
    >>> f"{r.ber:.2e}", r.threshold
    ('7.12e-10', 243)
    """
    if isinstance(source, SlotProbabilities):
        slots = source
    else:
        slots = slot_probabilities(
            source,
            symbol_duration,
            memory,
            model=model,
            receiver=receiver,
            transmitter=transmitter,
            geometry=geometry,
            **options,
        )
    law = count_law(
        slots,
        molecules,
        p1,
        approximation=approximation,
        interferer_molecules=interferer_molecules,
    )
    return detect(law, threshold, uncertainty=uncertainty)


# --------------------------------------------------------------------------- approximations
@dataclass(frozen=True)
class ApproximationError:
    """Error of an approximate count law against the exact one (same slot probabilities).

    Attributes
    ----------
    approximation : str
        ``"poisson"`` or ``"gaussian"``.
    total_variation : tuple of float
        ``sup_A |P_approx(A) - P_exact(A)|`` of the laws given ``b = 0`` and ``b = 1``.
    ber : float
        The approximation's BER at its own optimal threshold (what a user of it would report).
    threshold : int
        That threshold.
    ber_exact : float
        The exact BER at the exact optimal threshold.
    ber_ratio : float
        ``ber / ber_exact``.
    ber_at_exact_threshold : float
        The approximation's BER at the exact optimal threshold.
    true_ber_at_threshold : float
        The exact BER at the approximation's threshold (the cost of designing with it).
    """

    approximation: str
    total_variation: tuple
    ber: float
    threshold: int
    ber_exact: float
    ber_ratio: float
    ber_at_exact_threshold: float
    true_ber_at_threshold: float


def _total_variation(a: CountLaw, b: CountLaw) -> tuple:
    lo = min(int(a.counts[0]), int(b.counts[0]))
    hi = max(int(a.counts[-1]), int(b.counts[-1])) + 1
    out = []
    for bit in (0, 1):
        pa, pb = np.zeros(hi - lo), np.zeros(hi - lo)
        pa[a.counts - lo] = a.pmf[bit]
        pb[b.counts - lo] = b.pmf[bit]
        out.append(0.5 * float(np.abs(pa - pb).sum()))
    return tuple(out)


def approximation_errors(
    slots: SlotProbabilities, molecules: int, p1: float = 0.5, *, interferer_molecules=None
) -> tuple:
    """Errors of the Poisson and Gaussian approximations against the exact count law.

    Parameters
    ----------
    slots : SlotProbabilities
    molecules : int
        ``N``.
    p1 : float
        Prior of a bit 1.
    interferer_molecules : int or sequence of int, optional

    Returns
    -------
    tuple of ApproximationError
        For ``"poisson"`` and ``"gaussian"``.

    Examples
    --------
    >>> s = SlotProbabilities.from_values([0.3, 0.08, 0.03])
    >>> pois, gauss = approximation_errors(s, 200)
    >>> pois.approximation, pois.ber_ratio > 1, max(pois.total_variation) < 0.05
    ('poisson', True, True)
    """
    kw = dict(interferer_molecules=interferer_molecules)
    exact = detect(count_law(slots, molecules, p1, **kw), uncertainty=False)
    out = []
    for name in ("poisson", "gaussian"):
        law = count_law(slots, molecules, p1, approximation=name, **kw)
        own = detect(law, uncertainty=False)
        out.append(
            ApproximationError(
                approximation=name,
                total_variation=_total_variation(law, exact.law),
                ber=own.ber,
                threshold=own.threshold,
                ber_exact=exact.ber,
                ber_ratio=own.ber / exact.ber if exact.ber > 0 else math.inf,
                ber_at_exact_threshold=law.ber(exact.threshold),
                true_ber_at_threshold=exact.law.ber(own.threshold),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- ISI measures
@dataclass(frozen=True)
class SignalMeasures:
    """Signal, inter-symbol interference and interference of one link (expected counts).

    Attributes
    ----------
    signal : float
        ``N p_0``: expected molecules of the current bit 1 in its own slot.
    isi : float
        ``p1 N sum_{j=1}^{m} p_j``: expected ISI molecules per slot within the memory.
    isi_worst : float
        ``N sum_{j=1}^{m} p_j``: ISI when all ``m`` earlier bits are 1.
    interference : float
        ``p1 sum_i N_i sum_j q^i_j``: expected molecules of the other transmitters per slot.
    tail : float
        ``p1 N tail_bound``: expected molecules per slot from bits beyond the memory (``inf``
        if no bound is known).
    sir : float
        ``signal / isi`` (signal-to-ISI ratio of expected counts; ``inf`` without ISI).
    sinr : float
        ``signal / (isi + interference)``.
    isi_fraction : float
        ``sum_{j>=1} p_j / sum_{j>=0} p_j``: the share of a release's absorptions (within the
        memory) that land in later slots.
    eye_opening : float
        ``signal - isi_worst - N_i sum q`` (expected count of a lone 1 minus that of a 0 after all
        ones; <= 0 means the eye is closed on average).
    """

    signal: float
    isi: float
    isi_worst: float
    interference: float
    tail: float
    sir: float
    sinr: float
    isi_fraction: float
    eye_opening: float

    @property
    def sir_db(self) -> float:
        """``10 log10(sir)``."""
        return 10.0 * math.log10(self.sir) if self.sir > 0 else -math.inf


def signal_measures(
    slots: SlotProbabilities, molecules: int, p1: float = 0.5, *, interferer_molecules=None
) -> SignalMeasures:
    """Signal-to-interference and ISI measures of a link (expected counts per slot).

    Parameters
    ----------
    slots : SlotProbabilities
    molecules : int
        ``N``.
    p1 : float
        Prior of a bit 1.
    interferer_molecules : int or sequence of int, optional

    Returns
    -------
    SignalMeasures

    Examples
    --------
    >>> m = signal_measures(SlotProbabilities.from_values([0.3, 0.1, 0.05], tail=0.01), 100)
    >>> round(m.signal, 12), round(m.isi, 12), round(m.sir, 12), round(m.tail, 12)
    (30.0, 7.5, 4.0, 0.5)
    """
    N = _checks.molecules(molecules)
    p1 = _checks.prior(p1)
    ns, ps = _isi_terms(slots, N, interferer_molecules)
    m = slots.memory
    signal = N * float(slots.p[0])
    isi_worst = N * float(slots.p[1:].sum())
    isi = p1 * isi_worst
    inter_worst = float(np.dot(ns[m:], ps[m:])) if len(ns) > m else 0.0
    inter = p1 * inter_worst
    total = float(slots.p.sum())
    return SignalMeasures(
        signal=signal,
        isi=isi,
        isi_worst=isi_worst,
        interference=inter,
        tail=p1 * N * slots.tail_bound if p1 > 0 else 0.0,
        sir=signal / isi if isi > 0 else math.inf,
        sinr=signal / (isi + inter) if isi + inter > 0 else math.inf,
        isi_fraction=float(slots.p[1:].sum()) / total if total > 0 else 0.0,
        eye_opening=signal - isi_worst - inter_worst,
    )


# --------------------------------------------------------------------------- sweeps
@dataclass(frozen=True, eq=False)
class BERSweep:
    """BER of several models against one variable (symbol duration or molecules).

    Attributes
    ----------
    variable : str
        ``"symbol_duration"`` (s), ``"molecules"`` or ``"memory"`` (slots).
    values : numpy.ndarray, shape (n,)
        The variable's values.
    models : tuple of str
        Channel models (rows).
    ber : numpy.ndarray, shape (n_models, n)
        BER at each model's optimal (or the given) threshold.
    threshold : numpy.ndarray of int, shape (n_models, n)
    tail : numpy.ndarray, shape (n_models, n)
        Neglected tail bound of each point.
    memory : numpy.ndarray of int, shape (n,)
    molecules : numpy.ndarray of int, shape (n,)
    symbol_duration : numpy.ndarray, shape (n,)
    p1 : float
    approximation : str
        Count law (``"exact"`` unless an approximation was asked for).
    results : tuple of tuple of BERResult
        ``results[i][k]``: model ``i``, point ``k``.
    """

    variable: str
    values: np.ndarray
    models: tuple
    ber: np.ndarray
    threshold: np.ndarray
    tail: np.ndarray
    memory: np.ndarray
    molecules: np.ndarray
    symbol_duration: np.ndarray
    p1: float
    approximation: str
    results: tuple

    def ratio(self, reference: str = "exact") -> np.ndarray:
        """``ber / ber[reference]`` per model and point.

        Examples
        --------
        >>> s = SlotProbabilities.from_values([0.3, 0.1])
        >>> sw = ber_vs_molecules(s, [10, 20])
        >>> sw.ratio("given").tolist()
        [[1.0, 1.0]]
        """
        if reference not in self.models:
            raise ValueError(f"reference must be one of {list(self.models)}, got {reference!r}")
        ref = self.ber[self.models.index(reference)]
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.ber / ref

    def table(self, reference: str | None = "exact") -> str:
        """Markdown table: one row per value, BER (and ratio to ``reference``) per model.

        Examples
        --------
        >>> s = SlotProbabilities.from_values([0.3, 0.1])
        >>> print(ber_vs_molecules(s, [10]).table(None))
        | molecules | given BER |
        |---|---|
        | 10 | 1.19e-01 |
        """
        ref = reference if reference in self.models else None
        unit = {"symbol_duration": " (s)", "memory": " (slots)"}.get(self.variable, "")
        head = [f"| {self.variable.replace('_', ' ')}{unit} |"]
        for m in self.models:
            head.append(f" {m} BER |")
            if ref is not None and m != ref:
                head.append(f" {m} / {ref} |")
        lines = ["".join(head), "|" + "---|" * (len("".join(head).split("|")) - 2)]
        rat = self.ratio(ref) if ref is not None else None
        for k, v in enumerate(self.values):
            row = [f"| {v:g} |"]
            for i, m in enumerate(self.models):
                row.append(f" {self.ber[i, k]:.2e} |")
                if ref is not None and m != ref:
                    row.append(f" {rat[i, k]:.3g} |")
            lines.append("".join(row))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return {
            "variable": self.variable,
            "values": self.values.tolist(),
            "models": list(self.models),
            "ber": self.ber.tolist(),
            "threshold": self.threshold.tolist(),
            "tail": self.tail.tolist(),
            "memory": self.memory.tolist(),
            "molecules": self.molecules.tolist(),
            "symbol_duration": self.symbol_duration.tolist(),
            "p1": self.p1,
            "approximation": self.approximation,
        }


def _as_models(models) -> tuple:
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = tuple(models)
    if not models:
        raise ValueError("models must name at least one channel model")
    return models


def _channel_slots(source, receiver, transmitter, geometry):
    """``(model, T_s, memory) -> SlotProbabilities`` of one channel (for the sweeps)."""

    def make(model, T, m):
        return slot_probabilities(
            source,
            T,
            m,
            model=model,
            receiver=receiver,
            transmitter=transmitter,
            geometry=geometry,
        )

    return make


def _sweep(variable, values, models, slot_fn, mol_fn, p1, threshold, approximation, kw):
    rows = []
    for model in models:
        rows.append(
            tuple(
                detect(
                    count_law(slot_fn(model, v), mol_fn(v), p1, approximation=approximation, **kw),
                    threshold,
                    uncertainty=False,
                )
                for v in values
            )
        )
    b = np.array([[r.ber for r in row] for row in rows])
    th = np.array([[r.threshold for r in row] for row in rows], dtype=np.int64)
    tail = np.array([[r.slots.tail_bound for r in row] for row in rows])
    first = rows[0]
    return BERSweep(
        variable=variable,
        values=np.asarray(values),
        models=models,
        ber=b,
        threshold=th,
        tail=tail,
        memory=np.array([r.slots.memory for r in first], dtype=np.int64),
        molecules=np.array([r.law.molecules for r in first], dtype=np.int64),
        symbol_duration=np.array([r.slots.symbol_duration for r in first]),
        p1=_checks.prior(p1),
        approximation=approximation,
        results=tuple(rows),
    )


def ber_vs_symbol_duration(
    source,
    symbol_durations,
    molecules: int,
    memory: int = 10,
    *,
    models=("exact",),
    p1: float = 0.5,
    threshold: int | None = None,
    approximation: str = "exact",
    receiver: int = 0,
    transmitter: int = 0,
    interferer_molecules=None,
    geometry=None,
) -> BERSweep:
    """BER against the symbol duration for one or several channel models.

    Parameters
    ----------
    source : Scenario, Geometry, dict, str, Path or SimulationResult
        The channel.
    symbol_durations : sequence of float
        ``T_s`` values (s), each > 0.
    molecules : int
        ``N``.
    memory : int
        ISI memory ``m`` (the same number of slots at every ``T_s``).
    models : str or sequence of str
        Channel models (a comma-separated string is split).
    p1, threshold, approximation, receiver, transmitter, interferer_molecules, geometry
        As in :func:`ber` (``threshold`` None: each point's optimal threshold).

    Returns
    -------
    BERSweep

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> sw = ber_vs_symbol_duration(g, [0.5, 1.0], 1000, models="kamber2024,exact")
    >>> sw.ber.shape, bool(sw.ratio()[0, 1] < 0.1)   # the closed form: far too optimistic
    ((2, 2), True)
    """
    vals = np.array([_checks.symbol_duration(v) for v in np.atleast_1d(symbol_durations)])
    if vals.size == 0:
        raise ValueError("symbol_durations must list at least one value")

    slots = _channel_slots(source, receiver, transmitter, geometry)
    return _sweep(
        "symbol_duration",
        vals,
        _as_models(models),
        lambda model, T: slots(model, T, memory),
        lambda _: molecules,
        p1,
        threshold,
        approximation,
        {"interferer_molecules": interferer_molecules},
    )


def ber_vs_molecules(
    slots: SlotProbabilities,
    molecules,
    *,
    p1: float = 0.5,
    threshold: int | None = None,
    approximation: str = "exact",
    interferer_molecules=None,
) -> BERSweep:
    """BER against the number of molecules per bit for fixed slot probabilities.

    Parameters
    ----------
    slots : SlotProbabilities
    molecules : sequence of int
        ``N`` values.
    p1, threshold, approximation, interferer_molecules
        As in :func:`ber`.

    Returns
    -------
    BERSweep
        One row (``slots.model``).

    Examples
    --------
    >>> sw = ber_vs_molecules(SlotProbabilities.from_values([0.3, 0.1]), [10, 100])
    >>> bool(sw.ber[0, 1] < sw.ber[0, 0])
    True
    """
    if not isinstance(slots, SlotProbabilities):
        raise TypeError(f"slots must be a SlotProbabilities, got {type(slots).__name__}")
    vals = np.array([_checks.molecules(n) for n in np.atleast_1d(molecules)], dtype=np.int64)
    if vals.size == 0:
        raise ValueError("molecules must list at least one value")
    return _sweep(
        "molecules",
        vals,
        (slots.model,),
        lambda _m, _n: slots,
        int,
        p1,
        threshold,
        approximation,
        {"interferer_molecules": interferer_molecules},
    )


def ber_vs_memory(
    source,
    symbol_duration: float,
    molecules: int,
    memories,
    *,
    models=("exact",),
    p1: float = 0.5,
    threshold: int | None = None,
    approximation: str = "exact",
    receiver: int = 0,
    transmitter: int = 0,
    interferer_molecules=None,
    geometry=None,
) -> BERSweep:
    """BER against the ISI memory: how much the slots beyond a memory still matter.

    In three dimensions ``F(inf) - F(t)`` decays like ``t^(-1/2)``, so the neglected tail (and the
    BER it hides) shrinks slowly with the memory; this sweep shows where the BER settles.

    Parameters
    ----------
    source : Scenario, Geometry, dict, str, Path or SimulationResult
        The channel.
    symbol_duration : float
        ``T_s`` (s).
    molecules : int
        ``N``.
    memories : sequence of int
        Memories ``m`` (slots).
    models, p1, threshold, approximation, receiver, transmitter, interferer_molecules, geometry
        As in :func:`ber_vs_symbol_duration`.

    Returns
    -------
    BERSweep

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> sw = ber_vs_memory(g, 1.0, 1000, [10, 100])
    >>> bool(sw.ber[0, 1] > 5 * sw.ber[0, 0]), bool(sw.tail[0, 1] < sw.tail[0, 0])
    (True, True)
    """
    vals = np.array([_checks.memory(m) for m in np.atleast_1d(memories)], dtype=np.int64)
    if vals.size == 0:
        raise ValueError("memories must list at least one value")

    slots = _channel_slots(source, receiver, transmitter, geometry)
    return _sweep(
        "memory",
        vals,
        _as_models(models),
        lambda model, m: slots(model, symbol_duration, int(m)),
        lambda _: molecules,
        p1,
        threshold,
        approximation,
        {"interferer_molecules": interferer_molecules},
    )
