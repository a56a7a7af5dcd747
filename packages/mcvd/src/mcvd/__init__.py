"""mcvd — molecular communication via diffusion near reflecting surfaces.

Units throughout: lengths in micrometres (µm), times in seconds (s), diffusion coefficients in
µm²/s. Channel response ``F(t)`` = expected fraction of released molecules absorbed by time ``t``.
"""

__version__ = "0.1.0"

from .geometry import (
    Box,
    Channel,
    Geometry,
    ImageSystem,
    Plane,
    Sphere,
    Transmitter,
    image_system,
    mirror_point,
    mirror_sphere,
)
from .kelvin import CaptureResult, capacitance
from .models import (
    ResponseResult,
    available_models,
    capture,
    get_model,
    register_model,
    response,
)
from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = [
    "Box",
    "CaptureResult",
    "Channel",
    "Geometry",
    "ImageSystem",
    "Plane",
    "ResponseResult",
    "Scenario",
    "ScenarioError",
    "Sphere",
    "Transmitter",
    "__version__",
    "available_models",
    "capacitance",
    "capture",
    "get_model",
    "image_system",
    "load_scenario",
    "mirror_point",
    "mirror_sphere",
    "register_model",
    "response",
    "scenario_from_dict",
]
