"""Running the service: the socket, the model, uvicorn (one process or several), a clean stop.

The socket is bound first, so a port in use fails at once, before minutes of loading. The
model is loaded once and its index built (or read) before the first request. With one
worker, uvicorn serves that session in this process. With several, this process loads the
model once to check it and to build and save an approximate index (HNSW or IVF take
minutes at a million words), then uvicorn's supervisor spawns the workers, which each load
the model memory-mapped (a native model folder's matrix is then one copy in the page
cache, shared by all of them), read the saved index and take an equal share of the FAISS
threads. Ctrl-C and SIGTERM finish the requests under way and stop.
"""

from __future__ import annotations

import gc
import inspect
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from os import environ
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from ..default import default_model_path
from ..errors import EmbedkitError
from ..session import QuerySession
from ..vectors.index import get_threads, set_threads
from .app import create_app
from .settings import ENVIRONMENT, ServiceSettings

log = logging.getLogger("embedkit.serve")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WORKER_APP = "embedkit.serve.server:app_from_environment"


class Stopped(Exception):
    """Raised in the main thread by SIGINT or SIGTERM once uvicorn has shut down."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), inheritable by workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets (without it, small
    # responses wait for delayed ACKs: 40 ms per request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EmbedkitError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def open_session(settings: ServiceSettings) -> QuerySession:
    """The session of ``settings.model`` (memory-mapped), its index ready before any request."""
    session = QuerySession.open(
        settings.model,
        progress=sys.stderr.isatty(),
        index=settings.index,
        mmap=True,
        **settings.index_options,
    )
    if settings.name:
        session.name = settings.name
    session.vectors.build_index()
    return session


def share_threads(workers: int) -> None:
    """Give this worker process its share of the FAISS thread budget (at least one)."""
    if workers > 1:
        set_threads(max(1, get_threads() // workers))


def app_from_environment() -> FastAPI:
    """A worker process's application, from the settings its parent left in the environment."""
    settings = ServiceSettings.from_environment()
    share_threads(settings.workers)
    return create_app(open_session(settings), settings.limits)


def _uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "log_level": "info" if settings.access_log else "warning",
        "access_log": settings.access_log,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": 30,
    }


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stopped` (uvicorn replays them after its graceful shutdown)."""

    def stop(signum: int, frame: Any) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(settings: ServiceSettings, announce: Callable[[str], None] | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; ``announce`` receives the line saying where (default: the log)."""
    announce = announce or log.warning
    if settings.host not in LOOPBACK:
        announce(f"listening on {settings.host}: anyone who can reach this machine can query the model")
    sock = bind(settings.host, settings.port)
    try:
        with _stop_on_signals():
            try:
                _serve(settings, sock, announce)
            except Stopped as stop:
                announce(f"stopped ({stop})")
    finally:
        sock.close()


def _serve(settings: ServiceSettings, sock: socket.socket, announce: Callable[[str], None]) -> None:
    host, port = sock.getsockname()[:2]
    session = open_session(settings)
    vectors = session.vectors
    shown = f"[{host}]" if ":" in host else host
    where = (
        f"serving {session.name} ({len(vectors):,} words x {vectors.dim} dims, {vectors.index_kind()} index, "
        f"{settings.workers} worker{'s' * (settings.workers > 1)}) on http://{shown}:{port} "
        "(explorer /, API docs /docs; Ctrl-C stops)"
    )
    if settings.workers == 1:
        app = create_app(session, settings.limits)
        server = uvicorn.Server(uvicorn.Config(app, **_uvicorn_options(settings)))
        announce(where)
        server.run(sockets=[sock])
        return
    source = vectors.source if settings.model is not None else default_model_path()
    worker_settings = replace(settings, model=str(source or settings.model), name=session.name)
    environ[ENVIRONMENT] = worker_settings.to_environment()
    del session, vectors
    gc.collect()  # the workers load their own (memory-mapped) copy
    options = _uvicorn_options(settings)
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        options["timeout_worker_healthcheck"] = 120  # a worker reading a large index is not hung
    config = uvicorn.Config(WORKER_APP, factory=True, workers=settings.workers, **options)
    announce(where)
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.36 or so
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
    else:
        Multiprocess(config, sockets=[sock]).run()
    announce("stopped")
