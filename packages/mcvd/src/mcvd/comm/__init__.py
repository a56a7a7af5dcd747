"""Communication over the diffusion channel: on-off keying, ISI, threshold detection, BER.

Public API
----------
* :func:`slot_probabilities` / :class:`SlotProbabilities` — ``p_j = F((j+1)T_s) - F(j T_s)``
  from any channel model or a simulation, with the neglected tail.
* :func:`count_law` / :class:`CountLaw` — the exact law of the slot count given the current bit
  (and the Poisson and Gaussian approximations, labelled as such).
* :func:`ber`, :func:`detect`, :class:`BERResult` — bit error rate for a threshold, the optimal
  threshold, the information rate of the binary channel with that detector.
* :func:`ber_vs_symbol_duration`, :func:`ber_vs_molecules`, :func:`ber_vs_memory`,
  :class:`BERSweep`.
* :func:`approximation_errors`, :func:`signal_measures`.
* :func:`monte_carlo_ber` — the independent check from the event-driven simulator.
* :func:`plot_ber_sweep`, :func:`plot_count_law` — figures (``ax=``, return the figure).

Units: µm, s, µm²/s; counts in molecules.
"""

from .detection import (
    ApproximationError,
    BERResult,
    BERSweep,
    SignalMeasures,
    approximation_errors,
    ber,
    ber_vs_memory,
    ber_vs_molecules,
    ber_vs_symbol_duration,
    detect,
    mutual_information,
    signal_measures,
)
from .law import APPROXIMATIONS, CountLaw, count_law, law_moments
from .montecarlo import MonteCarloBER, monte_carlo_ber
from .plots import plot_ber_sweep, plot_count_law
from .slots import SlotProbabilities, slot_probabilities, tail_union_bound

__all__ = [
    "APPROXIMATIONS",
    "ApproximationError",
    "BERResult",
    "BERSweep",
    "CountLaw",
    "MonteCarloBER",
    "SignalMeasures",
    "SlotProbabilities",
    "approximation_errors",
    "ber",
    "ber_vs_memory",
    "ber_vs_molecules",
    "ber_vs_symbol_duration",
    "count_law",
    "detect",
    "law_moments",
    "monte_carlo_ber",
    "mutual_information",
    "plot_ber_sweep",
    "plot_count_law",
    "signal_measures",
    "slot_probabilities",
    "tail_union_bound",
]
