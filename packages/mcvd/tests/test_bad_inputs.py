"""Bad inputs get one clear line and a non-zero exit (CLI) or a one-line ValueError/TypeError
(API) — never a number, a traceback, or a run that should not start."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from mcvd import capture, load_example, response
from mcvd.cli import main
from mcvd.core.geometry import Geometry, smallest_length
from mcvd.core.io import atomic_write
from mcvd.core.scenario import ScenarioError, scenario_from_dict
from mcvd.sim.result import SimulationResult

PAPER = load_example("paper_halfspace").model_dump(exclude_none=True)


@pytest.fixture
def paper(tmp_path):
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(PAPER))
    return path


def run_cli(argv, capsys):
    """(exit status, the lines on stderr) of ``mcvd ARGV``."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors (one line too, see cli._common.Parser)
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.err.strip().splitlines(), out.out


def assert_one_line(argv, capsys, *needles):
    rc, err, out = run_cli(argv, capsys)
    assert rc == 2, (rc, err, out)
    assert len(err) == 1, err
    assert err[0].startswith("mcvd: error: "), err
    for needle in needles:
        assert needle in err[0], err[0]
    assert out == ""  # no number was printed
    return err[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--tol", "nan"], ["--tol", "between 1e-15 and 1e-2", "nan"]),
        (["--tol", "-1"], ["--tol", "-1"]),
        (["--tol", "0"], ["--tol"]),
        (["--tol", "1"], ["--tol"]),
        (["--tol", "x"], ["--tol", "must be a number"]),
    ],
)
def test_capture_tolerance_is_validated(paper, capsys, args, needles):
    assert_one_line(["capture", paper, *args], capsys, *needles)


def test_capture_tolerance_is_validated_in_the_api():
    sc = load_example("paper_halfspace")
    for tol in (math.nan, -1.0, 0.0, 1e-16, 0.5, math.inf):
        with pytest.raises(ValueError, match="tol must be"):
            capture(sc, tol=tol)
    with pytest.raises(TypeError, match="tol must be a real number"):
        capture(sc, tol="1e-3")
    with pytest.raises(ValueError, match="tol must be"):
        response(sc, [1.0], model="images-ho", tol=math.nan)
    assert capture(sc, tol=1e-15).F_inf == pytest.approx(0.5586959986, abs=1e-9)


@pytest.mark.sim
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        # the absorption shell against the geometry (the paper's smallest length: r = gap = 5 µm)
        (["--method", "event", "--eps", "100"], ["eps = 100 µm", "1%", "give eps <= 0.05"]),
        (["--method", "event", "--eps", "0.06"], ["eps = 0.06 µm", "F(receivers enlarged by eps)"]),
        (["--method", "event", "--eps", "nan"], ["--eps", "finite number > 0"]),
        (["--method", "event", "--eps", "-1"], ["--eps"]),
        (["--eps", "1e-3"], ["--eps does not apply to --method fixed-step"]),
        # molecule counts: parsed exactly, bounded, estimated before anything starts
        (["--molecules", "1e20"], ["--molecules", "at most 2**53"]),
        (["--molecules", str(2**63)], ["--molecules", "at most 2**53"]),
        (["--molecules", "1.5"], ["--molecules", "whole number"]),
        (["--molecules", "0"], ["--molecules", ">= 1"]),
        (["--molecules", "-3"], ["--molecules", ">= 1"]),
        (["--molecules", "lots"], ["--molecules", "must be a number"]),
        (["--molecules", "1e12"], ["estimated to take", "days", "24 h limit", "--force"]),
        (["--method", "event", "--molecules", "1e12"], ["estimated to take", "--force"]),
        # the time step: against the horizon, and the run time it implies
        (["--dt", "1e-9", "--molecules", "1e5"], ["estimated to take", "24 h limit"]),
        (["--dt", "10"], ["dt (10", "must be <= the horizon"]),
        (["--dt", "nan"], ["--dt", "finite number > 0"]),
        (["--dt", "0"], ["--dt"]),
        (["--dt", "inf"], ["--dt"]),
        # reported times: within the simulated horizon, refused before the run
        (["--times", "5"], ["--times", "beyond the simulated horizon", "2 s"]),
        (["--times", ","], ["--times must list at least one number"]),
        (["--times", "nan"], ["--times"]),
        (["--times", "-1"], ["--times"]),
        # execution options
        (["--seed", "-5"], ["--seed", ">= 0"]),
        (["--seed", "1.5"], ["--seed", "whole number"]),
        (["--workers", "0"], ["--workers", ">= 1"]),
        (["--chunk-size", "0"], ["--chunk-size", ">= 1"]),
        (["--molecules", "1e9", "--chunk-size", "1"], ["chunk_size 1 makes more than 100000"]),
        (["--method", "nope"], ["--method", "invalid choice"]),
    ],
)
def test_simulate_bad_options_are_one_line(paper, capsys, run_cache, args, needles):
    assert_one_line(["simulate", paper, "--no-progress", *args], capsys, *needles)


