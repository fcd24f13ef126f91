"""``python -m embedkit``: the same as the ``embedkit`` command."""

from .cli import run

run()
