"""Shared fixtures of the mcvd tests (a Dask LocalCluster on loopback and a client of it).

Hypothesis runs derandomized with no example database (as the repository's root conftest.py
sets it), so these tests draw the same examples wherever they run: in the repository, or from
an unpacked sdist outside it.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("repo", derandomize=True, database=None)
settings.load_profile("repo")


@pytest.fixture
def local_cluster():
    """A light ``dask.distributed.LocalCluster``: one in-process worker, TCP on 127.0.0.1."""
    distributed = pytest.importorskip("distributed", reason="dask extra not installed")
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
