"""Example scenarios shipped with the package (JSON files read with :mod:`importlib.resources`).

``names()`` lists them, ``path(name)`` is the file, ``load(name)`` the validated scenario; the
command ``mcvd example NAME -o FILE`` writes one out to start from.

Examples
--------
>>> "paper_halfspace" in names()
True
>>> load("paper_halfspace").geometry().receivers[0].radius
5.0
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["load", "names", "path"]


def names() -> list[str]:
    """Names of the example scenarios (file names without ``.json``).

    Examples
    --------
    >>> names()
    ['corner_two_walls', 'octant_three_walls', 'paper_halfspace', 'reactive_receiver_wall', 'two_receivers_wall', 'wall_degrading_molecules']
    """
    files = resources.files(__name__).iterdir()
    return sorted(f.name[: -len(".json")] for f in files if f.name.endswith(".json"))


def path(name: str) -> Path:
    """File of the example scenario ``name`` (with or without ``.json``).

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    pathlib.Path
        The JSON file inside the installed package.

    Examples
    --------
    >>> path("paper_halfspace").name
    'paper_halfspace.json'
    """
    stem = name[: -len(".json")] if isinstance(name, str) and name.endswith(".json") else name
    if stem not in names():
        raise ValueError(f"example must be one of {names()}, got {name!r}")
    return Path(str(resources.files(__name__) / f"{stem}.json"))


def load(name: str):
    """The validated :class:`~mcvd.core.scenario.Scenario` of the example ``name``.

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    mcvd.core.scenario.Scenario

    Examples
    --------
    >>> load("paper_halfspace").D
    79.4
    """
    from ..core.scenario import load_scenario

    return load_scenario(path(name))
