"""Helpers of the service tests: ``embedkit serve`` started as a user would, spoken to over HTTP.

The server is a real subprocess (``python -m embedkit serve --port 0``) on the loopback
address; the port it got is read from the line it prints. Requests go through
:mod:`http.client`, so that malformed ones (bad bytes, wrong lengths) can be sent as they are.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

SERVING = re.compile(r"serving .* on http://127\.0\.0\.1:(\d+) ")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Server:
    """A running ``embedkit serve`` subprocess and what it printed on stderr."""

    process: subprocess.Popen
    port: int
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Reply:
        """One request on a new connection, sent as given (body bytes unchanged)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def get(self, path: str, params: Sequence[tuple[str, Any]] | dict[str, Any] = ()) -> Reply:
        query = urllib.parse.urlencode(list(params.items()) if isinstance(params, dict) else list(params))
        return self.request("GET", f"{path}?{query}" if query else path)

    def post_json(self, path: str, data: Any) -> Reply:
        body = json.dumps(data).encode("utf-8")
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def stderr(self) -> str:
        return "".join(self.log)


def same_answers(got: Sequence[tuple[str, float]], expected: Sequence[tuple[str, float]]) -> bool:
    """The same words in the same order, with scores equal to float32 rounding."""
    return len(got) == len(expected) and all(
        gw == ew and abs(gs - es) <= 1e-6 for (gw, gs), (ew, es) in zip(got, expected)
    )


def _drain(stream: Any, log: list[str], found: dict[str, int], ready: threading.Event) -> None:
    for line in stream:
        log.append(line)
        match = SERVING.search(line)
        if match and "port" not in found:
            found["port"] = int(match.group(1))
            ready.set()
    ready.set()


@contextlib.contextmanager
def running_server(*args: str, startup: float = 300) -> Iterator[Server]:
    """``embedkit serve --port 0 ARGS`` until the block ends (then SIGTERM, checked to stop)."""
    command = [sys.executable, "-m", "embedkit", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    log: list[str] = []
    found: dict[str, int] = {}
    ready = threading.Event()
    reader = threading.Thread(target=_drain, args=(process.stderr, log, found, ready), daemon=True)
    reader.start()
    try:
        ready.wait(startup)
        if "port" not in found:
            raise RuntimeError(f"embedkit serve did not start: {''.join(log)[-2000:]}")
        server = Server(process, found["port"], log)
        deadline = time.monotonic() + startup
        while True:  # the socket is bound before it listens: wait until /health answers
            try:
                if server.request("GET", "/health", timeout=5).status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedkit serve did not answer: {''.join(log)[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        stop(process)
        reader.join(timeout=10)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Send ``sig`` and wait for the exit code (killed after ``timeout`` seconds)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