@pytest.mark.sim
def test_simulate_bad_paths_are_one_line(paper, tmp_path, capsys, run_cache):
    base = ["simulate", paper, "--no-progress", "--molecules", "10"]
    assert_one_line([*base, "-o", tmp_path / "r.txt"], capsys, "-o/--output must end in .npz")
    assert_one_line([*base, "-o", tmp_path / "no" / "r.npz"], capsys, "folder", "does not exist")
    (tmp_path / "d.npz").mkdir()
    assert_one_line([*base, "-o", tmp_path / "d.npz"], capsys, "is a directory")
    (tmp_path / "file").write_text("x")
    assert_one_line([*base, "--run-dir", tmp_path / "file"], capsys, "is a file, not a directory")
    assert_one_line(["simulate", tmp_path / "missing.json"], capsys, "cannot read", "missing.json")
    assert_one_line(["simulate", tmp_path], capsys, "cannot read")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--se", "0.7"], ["--se", "between 0 and 0.5"]),
        (["--se", "nan"], ["--se"]),
        (["--se", "1e-7"], ["estimated to take", "24 h limit", "--force"]),
        (["--gaps", "-1"], ["--gaps must be finite numbers > 0"]),
        (["--gaps", "nan"], ["--gaps must be finite numbers > 0"]),
        (["--gaps", ","], ["--gaps must list at least one number"]),
        (["--times", "-1"], ["--times"]),
        (["--placements", "nowhere"], ["--placements: 'nowhere' is not one of"]),
        (["--placements", ","], ["--placements must list at least one name"]),
        (["--models", ","], ["--models must list at least one name"]),
        (["--workers", "0"], ["--workers", ">= 1"]),
        (["--seed", "-1"], ["--seed"]),
    ],
)
@pytest.mark.plot
def test_crosscheck_bad_options_are_one_line(tmp_path, capsys, args, needles):
    assert_one_line(["crosscheck", "--out", tmp_path / "cc", *args], capsys, *needles)


def test_response_and_example_and_demo_bad_inputs_are_one_line(paper, tmp_path, capsys):
    assert_one_line(["response", paper, "--times", ","], capsys, "--times must list at least one")
    assert_one_line(["response", paper, "--times", "nan"], capsys, "--times")
    assert_one_line(["response", paper, "--model", "nope"], capsys, "model must be one of")
    assert_one_line(["example", "paper_halfspace", "-o", tmp_path / "x.txt"], capsys, ".json")
    assert_one_line(
        ["example", "paper_halfspace", "-o", tmp_path / "no" / "x.json"], capsys, "folder"
    )
    (tmp_path / "file").write_text("x")
    assert_one_line(["demo", "--out", tmp_path / "file"], capsys, "--out", "is a file")
    assert_one_line(
        ["crosscheck", "--out", tmp_path / "file" / "x"], capsys, "--out", "cannot create"
    )


def test_writes_name_the_destination_never_a_temporary_file(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError) as exc:
        atomic_write(tmp_path / "dir", lambda tmp: open(tmp, "w").write("x"))
    assert f"cannot write {tmp_path / 'dir'}" in str(exc.value) and ".tmp" not in str(exc.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as exc:
        atomic_write(tmp_path / "file" / "x.txt", lambda tmp: open(tmp, "w").write("x"))
    assert "cannot write" in str(exc.value) and ".tmp" not in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]  # nothing left behind


