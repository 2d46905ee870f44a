"""Shared test settings: one torch thread per pytest-xdist worker so 2 workers fit 2 cores.

Shared fixtures: ``one_thread``. Shared helpers (loading a script as a module) are in ``helpers.py``.
"""
import os

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture
def one_thread():
    """torch on one thread for the test (restored afterwards): runs compared number for number, and
    timings on a shared CPU, need the same kernels on the same slices."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
