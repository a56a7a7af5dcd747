"""Figures fit for a paper: every plotting function takes ``ax=`` (``axes=`` for the multi-panel
ones) and returns the figure; new figures are at most a column (one panel) or a text width wide
with no text below 8 pt; every curvature or loss axis names the loss scale c; ``dmfsharp figure``
writes png, pdf or svg."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
matplotlib.use("Agg")
import dmfsharp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from dmfsharp import demo, figures, tracking  # noqa: E402
from dmfsharp.cli import main  # noqa: E402
from matplotlib.text import Text  # noqa: E402


def _public_figure_functions() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(dmfsharp.__path__, "dmfsharp."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if (
                (name.startswith("plot_") or name in ("figure1", "matrix_figure"))
                and inspect.isfunction(obj)
                and obj.__module__ == info.name
            ):
                names.add(f"{info.name}.{name}")
    return names


@pytest.fixture(scope="module")
def cases():
    """``name -> (function, args, max width, curvature axes)``, small and fast inputs."""
    data = figures.figure1_experiment(depth=4, steps=200)
    res = figures.matrix_escape_experiments(
        (3, 4), width=2, eta_factors=(0.9, 1.2), steps=150, sharpness_every=50
    )
    rows = [
        demo.compare_routes(f"seed {s}", dmfsharp.gaussian_minimizer((2, 3, 2), rng=s))
        for s in (0, 1)
    ]
    fac = dmfsharp.gaussian_minimizer((3, 4, 2), rng=0)
    track = tracking.track_checkpoints([fac, fac], target=fac.target, eta=0.1)
    col, text = figures.COLUMN_WIDTH, figures.TEXT_WIDTH
    return {
        "dmfsharp.tracking.plot_sharpness_track": (tracking.plot_sharpness_track, (track,), col, 1),
        "dmfsharp.figures.plot_fig1_contour": (figures.plot_fig1_contour, (data,), col, 1),
        "dmfsharp.figures.plot_fig1_growth": (figures.plot_fig1_growth, (data,), col, 0),
        "dmfsharp.figures.plot_growth": (figures.plot_growth, (res[0],), col, 0),
        "dmfsharp.figures.plot_loss": (figures.plot_loss, (res[0],), col, 1),
        "dmfsharp.figures.plot_sharpness": (figures.plot_sharpness, (res[0],), col, 1),
        "dmfsharp.figures.figure1": (figures.figure1, (data,), text, 1),
        "dmfsharp.figures.matrix_figure": (figures.matrix_figure, (res,), text, 4),
        "dmfsharp.demo.plot_comparison": (demo.plot_comparison, (rows,), text, 1),
        "dmfsharp.demo.plot_bound_gap": (
            demo.plot_bound_gap,
            ([2, 3], [[0.0, 0.0], [0.1, 0.2]], [[1.5, 2], [2, 2]]),
            col,
            0,
        ),
    }


def _smallest_font(fig) -> float:
    fig.canvas.draw()  # tick labels exist only once drawn
    return min(
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    )


def test_every_figure_function_is_checked(cases):
    assert _public_figure_functions() == set(cases)


def test_new_figures_fit_the_page_with_8pt_text_and_name_the_loss_scale(cases):
    for name, (func, args, width, n_curvature) in cases.items():
        fig = func(*args)
        assert isinstance(fig, matplotlib.figure.Figure), name
        assert fig.get_size_inches()[0] <= width + 1e-9, name
        assert _smallest_font(fig) >= figures.FONT_SIZE, name
        texts = [t.get_text() for t in fig.findobj(Text)]
        curvature = [x for x in texts if ("λ_max" in x or "loss" in x) and "(c = " in x]
        assert len(curvature) >= n_curvature, (name, texts)
        plt.close(fig)


def test_curvature_axes_state_the_scale_and_the_papers():
    assert figures.curvature_label("λ_max", 0.5) == "λ_max (c = 0.5; paper: c = 1)"
    assert figures.curvature_label("λ_max", 1.0) == "λ_max (c = 1, as the paper)"
    res = figures.matrix_escape_experiments(
        (3,), width=2, eta_factors=(1.2,), steps=60, scale=1.0, sharpness_every=20
    )[0]
    fig = figures.plot_sharpness(res)
    assert fig.axes[0].get_ylabel() == "sharpness λ_max (c = 1, as the paper)"
    plt.close(fig)


def test_single_panel_functions_draw_on_the_given_axes(cases):
    for name, (func, args, width, _) in cases.items():
        if width != figures.COLUMN_WIDTH:
            continue
        fig, ax = plt.subplots()
        assert func(*args, ax=ax) is fig, name
        assert ax.has_data(), name
        plt.close(fig)


def test_multi_panel_functions_draw_on_the_given_axes(cases):
    data = cases["dmfsharp.figures.figure1"][1][0]
    fig, axes = plt.subplots(1, 3)
    assert figures.figure1(data, axes=axes) is fig
    res = cases["dmfsharp.figures.matrix_figure"][1][0]
    fig2, axes2 = plt.subplots(len(res), 3)
    assert figures.matrix_figure(res, axes=axes2) is fig2
    with pytest.raises(ValueError, match="axes must hold 3 axes"):
        figures.figure1(data, axes=axes[:2])
    plt.close("all")


@pytest.mark.parametrize(
    ("fmt", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")]
)
def test_save_figure_formats(tmp_path, fmt, magic):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert figures.save_figure(fig, tmp_path / f"f.{fmt}", dpi=50).read_bytes().startswith(magic)
    assert figures.save_figure(fig, tmp_path / "g", fmt=fmt).read_bytes().startswith(magic)
    for bad, match in [({"fmt": "jpg"}, "format must be one of"), ({"dpi": 5}, "dpi must be")]:
        with pytest.raises(ValueError, match=match):
            figures.save_figure(fig, tmp_path / "h", **bad)
    with pytest.raises(ValueError, match="does not match the file name"):
        figures.save_figure(fig, tmp_path / "h.png", fmt="svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f." + fmt, "g"]  # nothing half-written
    plt.close(fig)


def test_figure_command_writes_pdf_and_svg(tmp_path, capsys, monkeypatch):
    small = figures.figure1_experiment(depth=4, steps=100)
    monkeypatch.setattr(figures, "figure1_experiment", lambda seed=0: small)
    for fmt, magic in (("pdf", b"%PDF"), ("svg", b"<?xml")):
        assert main(["figure", "fig1", "-o", str(tmp_path), "--format", fmt, "--dpi", "100"]) == 0
        assert (tmp_path / f"fig1.{fmt}").read_bytes().startswith(magic)
    assert main(["figure", "fig1", "-o", str(tmp_path), "--dpi", "0"]) != 0
    assert capsys.readouterr().err.strip().endswith("dpi must be an integer in [10, 2400], got 0")
    np.testing.assert_equal(sorted(p.suffix for p in tmp_path.iterdir()), [".md", ".pdf", ".svg"])
