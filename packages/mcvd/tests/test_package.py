"""Packaging: the version is defined once and the typing marker ships inside the package."""

import importlib.metadata
from importlib import resources

import mcvd


def test_version_is_the_installed_metadata_version():
    # mcvd/_version.py is the one place; pyproject.toml reads it (dynamic version)
    assert mcvd.__version__ == importlib.metadata.version("mcvd")
    assert mcvd.__version__.count(".") >= 2


def test_package_ships_the_typing_marker():
    assert resources.files("mcvd").joinpath("py.typed").is_file()
