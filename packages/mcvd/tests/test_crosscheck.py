"""Simulator-based accuracy map: event-driven reference vs the exact solution (4 SE per cell)."""

import json
import math

import numpy as np
import pytest
from mcvd.cli import crosscheck as crosscheck_cli
from mcvd.cli import main
from mcvd.studies import accuracy
from mcvd.studies.crosscheck import cross_check


def test_placement_names_match_the_accuracy_module():
    assert crosscheck_cli._PLACEMENT_NAMES == tuple(accuracy.PLACEMENTS)
    assert crosscheck_cli._LAYOUT_NAMES == tuple(accuracy.LAYOUTS)


@pytest.mark.sim
def test_event_reference_agrees_with_exact_on_a_small_grid():
    cc = cross_check(
        ["kamber2024", "free"],
        gaps=[0.3, 10.0],
        placements=["on-plane", "behind"],
        times=[0.1, 0.5, 2.0, math.inf],
        se=2e-3,
        seed=1,
    )
    assert np.all(cc.event.uncertainty <= 2e-3)
    assert np.all(np.abs(cc.z) <= 4.0), cc.z
    # the closed forms' errors against the simulator differ from their errors against exact by
    # exactly F_exact - F_event (same model values in both maps), so also by at most 4 SE; the
    # identity is checked to rounding (a bound of 4 SE alone would only repeat the z check)
    ref_gap = cc.exact.F_reference - cc.event.F_reference
    diff = cc.event.error - cc.exact.error
    np.testing.assert_allclose(diff, np.broadcast_to(ref_gap, diff.shape), rtol=0, atol=1e-15)
    assert np.all(np.abs(ref_gap) <= 4.0 * cc.event.uncertainty)
    # and the simulator resolves the paper model's error where it is large (gap 0.3 µm)
    assert cc.model_errors()["kamber2024"][0] > 20 * 2e-3


@pytest.mark.sim
@pytest.mark.plot
def test_cli_crosscheck_writes_report(tmp_path, capsys):
    argv = ["crosscheck", "--gaps", "3", "--placements", "far", "--times", "0.5,inf"]
    rc = main([*argv, "--models", "free", "--se", "5e-3", "--out", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["agree"] and set(out["model_errors"]) == {"free"}
    assert (tmp_path / "crosscheck.md").exists() and (tmp_path / "event_map_z.png").exists()
    assert main(["crosscheck", "--gaps", "x"]) == 2


@pytest.mark.sim
@pytest.mark.plot
def test_cli_crosscheck_runs_the_further_geometries(tmp_path, capsys):
    argv = ["crosscheck", "--gaps", "5", "--placements", "corner", "--times", "0.5"]
    rc = main([*argv, "--models", "kamber2024", "--se", "2e-2", "--out", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["agree"] and set(out["model_errors"]) == {"kamber2024"}


@pytest.mark.slow
@pytest.mark.sim
def test_full_map_event_reference_agrees_with_exact():
    cc = cross_check(se=5e-4, seed=0)  # the default grid: 6 gaps x 4 placements x 7 times
    assert np.all(cc.event.uncertainty <= 5e-4 + 1e-12)
    assert cc.agree, cc.max_abs_z
    assert cc.max_error_difference() <= 4 * 5e-4


def test_z_uses_the_standard_error_at_the_exact_value_where_few_molecules_are_expected():
    # the full map's cell "far, gap 1 µm, t = 0.2 s": 6.37 of 1e6 molecules expected, 1 seen
    from mcvd.studies.accuracy import AccuracyMap
    from mcvd.studies.crosscheck import CrossCheck

    def amap(F, unc):
        shape = (1, 1, 1)
        return AccuracyMap(
            ("free",), ("far",), np.array([1.0]), np.array([0.2]), "x",
            np.full(shape, F), np.full(shape, unc), np.zeros((1, *shape)), 79.4, 5.0,
        )  # fmt: skip

    event, exact = amap(1e-6, 1e-6), amap(6.3677e-6, 1e-12)
    assert CrossCheck(event, exact).max_abs_z == pytest.approx(5.37, abs=0.01)  # SE at F_sim
    cc = CrossCheck(event, exact, 10**6)
    assert cc.max_abs_z == pytest.approx(5.3677 / math.sqrt(6.3677), rel=1e-4) and cc.agree
    # with many expected molecules the two standard errors agree: nothing changes
    big_ev, big_ex = amap(0.3010, math.sqrt(0.301 * 0.699 / 1e6)), amap(0.3, 1e-12)
    z0, z1 = CrossCheck(big_ev, big_ex).z, CrossCheck(big_ev, big_ex, 10**6).z
    assert z1 == pytest.approx(z0, rel=2e-3)
