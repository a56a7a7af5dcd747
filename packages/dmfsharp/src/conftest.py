"""Doctest collection for ``--doctest-modules`` on this folder: the Examples of a module that needs
an optional extra are skipped, with the extra named, when the extra is not installed (the
``[test]`` extra alone must collect cleanly). Not part of the installed package."""

import importlib.util

import pytest

#: module file name -> (import name of the optional dependency, extra)
_NEEDS = {
    "figures.py": ("matplotlib", "plot"),
    "demo.py": ("matplotlib", "plot"),
    "tracking.py": ("matplotlib", "plot"),
    "sweep.py": ("distributed", "dask"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        need = _NEEDS.get(item.path.name)
        if need and importlib.util.find_spec(need[0]) is None:
            item.add_marker(
                pytest.mark.skip(reason=f"{need[0]} missing: pip install 'dmfsharp[{need[1]}]'")
            )
