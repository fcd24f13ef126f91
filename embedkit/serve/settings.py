"""What ``embedkit serve`` serves and the limits it puts on requests, without FastAPI.

:class:`ServiceSettings` travels from the command line to the server, and (as JSON in an
environment variable) to the worker processes uvicorn spawns, which each load the model
themselves (memory-mapped, so they share the matrix).
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import asdict, dataclass, field

from ..errors import EmbedkitError, UsageError

INSTALL_HINT = 'pip install "embedkit[serve]"'
ENVIRONMENT = "EMBEDKIT_SERVE_SETTINGS"
"""The environment variable that hands the settings to worker processes."""


SERVICE_PACKAGES = ("fastapi", "uvicorn", "fastapi_offline")
"""What ``embedkit[serve]`` installs (fastapi_offline: the /docs page without a CDN)."""


def require_service() -> None:
    """Raise one clear :class:`EmbedkitError` when FastAPI, uvicorn or fastapi-offline is missing."""
    missing = []
    for name in SERVICE_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name.replace("_", "-"))
    if missing:
        raise EmbedkitError(f"the HTTP service needs {' and '.join(missing)}: {INSTALL_HINT}")


@dataclass(frozen=True)
class Limits:
    """How much one request may ask; a request over a limit gets a 413 or 422 naming it."""

    max_body: int = 1 << 20
    """Bytes of a request body (a batch of 10,000 analogies is about 400 kB)."""
    max_batch: int = 10_000
    """Queries in one ``POST /batch``."""
    max_k: int = 1000
    """Answers per query."""
    max_words: int = 100
    """Words in one query (``similar``'s positive and negative words, ``doesnt_match``, ``project``)."""

    def __post_init__(self) -> None:
        for name, low, high in (
            ("max_body", 1024, 1 << 30),
            ("max_batch", 1, 1_000_000),
            ("max_k", 1, 100_000),
            ("max_words", 2, 10_000),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise UsageError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")

    @property
    def max_answers(self) -> int:
        """Answers in one batch (queries x k): 100 per query of the largest batch."""
        return 100 * self.max_batch


@dataclass(frozen=True)
class ServiceSettings:
    """The model to serve (``None``: the default model), its index, the address, workers, limits."""

    model: str | None = None
    name: str | None = None
    index: str = "auto"
    index_options: dict[str, int | None] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    access_log: bool = False
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise UsageError(f"port must be from 0 (any free port) to 65535, got {self.port!r}")
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 64:
            raise UsageError(f"workers must be from 1 to 64, got {self.workers!r}")

    def to_environment(self) -> str:
        """These settings as the JSON text :meth:`from_environment` reads."""
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ServiceSettings:
        """The settings a parent process left in :data:`ENVIRONMENT`."""
        text = (environ if environ is not None else os.environ).get(ENVIRONMENT)
        if not text:
            raise EmbedkitError(f"{ENVIRONMENT} is not set: start the service with 'embedkit serve'")
        data = json.loads(text)
        data["limits"] = Limits(**data.get("limits", {}))
        return cls(**data)
