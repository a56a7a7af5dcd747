"""Reactive receivers and degradation: validated fields, carried by images, refused where unsupported."""

import math

import numpy as np
import pytest
from mcvd import capture, response, simulate
from mcvd.core.freespace import free_F
from mcvd.core.geometry import Geometry, Plane, Sphere, Transmitter
from mcvd.core.scenario import ScenarioError, scenario_from_dict

BASE = {
    "D": 79.4,
    "transmitter": {"position": [0, 0, 10], "molecules": 100},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": 0.1, "dt": 1e-3},
}


def test_scenario_fields_default_to_the_absorbing_stable_channel():
    g = scenario_from_dict(BASE).geometry()
    assert g.receivers[0].reaction_rate == math.inf and g.degradation_rate == 0.0
    assert g.physics() == frozenset()


def test_scenario_fields_are_validated_and_reach_the_geometry():
    sc = {**BASE, "degradation_rate": 0.5}
    sc["receivers"] = [{"center": [10, 0, 0], "radius": 5, "reaction_rate": 20.0}]
    g = scenario_from_dict(sc).geometry()
    assert g.receivers[0].reaction_rate == 20.0 and g.degradation_rate == 0.5
    # images carry the reaction rate of their receiver
    assert {s.reaction_rate for s in g.image_receivers()[0]} == {20.0}
    for bad in ({"degradation_rate": -1.0}, {"degradation_rate": "0.5"}):
        with pytest.raises(ScenarioError, match="degradation_rate"):
            scenario_from_dict({**BASE, **bad})
    with pytest.raises(ScenarioError, match="reaction_rate"):
        scenario_from_dict(
            {**BASE, "receivers": [{"center": [10, 0, 0], "radius": 5, "reaction_rate": 0}]}
        )


def test_geometry_rejects_bad_physics_values():
    tx = Transmitter((0, 0, 10))
    with pytest.raises(ValueError, match="reaction_rate must be > 0"):
        Sphere((10, 0, 0), 5, reaction_rate=-1.0)
    with pytest.raises(ValueError, match="reaction_rate must be finite"):
        Sphere((10, 0, 0), 5, reaction_rate=math.nan)
    with pytest.raises(ValueError, match="degradation_rate must be >= 0"):
        Geometry(79.4, tx, [Sphere((10, 0, 0), 5)], [Plane((0, 0, 0), (1, 0, 0))], (), -0.1)
    # the free-space closed forms check the rate as the receiver does (a string or bool is refused)
    for bad, error, match in [
        (-1.0, ValueError, "reaction_rate must be > 0"),
        (math.nan, ValueError, "reaction_rate must be finite"),
        ("20", TypeError, "reaction_rate must be a real number"),
        (True, TypeError, "reaction_rate must be a real number"),
    ]:
        with pytest.raises(error, match=match):
            free_F(0.5, 10.0, 5.0, 79.4, reaction_rate=bad)
    assert Sphere((10, 0, 0), 5, reaction_rate=np.float64(np.inf)).is_absorbing


@pytest.mark.parametrize("model", ["kamber2024", "kamber2024-conv", "images-ho"])
def test_closed_forms_refuse_reactive_receivers_and_degradation(model):
    reactive = {**BASE, "receivers": [{"center": [10, 0, 0], "radius": 5, "reaction_rate": 20.0}]}
    with pytest.raises(ValueError, match=f"reaction_rate: model '{model}' supports only"):
        response(scenario_from_dict(reactive), [0.1], model=model)
    with pytest.raises(ValueError, match=f"degradation_rate: model '{model}' supports only"):
        response(scenario_from_dict({**BASE, "degradation_rate": 1.0}), [0.1], model=model)


def test_capture_series_refuses_degradation():
    sc = scenario_from_dict({**BASE, "degradation_rate": 1.0})
    with pytest.raises(ValueError, match="degradation_rate: capture method 'kelvin'"):
        capture(sc, method="kelvin")
    # the default answers from the exact solution: F(inf) = w(x_T, k_d)
    res = capture(sc)
    assert res.method == "exact"
    assert res.F_inf == pytest.approx(response(sc, [math.inf], model="exact").F[0], abs=1e-10)


@pytest.mark.sim
@pytest.mark.parametrize("method", ["fixed-step", "event"])
def test_simulators_take_the_physics_fields(method):
    # both simulators model degradation (their accuracy: test_sim_reactive); the rate reaches the run
    sc = scenario_from_dict({**BASE, "degradation_rate": 1.0})
    assert simulate(sc, method, seed=1, executor="inline").metadata["degradation_rate"] == 1.0


def test_the_smoldyn_export_refuses_physics_it_does_not_write():
    from mcvd.sim.smoldyn import smoldyn_config

    sc = scenario_from_dict({**BASE, "degradation_rate": 1.0})
    with pytest.raises(ValueError, match="degradation_rate: the Smoldyn export supports only"):
        smoldyn_config(sc)
