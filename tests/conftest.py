"""Shared fixtures: real text from gensim's test data and small trained models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

import embedkit
from embedkit.vectors.evaluation import gensim_test_file

# The suite is deterministic: property tests draw the same examples on every run (set
# HYPOTHESIS_PROFILE=explore for fresh random ones while hunting bugs).
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(scope="session")
def lee_path() -> Path:
    """gensim's lee_background.cor: 299 news documents, 60k tokens."""
    return gensim_test_file("lee_background.cor")


@pytest.fixture(scope="session")
def lee_model(lee_path: Path) -> embedkit.Vectors:
    """A deterministic skip-gram model of the Lee corpus (one worker, seed 1)."""
    return embedkit.train(lee_path, epochs=20, workers=1, seed=1, progress=False)


def run_cli(*args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m embedkit ARGS`` as a user would, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "embedkit", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
    )
