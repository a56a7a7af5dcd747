"""Shared fixtures and markers of the mcvd tests.

Optional extras: a test marked ``sim`` (needs numba, ``pip install 'mcvd[sim]'``), ``plot``
(matplotlib, ``'mcvd[plot]'``) or ``dask`` (dask.distributed, ``'mcvd[dask]'``) is skipped with that
reason when the package is missing; a test file that needs an extra at import time starts with
``pytest.importorskip(..., reason=...)``. So the ``test`` extra alone collects every file.

Hypothesis runs derandomized with no example database (as the repository's root conftest.py
sets it), so these tests draw the same examples wherever they run: in the repository, or from
an unpacked sdist outside it.
"""

from __future__ import annotations

import importlib

import pytest
from hypothesis import settings

settings.register_profile("repo", derandomize=True, database=None)
settings.load_profile("repo")

#: marker -> (module it needs, skip reason)
EXTRAS = {
    "sim": ("numba", "needs numba, the sim extra (pip install 'mcvd[sim]')"),
    "plot": ("matplotlib", "needs matplotlib, the plot extra (pip install 'mcvd[plot]')"),
    "dask": ("distributed", "needs dask.distributed, the dask extra (pip install 'mcvd[dask]')"),
}


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def pytest_configure(config):
    for mark, (_, why) in EXTRAS.items():
        config.addinivalue_line("markers", f"{mark}: {why}")


def pytest_collection_modifyitems(config, items):
    missing = {m: why for m, (mod, why) in EXTRAS.items() if not _importable(mod)}
    for item in items:
        for mark, why in missing.items():
            if item.get_closest_marker(mark) is not None:
                item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture
def local_cluster():
    """A light ``dask.distributed.LocalCluster``: one in-process worker, TCP on 127.0.0.1."""
    distributed = pytest.importorskip("distributed", reason=EXTRAS["dask"][1])
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture
def dask_client(local_cluster):
    """A ``dask.distributed.Client`` of :func:`local_cluster`."""
    import distributed

    with distributed.Client(local_cluster) as client:
        yield client


@pytest.fixture
def run_cache(tmp_path, monkeypatch):
    """``mcvd simulate``'s default run folder, redirected into the test's temporary folder."""
    path = tmp_path / "run-cache"
    monkeypatch.setenv("MCVD_RUN_CACHE", str(path))
    return path
