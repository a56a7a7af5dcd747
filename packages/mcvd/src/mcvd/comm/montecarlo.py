"""Monte Carlo check of the count law and the BER with the event-driven simulator.

Independent frames of ``memory + 1`` random bits: bit ``k`` of a frame releases ``N`` molecules at
``k T_s`` when it is 1, through the simulator's transmitter release times (one release entry per
bit 1: position, molecules, release time); every other transmitter of the scenario sends its own
random bits at ``k T_s + d_i`` (``d_i`` its release offset, as in the count law). Each molecule is
walked by the event-driven (walk-on-spheres, time-step free) simulator until it is absorbed or the
frame ends at ``(memory + 1) T_s``; the count of a frame is the number of molecules the receiver
absorbs in its last slot ``[m T_s, (m + 1) T_s)``. Frames are independent, so the counts are
i.i.d. draws from the law of the slot count with memory ``m`` — exactly what
:func:`mcvd.comm.law.count_law` computes from the slot probabilities of the model — and the
detector errors are Bernoulli trials: the empirical BER has an exact (Clopper–Pearson) confidence
interval, and the histogram of the counts given the current bit is compared with the exact law
(Pearson chi-square on bins pooled to at least 5 expected frames, and per-bin z-scores).

The only bias of the simulator is its absorption shell ``eps`` (capture bias at most
``eps / r0`` per molecule, see :data:`mcvd.sim.event.DEFAULT_EPS`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import _checks
from .detection import BERResult, ber
from .slots import _channel_geometry, _index

__all__ = ["MonteCarloBER", "monte_carlo_ber"]

#: molecules per call of the walk kernel (bounds memory; a Ctrl-C waits at most one chunk)
CHUNK_MOLECULES = 1 << 20


@dataclass(frozen=True, eq=False)
class MonteCarloBER:
    """Simulated frames, their counts and the empirical BER against the exact one.

    Attributes
    ----------
    bits : numpy.ndarray of int8, shape (n_frames,)
        Current (last) bit of the signal transmitter in each frame.
    counts : numpy.ndarray of int64, shape (n_frames,)
        Molecules absorbed by the receiver in the frame's last slot.
    threshold : int
        Detection threshold used (decide 1 iff ``count >= threshold``).
    errors : int
        Wrong decisions.
    ber : float
        ``errors / n_frames``.
    ci : tuple of float
        Clopper–Pearson interval of the BER at ``confidence``.
    confidence : float
    exact : BERResult
        The count law and BER of the model at the same threshold and memory.
    n_molecules : int
        Molecules simulated.
    seed : int
        Root seed (bits and walks are derived from it).
    """

    bits: np.ndarray
    counts: np.ndarray
    threshold: int
    errors: int
    ber: float
    ci: tuple
    confidence: float
    exact: BERResult
    n_molecules: int
    seed: int

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.bits.size)

    @property
    def agrees(self) -> bool:
        """True when the exact BER lies in the confidence interval."""
        return bool(self.ci[0] <= self.exact.ber <= self.ci[1])

    def histogram(self, bit: int):
        """Observed and expected frames per count, given the current bit.

        Parameters
        ----------
        bit : {0, 1}

        Returns
        -------
        counts : numpy.ndarray of int
            Support of the exact law.
        observed : numpy.ndarray of int
            Frames with that count (counts outside the support are added to its ends).
        expected : numpy.ndarray
            ``n_b * P(C = k | b)``.
        """
        bit = _checks.integer(bit, "bit", minimum=0, maximum=1)
        law = self.exact.law
        c = self.counts[self.bits == bit]
        idx = np.clip(c - int(law.counts[0]), 0, law.counts.size - 1)
        obs = np.bincount(idx, minlength=law.counts.size)
        return law.counts, obs, c.size * law.pmf[bit]

    def z_scores(self, bit: int) -> np.ndarray:
        """Per-count ``(observed - expected) / sqrt(n q (1 - q))`` (binomial per bin; 0 where
        the law gives the count probability 0). Read them where a bin expects several frames:
        one frame in a bin expecting 0.05 is a z-score of 4.4 but no evidence of anything."""
        _, obs, exp = self.histogram(bit)
        n = max(int(obs.sum()), 1)
        q = exp / n
        sd = np.sqrt(n * q * (1 - q))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sd > 0, (obs - exp) / sd, np.where(obs > 0, np.inf, 0.0))

    def chi_square(self, bit: int, min_expected: float = 5.0):
        """Pearson chi-square of the counts given ``bit`` against the exact law.

        Consecutive counts are pooled until each group expects at least ``min_expected``
        frames (a short last group joins the one before).

        Returns
        -------
        statistic : float
        dof : int
            Groups minus one.
        pvalue : float
        """
        _, obs, exp = self.histogram(bit)
        groups_o, groups_e, acc_o, acc_e = [], [], 0.0, 0.0
        for o, e in zip(obs, exp):
            acc_o, acc_e = acc_o + o, acc_e + e
            if acc_e >= min_expected:
                groups_o.append(acc_o)
                groups_e.append(acc_e)
                acc_o = acc_e = 0.0
        if groups_o:
            groups_o[-1] += acc_o
            groups_e[-1] += acc_e
        if len(groups_o) < 2:
            return 0.0, 0, 1.0
        o, e = np.array(groups_o), np.array(groups_e)
        stat = float(np.sum((o - e) ** 2 / e))
        dof = o.size - 1
        return stat, dof, float(stats.chi2.sf(stat, dof))


def _release_plan(geom, sig, T, m, n_frames, p1, N, interferer_molecules, rng):
    """Release entries (position, molecules, time, frame) of every bit 1 of every frame."""
    txs = geom.transmitters
    t0 = txs[sig].release_time
    n_i = _checks.interferer_counts(interferer_molecules, len(txs) - 1, N)
    order = [sig] + [i for i in range(len(txs)) if i != sig]
    bits = rng.random((len(txs), n_frames, m + 1)) < p1
    pos, mol, time, frame = [], [], [], []
    for row, i in enumerate(order):
        offset = 0.0 if i == sig else _checks.release_offset(txs[i].release_time, t0, T)
        n = N if i == sig else n_i[row - 1]
        f, k = np.nonzero(bits[row])
        if n == 0 or f.size == 0:
            continue
        pos.append(np.broadcast_to(np.array(txs[i].position), (f.size, 3)))
        mol.append(np.full(f.size, n, dtype=np.int64))
        time.append(k * T + offset)
        frame.append(f)
    current = bits[0, :, m].astype(np.int8)
    if not pos:
        return current, np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, int)
    frame = np.concatenate(frame)
    time = np.concatenate(time)
    ordr = np.argsort(time, kind="stable")  # any order works; by time keeps it reproducible
    return (
        current,
        np.ascontiguousarray(np.concatenate(pos)[ordr]),
        np.concatenate(mol)[ordr],
        time[ordr],
        frame[ordr],
    )


def monte_carlo_ber(
    scenario,
    symbol_duration: float,
    molecules: int,
    memory: int = 2,
    *,
    n_frames: int = 10_000,
    threshold: int | None = None,
    p1: float = 0.5,
    model: str = "exact",
    receiver: int = 0,
    transmitter: int = 0,
    interferer_molecules=None,
    seed=None,
    eps: float | None = None,
    confidence: float = 0.95,
) -> MonteCarloBER:
    """Simulate random bit frames with the event-driven simulator; empirical BER and counts.

    Parameters
    ----------
    scenario : Scenario, Geometry, dict, str or Path
        The channel (no finite obstacles: the event-driven simulator does not handle them). Its
        transmitters' molecule counts are ignored.
    symbol_duration : float
        ``T_s`` (s).
    molecules : int
        ``N`` per bit 1 of the signal transmitter.
    memory : int
        ``m``: frames have ``m + 1`` bits.
    n_frames : int
        Independent frames (detector decisions).
    threshold : int, optional
        Default: the optimal threshold of the exact count law of ``model``.
    p1 : float
        Prior of a bit 1 (every transmitter).
    model : str
        Channel model of the exact comparison (default ``"exact"``).
    receiver, transmitter : int
        Detecting receiver and signal transmitter.
    interferer_molecules : int or sequence of int, optional
        Molecules per bit 1 of the other transmitters (default ``molecules``).
    seed : int, SeedSequence or None
        Root seed: the bits and every molecule's walk follow from it.
    eps : float, optional
        Absorption shell of the simulator (µm; default its own).
    confidence : float
        Level of the Clopper–Pearson interval.

    Returns
    -------
    MonteCarloBER

    Examples
    --------
    The paper's topology (µm, µm²/s), 1 s slots, 50 molecules, memory 2 (exact BER 0.0108):

    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> mc = monte_carlo_ber(g, 1.0, 50, 2, n_frames=2000, seed=1)
    >>> mc.threshold, round(mc.exact.ber, 4), mc.agrees
    (10, 0.0108, True)
    """
    from ..sim.event import DEFAULT_EPS, prepare, walk
    from ..sim.runner import resolve_seed

    T = _checks.symbol_duration(symbol_duration)
    N = _checks.molecules(molecules)
    m = _checks.memory(memory)
    frames = _checks.integer(n_frames, "n_frames", minimum=1)
    p1 = _checks.prior(p1)
    level = _checks.real(confidence, "confidence")
    if not 0 < level < 1:
        raise ValueError(f"confidence must be in (0, 1), got {level}")
    geom = _channel_geometry(scenario)
    rx = _index(receiver, "receiver", geom.n_receivers)
    sig = _index(transmitter, "transmitter", len(geom.transmitters))
    exact = ber(
        geom,
        T,
        N,
        m,
        threshold=threshold,
        p1=p1,
        model=model,
        receiver=rx,
        transmitter=sig,
        interferer_molecules=interferer_molecules,
        uncertainty=False,
    )
    tau = exact.threshold
    root = resolve_seed(seed)
    bit_ss, walk_ss = np.random.SeedSequence(root).spawn(2)
    rng = np.random.default_rng(bit_ss)
    walk_seed = int(walk_ss.generate_state(1, np.uint64)[0] >> np.uint64(1))
    current, pos, mol, times, frame = _release_plan(
        geom, sig, T, m, frames, p1, N, interferer_molecules, rng
    )
    counts = np.zeros(frames, dtype=np.int64)
    n_total = int(mol.sum())
    if n_total:
        horizon = (m + 1) * T
        base = prepare(
            geom.with_transmitter(geom.transmitters[sig].position),
            horizon,
            eps=DEFAULT_EPS if eps is None else eps,
            bin_edges=[0.0, horizon],
            keep_times=False,
            molecules=[1],
        )
        params = dataclasses.replace(
            base, tx_positions=pos, tx_molecules=mol, tx_release_times=times
        )
        ends = np.cumsum(mol)
        slot_start = m * T
        for start in range(0, n_total, CHUNK_MOLECULES):
            count = min(CHUNK_MOLECULES, n_total - start)
            out = walk(params, start, count, walk_seed)
            hit = (out.receiver == rx) & (out.times >= slot_start)
            g = start + np.flatnonzero(hit)
            entry = np.searchsorted(ends, g, side="right")
            counts += np.bincount(frame[entry], minlength=frames)
    decide = counts >= tau
    errors = int(np.sum(decide != current.astype(bool)))
    ci = stats.binomtest(errors, frames).proportion_ci(level, method="exact")
    return MonteCarloBER(
        bits=current,
        counts=counts,
        threshold=int(tau),
        errors=errors,
        ber=errors / frames,
        ci=(float(ci.low), float(ci.high)),
        confidence=level,
        exact=exact,
        n_molecules=n_total,
        seed=root,
    )
