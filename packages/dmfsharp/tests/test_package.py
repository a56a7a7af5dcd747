"""Packaging: the version is defined once and the typing marker ships inside the package."""

import importlib.metadata
from importlib import resources

import dmfsharp


def test_version_is_the_installed_metadata_version():
    # dmfsharp/_version.py is the one place; pyproject.toml reads it (dynamic version)
    assert dmfsharp.__version__ == importlib.metadata.version("dmfsharp")
    assert dmfsharp.__version__.count(".") >= 2


def test_package_ships_the_typing_marker():
    assert resources.files("dmfsharp").joinpath("py.typed").is_file()
