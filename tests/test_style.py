"""The code base stays ruff-clean, lint and format (ruff comes with the test extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["embedkit", "tests", "benchmarks", "corpora"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_clean(command: list[str]) -> None:
    beside_python = Path(sys.executable).parent / "ruff"
    ruff = shutil.which("ruff") or (str(beside_python) if beside_python.exists() else None)
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, *command, *FOLDERS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
