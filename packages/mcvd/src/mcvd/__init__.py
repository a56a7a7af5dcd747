"""mcvd — molecular communication via diffusion near reflecting surfaces.

Units throughout: lengths in micrometres (µm), times in seconds (s), diffusion coefficients in
µm²/s. Channel response ``F(t)`` = expected fraction of released molecules absorbed by time ``t``.

Layers (each imports only the layers listed before it): :mod:`mcvd.core` (geometry,
scenarios, analytic and exact models, curves), :mod:`mcvd.sim` (particle simulators, runner,
results), :mod:`mcvd.comm` (communication: count law, BER), :mod:`mcvd.studies` (accuracy map, cross-checks, paper studies, demo) and
:mod:`mcvd.cli` (the command line). The names below are the public API, loaded on first use.
"""

import importlib

from ._version import __version__

#: public name -> submodule that defines it; imported on first access (PEP 562), so that
#: ``import mcvd`` (and every ``mcvd`` command-line start) does not load scipy and pydantic
#: before a command needs them.
_EXPORTS = {
    **dict.fromkeys(
        (
            "Box",
            "Channel",
            "Geometry",
            "ImageSystem",
            "Plane",
            "Sphere",
            "Transmitter",
            "image_system",
            "mirror_point",
            "mirror_sphere",
        ),
        "core.geometry",
    ),
    **dict.fromkeys(("CaptureResult", "capacitance"), "core.kelvin"),
    **dict.fromkeys(
        (
            "ResponseResult",
            "available_models",
            "capture",
            "get_model",
            "register_model",
            "response",
        ),
        "core.models",
    ),
    **dict.fromkeys(
        ("Scenario", "ScenarioError", "load_scenario", "scenario_from_dict"), "core.scenario"
    ),
    **dict.fromkeys(("EventOptions", "FixedStepOptions", "simulate"), "sim.api"),
    **dict.fromkeys(("SimulatedResponse", "SimulationResult"), "sim.result"),
    **dict.fromkeys(("ber", "count_law", "slot_probabilities"), "comm"),
    "example_path": "examples",
    "load_example": "examples",
}


#: public name -> its name in the defining module, where the two differ
_RENAMED = {"example_path": "path", "load_example": "load"}


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, _RENAMED.get(name, name))
    else:
        try:  # a submodule, as after the former eager imports (``mcvd.core.models.response``)
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Box",
    "CaptureResult",
    "Channel",
    "EventOptions",
    "FixedStepOptions",
    "Geometry",
    "ImageSystem",
    "Plane",
    "ResponseResult",
    "Scenario",
    "ScenarioError",
    "SimulatedResponse",
    "SimulationResult",
    "Sphere",
    "Transmitter",
    "__version__",
    "available_models",
    "ber",
    "capacitance",
    "capture",
    "count_law",
    "example_path",
    "get_model",
    "image_system",
    "load_example",
    "load_scenario",
    "mirror_point",
    "mirror_sphere",
    "register_model",
    "response",
    "scenario_from_dict",
    "simulate",
    "slot_probabilities",
]
