"""Figures of the communication layer (matplotlib): BER sweeps and count laws.

Every function takes ``ax=None`` (a new figure, one column wide, is created) and returns the
figure; texts are at least 8 pt (:func:`mcvd.core.plots.legible`).
"""

from __future__ import annotations

import numpy as np

from ..core.plots import _ax, _legend, _plot_distinct, legible
from .detection import BERResult, BERSweep
from .law import CountLaw

__all__ = ["plot_ber_sweep", "plot_count_law"]


def plot_ber_sweep(sweep: BERSweep, ax=None, *, ratio_to: str | None = None, **style):
    """BER (log scale) of every model against the sweep's variable.

    Parameters
    ----------
    sweep : BERSweep
        From :func:`mcvd.comm.ber_vs_symbol_duration` or :func:`mcvd.comm.ber_vs_molecules`.
    ax : matplotlib Axes, optional
    ratio_to : str, optional
        Plot ``BER / BER[ratio_to]`` instead of the BER.
    **style
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mcvd.comm import SlotProbabilities, ber_vs_molecules
    >>> fig = plot_ber_sweep(ber_vs_molecules(SlotProbabilities.from_values([0.3, 0.1]), [10, 50]))
    >>> fig.axes[0].get_yscale()
    'log'
    """
    if not isinstance(sweep, BERSweep):
        raise TypeError(f"sweep must be a BERSweep, got {type(sweep).__name__}")
    ax = _ax(ax)
    y = sweep.ber if ratio_to is None else sweep.ratio(ratio_to)
    drawn = []
    markers = "os^vDP*X"
    for i, model in enumerate(sweep.models):
        ok = y[i] > 0
        kw = {"marker": markers[i % len(markers)], "ms": 3} | style
        _plot_distinct(ax, drawn, model, sweep.values[ok], y[i][ok], i, kw)
    ax.set_yscale("log")
    label = {
        "symbol_duration": "symbol duration T_s (s)",
        "molecules": "molecules per bit N",
        "memory": "ISI memory m (slots)",
    }
    ax.set_xlabel(label.get(sweep.variable, sweep.variable))
    law = "exact count law" if sweep.approximation == "exact" else f"{sweep.approximation} law"
    ax.set_ylabel(
        f"BER (optimal threshold,\n{law})" if ratio_to is None else f"BER / BER[{ratio_to}]"
    )
    ax.grid(alpha=0.3, which="both")
    _legend(ax)
    return legible(ax.figure)


def plot_count_law(law, ax=None, *, threshold: int | None = None, observed=None, floor=1e-16):
    """The law of the slot count given b = 0 and b = 1 (log scale), with the threshold.

    Parameters
    ----------
    law : CountLaw or BERResult
        A law (or a BER result: its law and threshold).
    ax : matplotlib Axes, optional
    threshold : int, optional
        Drawn as a vertical line (default: the result's threshold, if a BERResult).
    observed : MonteCarloBER, optional
        Overlay its empirical count frequencies.
    floor : float
        Lower limit of the probability axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mcvd.comm import SlotProbabilities, ber
    >>> fig = plot_count_law(ber(SlotProbabilities.from_values([0.3, 0.1]), 1.0, 50))
    """
    if isinstance(law, BERResult):
        threshold = law.threshold if threshold is None else threshold
        law = law.law
    if not isinstance(law, CountLaw):
        raise TypeError(f"law must be a CountLaw or BERResult, got {type(law).__name__}")
    ax = _ax(ax)
    tag = "" if law.approximation == "exact" else f" ({law.approximation} approximation)"
    for b in (0, 1):
        ax.step(law.counts, law.pmf[b], where="mid", label=f"P(C | b = {b}){tag}")
    if observed is not None:
        for b in (0, 1):
            k, obs, _ = observed.histogram(b)
            n = max(int(obs.sum()), 1)
            ok = obs > 0
            ax.plot(k[ok], obs[ok] / n, ".", label=f"simulated, b = {b} ({n} frames)")
    if threshold is not None:
        ax.axvline(threshold - 0.5, color="k", ls="--", lw=1, label=f"threshold {threshold}")
    ax.set_yscale("log")
    top = float(np.max(law.pmf))
    ax.set_ylim(floor, 2 * top)
    seen = law.counts[np.max(law.pmf, axis=0) >= floor]
    pad = max(1, (int(seen[-1]) - int(seen[0])) // 20)
    ax.set_xlim(int(seen[0]) - pad, int(seen[-1]) + pad)
    ax.set_xlabel("molecules counted in the slot, C")
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3)
    _legend(ax)
    return legible(ax.figure)
