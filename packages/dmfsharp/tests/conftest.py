"""Shared fixtures of the dmfsharp tests (Dask LocalCluster on loopback, a dead loopback port).

Hypothesis runs derandomized with no example database (as the repository's root conftest.py
sets it), so these tests draw the same examples wherever they run: in the repository, or from
an unpacked sdist outside it.
"""

from __future__ import annotations

import socket

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
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture
def dead_address() -> str:
    """``tcp://127.0.0.1:PORT`` with nobody listening (the port was bound, then released)."""
    pytest.importorskip("distributed", reason="dask extra not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"
