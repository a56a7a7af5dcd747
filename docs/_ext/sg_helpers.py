"""sphinx-gallery helpers: the examples' reading order and the figure resolution."""

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


#: resolution of the gallery's figures: the libraries' figures are made for a paper (3.3 in one
#: column wide), which at matplotlib's 100 dpi would be 330 pixels on the page
GALLERY_DPI = 150


def scraper(block, block_vars, gallery_conf, **kwargs):
    """sphinx-gallery's matplotlib scraper at :data:`GALLERY_DPI`."""
    from sphinx_gallery.scrapers import matplotlib_scraper

    return matplotlib_scraper(block, block_vars, gallery_conf, dpi=GALLERY_DPI, **kwargs)
