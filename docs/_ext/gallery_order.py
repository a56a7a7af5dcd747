"""Order of the gallery examples: from the basic result to the applications, not alphabetical."""

from __future__ import annotations

from pathlib import Path

ORDER = [
    # dmfsharp
    "plot_exact_vs_dense",
    "plot_figure1_escape",
    "plot_trained_network",
    # mcvd
    "plot_channel_models",
    "plot_which_model",
    "plot_event_vs_exact",
    "plot_corner",
    "plot_ber_vs_symbol_duration",
]


def example_order(filename: str) -> tuple[int, str]:
    """Sort key for ``within_subsection_order``: listed examples first, in list order."""
    stem = Path(filename).stem
    return (ORDER.index(stem) if stem in ORDER else len(ORDER), stem)
