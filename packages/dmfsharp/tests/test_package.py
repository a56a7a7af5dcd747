"""Packaging: the version is defined once, the typing marker ships inside the package, and the
public names are listed alike in `__all__` and the lazy-import table."""

import importlib.metadata
from importlib import resources

import dmfsharp


def test_version_is_the_installed_metadata_version():
    # dmfsharp/_version.py is the one place; pyproject.toml reads it (dynamic version)
    assert dmfsharp.__version__ == importlib.metadata.version("dmfsharp")
    assert dmfsharp.__version__.count(".") >= 2


def test_package_ships_the_typing_marker():
    assert resources.files("dmfsharp").joinpath("py.typed").is_file()


def test_public_names_are_listed_alike_and_resolve():
    # __all__ (read by static tools and the API docs) and the lazy-import table of
    # dmfsharp/__init__.py are two hand-kept lists of the same names
    assert set(dmfsharp.__all__) == set(dmfsharp._NAMES) | {"__version__"}
    for name in dmfsharp.__all__:
        assert getattr(dmfsharp, name) is not None, name
