"""Figures fit for a paper: every plotting function takes ``ax=``, returns the figure, makes new
figures at most a column (one panel) or a text width (several) wide, and no text below 8 pt;
the figure files come as png, pdf or svg; curves that coincide are named in the legend."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mcvd  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from mcvd.core.plots import (  # noqa: E402
    COLUMN_WIDTH,
    FONT_SIZE,
    TEXT_WIDTH,
    _savefig,
    legible,
    plot_responses,
)


def _public_plot_functions() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(mcvd.__path__, "mcvd."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if name.startswith("plot_") and inspect.isfunction(obj) and obj.__module__ == info.name:
                names.add(f"{info.name}.{name}")
    return names


@pytest.fixture(scope="module")
def cases():
    """``qualified name -> (function, args, kwargs, n_panels)`` with small, fast inputs."""
    pytest.importorskip("numba", reason="the simulators need numba")
    from mcvd.comm import SlotProbabilities, ber, ber_vs_molecules
    from mcvd.studies import accuracy, crosscheck, geometries, paper
    from mcvd.studies import ber as ber_mod

    g = mcvd.load_example("paper_halfspace")
    t = np.linspace(0, 2, 41)
    responses = [mcvd.response(g, t, model=m) for m in ("free", "kamber2024", "images-ho")]
    amap = accuracy.accuracy_map(
        ["kamber2024", "images-ho"],
        gaps=[1.0, 5.0],
        placements=["on-plane", "far"],
        times=[0.5, 2.0],
    )
    cc = crosscheck.cross_check(["free"], gaps=[3.0], placements=["far"], times=[1.0], se=5e-3)
    run = {"executor": "inline", "seed": 0}
    study = paper.paper_topology_study(200, dt=1e-3, t_end=0.1, models=("free",), **run)
    dts = paper.dt_study(100, dts=(1e-3, 3e-4), t_end=0.05, **run)
    sir = paper.plate_sir_study(300, gaps=(5.0, 10.0), dt=1e-2, **run)
    slots = SlotProbabilities.from_values([0.3, 0.1])
    bstudy = ber_mod.ber_study(symbol_durations=(0.5, 1.0), memories=(10,))
    gmap = geometries.geometry_map(["free"], cases=["corner"], gaps=[5.0, 10.0], times=[1.0])
    return {
        "mcvd.core.plots.plot_responses": (plot_responses, (responses,), {}, 1),
        "mcvd.core.plots.plot_geometry": (mcvd.core.plots.plot_geometry, (g,), {}, 1),
        "mcvd.studies.accuracy.plot_accuracy_map": (
            accuracy.plot_accuracy_map,
            (amap, "kamber2024", "far"),
            {},
            1,
        ),
        "mcvd.studies.accuracy.plot_accuracy_overview": (
            accuracy.plot_accuracy_overview,
            (amap,),
            {},
            4,
        ),
        "mcvd.studies.accuracy.plot_error_vs_gap": (accuracy.plot_error_vs_gap, (amap,), {}, 1),
        "mcvd.studies.crosscheck.plot_z_scores": (crosscheck.plot_z_scores, (cc,), {}, 1),
        "mcvd.studies.paper.plot_hitting_rate": (paper.plot_hitting_rate, (study,), {}, 1),
        "mcvd.studies.paper.plot_cumulative": (paper.plot_cumulative, (study,), {}, 1),
        "mcvd.studies.paper.plot_dt_study": (paper.plot_dt_study, (dts,), {}, 1),
        "mcvd.studies.paper.plot_sir": (paper.plot_sir, (sir,), {}, 1),
        "mcvd.comm.plots.plot_ber_sweep": (
            mcvd.comm.plot_ber_sweep,
            (ber_vs_molecules(slots, [10, 50]),),
            {},
            1,
        ),
        "mcvd.comm.plots.plot_count_law": (mcvd.comm.plot_count_law, (ber(slots, 1.0, 50),), {}, 1),
        "mcvd.studies.ber.plot_ber_study": (ber_mod.plot_ber_study, (bstudy,), {}, 2),
        "mcvd.studies.geometries.plot_geometries": (geometries.plot_geometries, (gmap,), {}, 1),
    }


def _smallest_font(fig) -> float:
    fig.canvas.draw()  # tick labels exist only once drawn
    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]
    return min(sizes)


def test_every_plotting_function_is_checked(cases):
    assert _public_plot_functions() == set(cases)


def test_new_figures_fit_a_column_or_the_text_width_with_8pt_text(cases):
    for name, (func, args, kwargs, panels) in cases.items():
        fig = func(*args, **kwargs)
        assert isinstance(fig, matplotlib.figure.Figure), name
        width = fig.get_size_inches()[0]
        assert width <= (COLUMN_WIDTH if panels == 1 else TEXT_WIDTH) + 1e-9, (name, width)
        assert _smallest_font(fig) >= FONT_SIZE, name
        plt.close(fig)


def test_single_panel_functions_draw_on_the_given_axes(cases):
    for name, (func, args, kwargs, panels) in cases.items():
        if panels != 1:
            continue
        fig, ax = plt.subplots()
        assert func(*args, ax=ax, **kwargs) is fig, name
        assert ax.has_data() or ax.images, name
        plt.close(fig)


def test_coinciding_curves_are_named_and_dashed_differently():
    # the paper's topology has the transmitter on the plane: both delay variants coincide
    g = mcvd.load_example("paper_halfspace")
    t = np.linspace(0, 2, 41)
    fig = plot_responses([mcvd.response(g, t, model=m) for m in ("kamber2024", "kamber2024-conv")])
    ax = fig.axes[0]
    labels = [x.get_text() for x in fig.legends[0].get_texts()]  # below the axes
    assert labels == ["kamber2024", "kamber2024-conv\n(≡ kamber2024)"]
    a, b = ax.get_lines()
    assert a.get_linestyle() != b.get_linestyle()
    plt.close(fig)


def test_legible_raises_only_small_text():
    fig, ax = plt.subplots()
    ax.set_xlabel("x", fontsize=5)
    ax.set_title("big", fontsize=14)
    legible(fig)
    assert ax.xaxis.label.get_fontsize() == FONT_SIZE
    assert ax.title.get_fontsize() == 14
    plt.close(fig)


@pytest.mark.parametrize(
    ("suffix", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")]
)
def test_figure_files_in_every_format(tmp_path, suffix, magic):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    _savefig(fig, tmp_path / f"f.{suffix}", dpi=50)
    assert (tmp_path / f"f.{suffix}").read_bytes().startswith(magic)
    _savefig(fig, tmp_path / "g", fmt=suffix)  # no suffix: the format says
    assert (tmp_path / "g").read_bytes().startswith(magic)
    plt.close(fig)


@pytest.mark.parametrize(
    ("name", "kw", "match"),
    [
        ("f.jpg", {}, "format must be one of png, pdf, svg"),
        ("f.png", {"fmt": "pdf"}, "does not match the file name"),
        ("f.png", {"dpi": 0}, "dpi must be an integer"),
    ],
)
def test_bad_figure_arguments_are_one_line(tmp_path, name, kw, match):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match=match):
        _savefig(fig, tmp_path / name, **kw)
    assert not (tmp_path / name).exists()
    plt.close(fig)


def test_ber_cli_writes_pdf_and_svg(tmp_path, capsys):
    from mcvd.cli import main

    path = tmp_path / "paper.json"
    assert main(["example", "paper_halfspace", "-o", str(path)]) == 0
    for fmt in ("pdf", "svg"):
        out = tmp_path / f"law.{fmt}"
        args = ["ber", str(path), "--symbol-duration", "1", "--molecules", "50", "--plot", str(out)]
        assert main([*args, "--dpi", "100"]) == 0
        assert out.read_bytes()[:5] in (b"%PDF-", b"<?xml")
    assert (
        main(
            [
                "ber",
                str(path),
                "--symbol-duration",
                "1",
                "--molecules",
                "50",
                "--plot",
                str(tmp_path / "x.gif"),
            ]
        )
        != 0
    )
    assert "format must be one of png, pdf, svg" in capsys.readouterr().err