def test_scenario_counts_accept_integral_floats_and_refuse_the_rest(tmp_path, capsys):
    base = {k: v for k, v in PAPER.items() if k != "transmitter"}

    def with_molecules(m):
        return {**base, "transmitter": {"position": [0, 0, 10], "molecules": m}}

    # JSON has one number type: an integral float is that count
    assert scenario_from_dict(with_molecules(1e6)).total_molecules == 1_000_000
    assert scenario_from_dict(with_molecules(1000000.0)).total_molecules == 1_000_000
    for m, match in [
        (1.5, "must be a whole number"),
        (1e20, "at most 2\\*\\*53"),
        (2**63, "less than or equal to 9007199254740992"),
        (True, "valid integer"),
        ("1000", "valid integer"),
        (0, "greater than or equal to 1"),
    ]:
        with pytest.raises(ScenarioError, match=match) as exc:
            scenario_from_dict(with_molecules(m))
        assert "transmitter.molecules" in str(exc.value) and "\n" not in str(exc.value)
    for field, value in [("D", "79.4"), ("D", True), ("D", math.nan)]:
        with pytest.raises(ScenarioError, match=f"scenario field {field}"):
            scenario_from_dict({**PAPER, field: value})
    path = tmp_path / "float.json"
    path.write_text(json.dumps(with_molecules(1e6)).replace("1000000.0", "1e6"))
    assert main(["response", str(path), "--times", "1"]) == 0
    assert "(1000000 molecules)" in capsys.readouterr().out


def test_simulation_response_refuses_times_beyond_the_horizon():
    r = SimulationResult.from_absorptions([0, -1], [0.5, np.inf], 2, [0.0, 1.0, 2.0], 1)
    with pytest.raises(ValueError, match=r"2\.5 s is beyond the simulated horizon 2 s"):
        r.response([1.0, 2.5])
    with pytest.raises(ValueError, match="beyond the simulated horizon"):
        r.response([math.inf])
    with pytest.raises(ValueError, match="beyond the simulated horizon"):
        r.bin_counts([0.0, 3.0])
    with pytest.raises(ValueError, match="non-empty"):
        r.response([])
    assert r.response([2.0 * (1 + 1e-12)]).F.tolist() == [0.5]  # rounding of the horizon is fine
    capt = SimulationResult.from_absorptions([0, -1], [0.5, np.inf], 2, [0.0, math.inf], 1)
    assert capt.response([0.5, math.inf]).F.tolist() == [0.5, 0.5]  # an infinite horizon


@pytest.mark.sim
def test_api_simulate_bad_arguments_are_one_line():
    from mcvd.sim import simulate

    sc = {**PAPER, "time": {"end": 0.1, "dt": 1e-3}}
    for kw, error, match in [
        ({"n_molecules": 2**63}, ValueError, r"n_molecules must be <= 2\*\*53"),
        ({"n_molecules": 1e6}, TypeError, "n_molecules must be an integer"),
        ({"n_molecules": 10**12}, ValueError, "estimated to take"),
        ({"dt": 1.0}, ValueError, "must be <= the horizon"),
        ({"method": "event", "eps": 1.0}, ValueError, r"eps = 1 µm is more than 1%"),
        ({"method": "event", "eps": math.nan}, ValueError, "eps must be finite"),
        ({"t_end": math.nan}, ValueError, "t_end"),
        ({"seed": -5}, ValueError, "seed must be a non-negative integer"),
    ]:
        method = kw.pop("method", "fixed-step")
        with pytest.raises(error, match=match) as exc:
            simulate(sc, method, executor="inline", **kw)
        assert "\n" not in str(exc.value)


def test_smallest_length_sets_the_eps_bound():
    touching = Geometry.simple(79.4, (0, 0, 20), [((5, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    assert smallest_length(touching) == (5.0, "receivers[0] radius")  # a zero gap sets no scale
    close = Geometry.simple(79.4, (0, 0, 20), [((5.2, 0, 0), 5), ((16, 0, 0), 5.5)])
    length, what = smallest_length(close)
    assert what == "gap between receivers[0] and receivers[1]" and length == pytest.approx(0.3)
