"""`mcvd ber` and the BER study / demo section."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mcvd import example_path
from mcvd.cli.main import build_parser, main
from mcvd.comm import ber
from mcvd.core.scenario import load_scenario

PAPER = str(example_path("paper_halfspace"))


def run(capsys, *argv):
    status = main(["ber", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_has_the_documented_keys_and_the_library_numbers(capsys):
    status, out, err = run(capsys, PAPER, "--symbol-duration", "1", "--molecules", "1000", "--json")
    assert status == 0 and err == ""
    d = json.loads(out)
    keys = (
        "ber",
        "threshold",
        "slot_probabilities",
        "tail",
        "model",
        "memory",
        "molecules",
        "symbol_duration",
    )
    assert all(k in d for k in keys)
    lib = ber(load_scenario(PAPER), 1.0, 1000, 10)
    assert d["ber"] == lib.ber and d["threshold"] == 243 == lib.threshold
    assert d["model"] == "exact" and d["memory"] == 10 and d["molecules"] == 1000
    assert d["symbol_duration"] == 1.0 and len(d["slot_probabilities"]) == 11
    assert d["tail"] == pytest.approx(lib.slots.tail)


def test_given_threshold_memory_prior_and_text(capsys):
    status, out, _ = run(
        capsys,
        PAPER,
        "--symbol-duration",
        "0.5",
        "--molecules",
        "300",
        "--threshold",
        "40",
        "--memory",
        "4",
        "--p1",
        "0.3",
        "--model",
        "images-ho",
    )
    assert status == 0
    lib = ber(load_scenario(PAPER), 0.5, 300, 4, threshold=40, p1=0.3, model="images-ho")
    assert out.startswith(f"BER {lib.ber:.3e} at threshold 40 (given); model images-ho")
    assert "memory 4 slots" in out and "neglected tail" in out


def test_sweep_table_plot_and_json(capsys, tmp_path):
    png = tmp_path / "ber.png"
    status, out, _ = run(
        capsys,
        PAPER,
        "--symbol-durations",
        "0.5,1",
        "--molecules",
        "1000",
        "--model",
        "kamber2024,exact",
        "--plot",
        str(png),
    )
    assert status == 0 and png.stat().st_size > 1000
    lines = out.splitlines()
    assert "kamber2024 / exact" in lines[1] and len(lines) == 5
    assert lines[4].startswith("| 1 | 5.36e-12 | 0.00753 | 7.12e-10 |")
    status, out, _ = run(
        capsys,
        PAPER,
        "--symbol-durations",
        "0.5,1",
        "--molecules",
        "1000",
        "--model",
        "free,exact",
        "--json",
    )
    d = json.loads(out)
    assert d["models"] == ["free", "exact"] and np.shape(d["ber"]) == (2, 2)


def test_count_law_plot(capsys, tmp_path):
    png = tmp_path / "law.png"
    status, _, _ = run(
        capsys, PAPER, "--symbol-duration", "1", "--molecules", "100", "--plot", str(png)
    )
    assert status == 0 and png.stat().st_size > 1000


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--symbol-duration", "1", "--molecules", "10.5"], "molecules must be an integer"),
        (["--symbol-duration", "0", "--molecules", "10"], "symbol_duration must be > 0"),
        (["--symbol-duration", "nan", "--molecules", "10"], "symbol_duration must be finite"),
        (["--symbol-duration", "1", "--molecules", "10", "--p1", "1.5"], "p1 must be in"),
        (["--symbol-duration", "1", "--molecules", "10", "--threshold", "-1"], "threshold"),
        (["--symbol-duration", "1", "--molecules", "10", "--memory", "1e9"], "memory must be"),
        (["--symbol-duration", "1", "--molecules", "ten"], "--molecules must be a number"),
        (["--molecules", "10"], "exactly one of --symbol-duration"),
        (["--symbol-duration", "1", "--molecules", "10", "--model", "nope"], "model must be"),
        (["--symbol-durations", "1,x", "--molecules", "10"], "--symbol-durations must be"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(capsys, extra, match):
    status, out, err = run(capsys, PAPER, *extra)
    assert status == 2 and out == ""
    assert err.startswith("mcvd: error: ") and match in err and err.count("\n") == 1


def test_help_shows_every_default():
    text = build_parser()._subparsers._group_actions[0].choices["ber"].format_help()
    for opt in (
        "--memory",
        "--p1",
        "--model",
        "--approximation",
        "--receiver",
        "--transmitter",
        "--threshold",
        "--json",
        "--plot",
    ):
        assert opt in text
    for default in ("default 10", "default 0.5", "default exact", "BER-optimal"):
        assert default in " ".join(text.split())


def test_ber_study_and_demo_section(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from mcvd.studies.ber import ber_study, section_ber

    s = ber_study(symbol_durations=(0.5, 1.0), memories=(10, 100))
    paper, near = s.sweeps["paper"], s.sweeps["near wall"]
    assert paper.models == ("free", "kamber2024", "images-ho", "exact")
    r = paper.ratio("exact")
    assert r[1, 1] == pytest.approx(0.00753, rel=1e-2)  # kamber2024, paper topology, 1 s
    assert np.all(np.abs(r[:3, 0] - 1) < 2)  # 0.5 s: within a factor 3 of exact (free: 2.8)
    assert np.all(near.ratio("exact")[1] < 1e-2)  # near the wall the closed form is worse
    assert s.memory_sweep.ber[-1, 1] > 5 * s.memory_sweep.ber[-1, 0]  # memory 100 vs 10
    sec = section_ber(tmp_path, np.random.SeedSequence(0))
    assert "| paper | 1 |" in sec.markdown and (tmp_path / "ber_vs_symbol_duration.png").exists()
    assert len(sec.summary_rows) == 1
