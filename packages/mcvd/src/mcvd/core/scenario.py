"""JSON scenario files (pydantic v2 models) shared by the analytic models and the simulators.

Format (units µm, s, µm²/s; field names are fixed, extra optional fields may be added)::

    {"D": 79.4,
     "transmitter": {"position": [0, 0, 10], "molecules": 1000000, "release_time": 0.0},
     "receivers": [{"center": [10, 0, 0], "radius": 5}],
     "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
     "obstacles": [{"type": "box", "min": [-2, -20, -20], "max": [2, 20, 20]}],
     "time": {"end": 2.0, "dt": 1e-4}}

Either ``transmitter`` (one) or ``transmitters`` (a list) is given. ``planes``, ``obstacles`` and
``time`` are optional (``time`` defaults to ``{"end": 2.0, "dt": 1e-4}``). Optional physics: a
receiver's ``"reaction_rate"`` (µm/s, > 0; absent = perfectly absorbing) makes it reactive
(partially absorbing), and a top-level ``"degradation_rate"`` (1/s, >= 0; absent = 0) lets the
molecules degrade in the fluid; models and simulators that cannot represent them refuse. ``name`` and
``description`` (strings) and ``metadata`` (any JSON object) are free-form. Unknown keys are
rejected so that typos do not pass silently.

Numbers are strict: a string (``"79.4"``) or a boolean is refused where a number is expected. A
count (``molecules``) must be a whole number from 1 to 2**53; an integral JSON float such as
``1e6`` or ``1000000.0`` is accepted as that integer (JSON has a single number type and many
writers emit counts in exponent form; the value is unambiguous), a fractional one (``1.5``) is
refused.

Every validation error is a single-line :class:`ScenarioError` (a :class:`ValueError`) naming the
field, e.g. ``scenario field receivers[0].radius: Input should be greater than 0``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
    model_validator,
)

from .geometry import Box, Geometry, Plane, Sphere, Transmitter

__all__ = [
    "Scenario",
    "ScenarioError",
    "as_scenario",
    "load_scenario",
    "scenario_from_dict",
]

Vec3 = Annotated[list[FiniteFloat], Field(min_length=3, max_length=3)]
PositiveFloat = Annotated[FiniteFloat, Field(gt=0)]

#: largest molecule count of a transmitter (counts stay exact as floats)
MAX_COUNT = 2**53


def _whole_number(value):
    """An integral float (``1e6``) becomes that int; a fractional one is refused; anything else
    is left to the strict integer check (which refuses strings and booleans)."""
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise ValueError(f"must be a whole number, got {value!r}")
        if abs(value) > MAX_COUNT:
            raise ValueError(f"must be at most 2**53 = {MAX_COUNT}, got {value:g}")
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=MAX_COUNT)]


class ScenarioError(ValueError):
    """A scenario file or dictionary failed validation (one-line message)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TransmitterSpec(_Strict):
    """A point transmitter: position (µm), molecules (>= 1), release_time (s, >= 0)."""

    position: Vec3
    molecules: Count = 1
    release_time: Annotated[FiniteFloat, Field(ge=0)] = 0.0


class ReceiverSpec(_Strict):
    """A receiver sphere: center (µm), radius (µm, > 0), optional reaction_rate (µm/s, > 0;
    absent = perfectly absorbing)."""

    center: Vec3
    radius: PositiveFloat
    reaction_rate: PositiveFloat | None = None


class PlaneSpec(_Strict):
    """An infinite reflecting plane: a point and a normal pointing into the fluid."""

    point: Vec3
    normal: Vec3


class BoxSpec(_Strict):
    """A finite reflecting axis-aligned box obstacle."""

    type: Literal["box"] = "box"
    min: Vec3
    max: Vec3


class TimeSpec(_Strict):
    """Time horizon ``end`` (s, > 0) and simulation step ``dt`` (s, > 0, <= end)."""

    end: PositiveFloat = 2.0
    dt: PositiveFloat = 1e-4

    @model_validator(mode="after")
    def _dt_le_end(self):
        if self.dt > self.end:
            raise ValueError(f"dt ({self.dt}) must be <= end ({self.end})")
        return self


