"""Monte Carlo check of the count law and the BER with the event-driven simulator."""

from __future__ import annotations

import numpy as np
import pytest
from mcvd.comm import monte_carlo_ber
from mcvd.core.geometry import Geometry, Sphere, Transmitter

D = 79.4  # µm²/s


def paper():
    return Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])


def check(mc, confidence_z=4.0):
    """Exact BER inside the interval; count histograms within 4 SE per bin (bins expecting at
    least 5 frames, where the normal approximation of a bin count holds) and by chi-square."""
    assert mc.agrees, (mc.ber, mc.ci, mc.exact.ber)
    for b in (0, 1):
        _, _, expected = mc.histogram(b)
        z = mc.z_scores(b)[expected >= 5]
        assert z.size >= 5 and np.max(np.abs(z)) < confidence_z
        stat, dof, pvalue = mc.chi_square(b)
        assert dof >= 5 and pvalue > 1e-3, (b, stat, dof)


def test_monte_carlo_agrees_with_the_exact_law():
    # 1 s slots, 50 molecules, memory 2: exact BER 0.0108, measurable with 6000 frames
    mc = monte_carlo_ber(paper(), 1.0, 50, 2, n_frames=6000, seed=11, confidence=0.9999)
    assert mc.exact.ber == pytest.approx(0.01084, rel=1e-3) and mc.threshold == 10
    assert mc.n_frames == 6000 and mc.errors > 30
    check(mc)
    # same seed, same frames (bits and walks)
    a = monte_carlo_ber(paper(), 1.0, 50, 2, n_frames=500, seed=12)
    b = monte_carlo_ber(paper(), 1.0, 50, 2, n_frames=500, seed=12)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.bits, b.bits)
    assert not np.array_equal(a.counts, mc.counts[:500])


def test_monte_carlo_rejects_bad_input():
    with pytest.raises(ValueError, match="n_frames must be >= 1"):
        monte_carlo_ber(paper(), 1.0, 50, 2, n_frames=0)
    with pytest.raises(ValueError, match="confidence"):
        monte_carlo_ber(paper(), 1.0, 50, 2, confidence=1.0)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\), got 1.5"):
        monte_carlo_ber(paper(), 1.0, 50, 2, confidence=1.5)
    with pytest.raises(ValueError, match="symbol_duration must be > 0"):
        monte_carlo_ber(paper(), 0.0, 50, 2)


@pytest.mark.slow
def test_monte_carlo_small_ber_and_a_given_threshold():
    # 100 molecules: exact BER 1.4e-3; 1e5 frames give ~140 errors
    mc = monte_carlo_ber(paper(), 1.0, 100, 2, n_frames=100_000, seed=3, confidence=0.9999)
    assert 1e-3 < mc.exact.ber < 2e-3
    check(mc)
    off = monte_carlo_ber(
        paper(), 1.0, 100, 2, n_frames=20_000, threshold=25, seed=4, confidence=0.9999
    )
    assert off.threshold == 25 and not off.exact.optimal
    assert off.agrees


def test_monte_carlo_with_an_interfering_transmitter():
    g = Geometry(
        D,
        (Transmitter((0, 0, 10), 1), Transmitter((0, 0, -20), 1, 0.4)),
        (Sphere((10, 0, 0), 5),),
        (),
    )
    mc = monte_carlo_ber(
        g, 1.0, 60, 2, n_frames=30_000, seed=8, confidence=0.9999, interferer_molecules=40
    )
    assert mc.exact.slots.n_interferers == 1 and mc.exact.ber > 1e-3
    check(mc)
