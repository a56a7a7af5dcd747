"""Curves/metrics, plots, the `response`/`capture` CLI and the demo."""

import json
import math

import numpy as np
import pytest
from mcvd import example_path
from mcvd.cli import main
from mcvd.core.curves import (
    bin_counts,
    cumulative_counts,
    max_error,
    nrmse,
    peak_time,
    sir,
    sir_from_counts,
)
from mcvd.core.freespace import free_F, free_peak_time
from mcvd.core.geometry import Geometry
from mcvd.core.models import response
from mcvd.core.scenario import load_scenario

D = 79.4
EXAMPLE = example_path("paper_halfspace")
PAPER = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])


def test_counts_and_errors():
    edges = np.linspace(0, 2, 401)
    F = free_F(edges, 10, 5, D)
    counts = bin_counts(F, 1e6)
    assert counts.shape == (400,)
    assert counts.sum() == pytest.approx(1e6 * float(free_F(2.0, 10, 5, D)))
    assert np.allclose(cumulative_counts(F, 10), 10 * F)
    a, b = np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.5, 2.0])
    assert max_error(a, b) == 1.0
    assert nrmse(a, b) == pytest.approx(math.sqrt((0.25 + 1.0) / 3) / 2.0)
    with pytest.raises(ValueError, match="same shape"):
        max_error([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="constant"):
        nrmse([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="molecules"):
        bin_counts(F, 0)


def test_numerical_peak_time_matches_closed_form():
    g = Geometry.simple(D, (0, 0, 0), [((10, 0, 0), 5)])
    p = peak_time(g, "free")
    assert p.time == pytest.approx(free_peak_time(10, 5, D), rel=1e-6)
    # rate at the peak = closed-form f(t_peak)
    from mcvd.core.freespace import free_f

    assert p.rate == pytest.approx(float(free_f(p.time, 10, 5, D)), rel=1e-6)
    # the half-space peak of the paper model is close to free space at the same distance
    assert peak_time(PAPER, "kamber2024").time == pytest.approx(
        free_peak_time(math.hypot(10, 10), 5, D), rel=0.05
    )


def test_sir():
    assert sir_from_counts(80, 100) == 400.0
    with pytest.raises(ValueError):
        sir_from_counts(120, 100)
    g = Geometry.simple(D, (20, 0, 0), [((10, 0, 0), 5)])
    tp = free_peak_time(10, 5, D)
    s5, s2 = free_F(5 * tp, 10, 5, D), free_F(2.0, 10, 5, D)
    assert sir(g, "free", horizon=2.0) == pytest.approx(100 * s5 / (s2 - s5), rel=1e-5)


@pytest.mark.plot
def test_plots_return_figures():
    import matplotlib

    matplotlib.use("Agg")
    from mcvd.core.plots import plot_geometry, plot_responses

    t = np.linspace(0, 2, 50)
    fig = plot_responses([response(PAPER, t, model=m) for m in ("free", "images-ho")])
    assert len(fig.axes[0].lines) == 2
    corner = Geometry.simple(
        D, (0, 0, 10), [((10, 8, 0), 5)], [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))]
    )
    fig2 = plot_geometry(corner, axes="xy")
    assert len(fig2.axes[0].patches) == 4  # receiver + 3 images
    with pytest.raises(ValueError, match="axes"):
        plot_geometry(corner, axes="xx")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_cli_response_and_capture_json(capsys):
    assert (
        main(
            ["response", str(EXAMPLE), "--model", "kamber2024", "--times", "0.1,0.5,1,2", "--json"]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["times"] == [0.1, 0.5, 1.0, 2.0]
    assert len(out["F"]) == 4 and len(out["F_per_receiver"]) == 1
    ref = response(PAPER, [0.1, 0.5, 1, 2], model="kamber2024").F
    assert np.allclose(out["F"], ref)
    assert main(["capture", str(EXAMPLE), "--json"]) == 0
    cap = json.loads(capsys.readouterr().out)
    assert cap["F_inf"] == pytest.approx(0.5586959986, abs=1e-9)
    assert main(["response", str(EXAMPLE)]) == 0
    assert "images-ho" in capsys.readouterr().out


def test_cli_errors_one_line(capsys, tmp_path):
    assert main(["response", str(EXAMPLE), "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcvd: error: model must be one of") and err.count("\n") == 1
    assert main(["response", str(EXAMPLE), "--times", "1,x"]) == 2
    assert "--times" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "D": 79.4,
                "transmitter": {"position": [10, 0, 1]},
                "receivers": [{"center": [10, 0, 0], "radius": 5}],
            }
        )
    )
    assert main(["capture", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "inside or on receivers[0]" in err and err.count("\n") == 1


@pytest.mark.plot
def test_demo_writes_report(tmp_path, monkeypatch):
    # fast tier: the analytic section only (the full demo, with the simulator sections of the
    # other issues, runs in `make demo` and in the slow test below)
    from mcvd.studies import demo

    assert demo.section_analytic in demo.SECTIONS
    monkeypatch.setattr(demo, "SECTIONS", [demo.section_analytic])
    demo.run_demo(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("## mcvd")
    assert "analytic_paper.png" in report and (tmp_path / "analytic_paper.png").stat().st_size > 0
    assert "| images-ho |" in report and "| exact |" in report
    rows = [r for r in (tmp_path / "summary.md").read_text().splitlines() if r.startswith("| ")]
    assert len(rows) - 1 == 3  # header + 3 result rows from this section


@pytest.mark.slow
@pytest.mark.sim
@pytest.mark.plot
def test_full_demo_summary_rows_and_nothing_left_to_resume(tmp_path):
    from mcvd.studies.demo import MAX_SUMMARY_ROWS, RUNS, run_demo

    run_demo(tmp_path)
    rows = [r for r in (tmp_path / "summary.md").read_text().splitlines() if r.startswith("| ")]
    assert 3 <= len(rows) - 1 <= MAX_SUMMARY_ROWS
    assert not (tmp_path / RUNS).exists()  # the resumable runs are removed once complete


def test_example_command_lists_and_writes_the_shipped_scenarios(tmp_path, capsys):
    assert main(["example"]) == 0
    assert "paper_halfspace" in capsys.readouterr().out.split()
    out = tmp_path / "paper.json"
    assert main(["example", "paper_halfspace", "-o", str(out)]) == 0
    assert load_scenario(out) == load_scenario(example_path("paper_halfspace"))
    assert main(["example", "nope"]) == 2
    assert "example must be one of" in capsys.readouterr().err
    assert main(["example", "paper_halfspace", "-o", str(tmp_path / "missing" / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mcvd: error: -o/--output: folder") and len(err.splitlines()) == 1
