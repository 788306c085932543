"""Fixtures of the executor tests: a data folder shell jobs may use.

Shell jobs run as ``nobody`` when the tests run as root (so that the process
limit binds): their data folder lives under a world-traversable temporary
directory, not under pytest's private ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kairos-jobs-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