class Scenario(_Strict):
    """A validated scenario (see the module docstring for the format).

    Examples
    --------
    >>> sc = Scenario.model_validate({"D": 79.4,
    ...     "transmitter": {"position": [0, 0, 10], "molecules": 1000},
    ...     "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...     "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}]})
    >>> sc.geometry().receivers[0].center
    (10.0, 0.0, 0.0)
    """

    D: PositiveFloat
    transmitter: TransmitterSpec | None = None
    transmitters: list[TransmitterSpec] | None = None
    receivers: Annotated[list[ReceiverSpec], Field(min_length=1)]
    planes: list[PlaneSpec] = Field(default_factory=list)
    obstacles: list[BoxSpec] = Field(default_factory=list)
    time: TimeSpec = Field(default_factory=TimeSpec)
    degradation_rate: Annotated[FiniteFloat, Field(ge=0)] = 0.0
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transmitter_field(self):
        if (self.transmitter is None) == (self.transmitters is None):
            raise ValueError("give exactly one of 'transmitter' or 'transmitters'")
        if self.transmitters is not None and len(self.transmitters) == 0:
            raise ValueError("'transmitters' must not be empty")
        return self

    @property
    def transmitter_list(self) -> list[TransmitterSpec]:
        """All transmitters as a list."""
        return [self.transmitter] if self.transmitter is not None else list(self.transmitters)

    @property
    def total_molecules(self) -> int:
        """Total number of released molecules."""
        return sum(t.molecules for t in self.transmitter_list)

    def geometry(self) -> Geometry:
        """The validated :class:`~mcvd.core.geometry.Geometry` (raises ScenarioError if inconsistent).

        Examples
        --------
        >>> sc = scenario_from_dict({"D": 79.4, "transmitter": {"position": [0, 0, 10]},
        ...                          "receivers": [{"center": [10, 0, 0], "radius": 5}]})
        >>> sc.geometry().D
        79.4
        """
        try:
            return Geometry(
                self.D,
                tuple(
                    Transmitter(t.position, t.molecules, t.release_time)
                    for t in self.transmitter_list
                ),
                tuple(
                    Sphere(
                        r.center, r.radius, math.inf if r.reaction_rate is None else r.reaction_rate
                    )
                    for r in self.receivers
                ),
                tuple(Plane(p.point, p.normal) for p in self.planes),
                tuple(Box(b.min, b.max) for b in self.obstacles),
                self.degradation_rate,
            )
        except (ValueError, TypeError) as exc:
            raise ScenarioError(f"scenario: {exc}") from None

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON text (and write it to ``path`` if given, atomically).

        Examples
        --------
        >>> sc = Scenario.model_validate({"D": 79.4,
        ...     "transmitter": {"position": [0, 0, 10], "molecules": 10},
        ...     "receivers": [{"center": [10, 0, 0], "radius": 5}]})
        >>> '"D": 79.4' in sc.to_json()
        True
        """
        from .io import atomic_write

        text = self.model_dump_json(indent=2, exclude_none=True)
        if path is not None:
            atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
        return text


def _one_line(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ""
    for part in err.get("loc", ()):
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = err.get("msg", "invalid value").replace("Value error, ", "")
    extra = f" (and {len(exc.errors()) - 1} more errors)" if len(exc.errors()) > 1 else ""
    where = f"scenario field {loc}" if loc else "scenario"
    return f"{where}: {msg}{extra}"


def scenario_from_dict(data: dict, *, check_geometry: bool = True) -> Scenario:
    """Validate a scenario dictionary.

    Parameters
    ----------
    data : dict
        Parsed JSON.
    check_geometry : bool
        Also check geometric consistency (transmitter outside receivers, planes, ...).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        One-line message naming the field.

    Examples
    --------
    >>> scenario_from_dict({"D": -1, "transmitter": {"position": [0, 0, 0]},
    ...                     "receivers": [{"center": [9, 0, 0], "radius": 5}]})
    Traceback (most recent call last):
    ...
    mcvd.core.scenario.ScenarioError: scenario field D: Input should be greater than 0
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario: expected a JSON object, got {type(data).__name__}")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_one_line(exc)) from None
    if check_geometry:
        sc.geometry()
    return sc


def load_scenario(path: str | Path, *, check_geometry: bool = True) -> Scenario:
    """Read and validate a JSON scenario file.

    Parameters
    ----------
    path : str or Path
        JSON file.
    check_geometry : bool
        Also check geometric consistency.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Unreadable file, invalid JSON or invalid content (one line).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.json")
    >>> _ = open(p, "w").write('{"D": 79.4, "transmitter": {"position": [0, 0, 10]},'
    ...                        ' "receivers": [{"center": [10, 0, 0], "radius": 5}]}')
    >>> load_scenario(p).D
    79.4
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"scenario: cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario: {path} is not valid JSON: {exc}") from None
    return scenario_from_dict(data, check_geometry=check_geometry)


def as_scenario(scenario, *, check_geometry: bool = True) -> Scenario:
    """Accept a :class:`Scenario`, a scenario dictionary or a JSON file path.

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The scenario.
    check_geometry : bool
        Also check geometric consistency (dictionaries and files).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Invalid content (one line).
    TypeError
        Any other type.

    Examples
    --------
    >>> as_scenario({"D": 79.4, "transmitter": {"position": [0, 0, 10]},
    ...              "receivers": [{"center": [10, 0, 0], "radius": 5}]}).D
    79.4
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario, check_geometry=check_geometry)
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario, check_geometry=check_geometry)
    raise TypeError(f"scenario must be a Scenario, dict or path, got {type(scenario).__name__}")
