"""Small helpers every stage shares: atomic output, the cache folder, cores, standard input.

A leaf: it imports nothing of embedkit, so any module may use it without an import cycle.
Errors are the standard library's (``FileNotFoundError``, ``NotADirectoryError``) with a
message that names the path; the command line prints them as one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

STDIN_NAME = "standard-input.txt"
"""File name standard input is spooled to (so messages can say "standard input")."""


# --- atomic output ------------------------------------------------------------------
def umask() -> int:
    """The process's file-creation mask (temporary files are private; outputs follow it).

    Read from ``/proc`` where possible: setting and restoring the mask would briefly change
    it for every other thread creating files at that moment."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def writable_parent(path: str | os.PathLike[str]) -> Path:
    """The folder ``path`` will be written in; ``FileNotFoundError`` naming it if it does not exist."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(parent)!r} does not exist")
    return parent


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    A failed or interrupted block leaves nothing behind, so no half-written file is ever seen
    under ``path``; the finished file gets the permissions the umask allows."""
    path = Path(path)
    parent = writable_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; swap it in for ``path`` when complete."""
    path = Path(path)
    parent = writable_parent(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"cannot write {str(path)!r}: a file (not a model folder) is in the way")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
            os.replace(path, old / "model")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- where things live ----------------------------------------------------------------
def cache_dir() -> Path:
    """embedkit's cache folder: ``$EMBEDKIT_CACHE``, ``$XDG_CACHE_HOME/embedkit`` or ``~/.cache/embedkit``."""
    if os.environ.get("EMBEDKIT_CACHE"):
        return Path(os.environ["EMBEDKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "embedkit"


def cpu_count() -> int:
    """Number of cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def spool_stdin(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """``path`` itself, or for ``-`` a copy of standard input in ``folder`` (read in bounded memory).

    A corpus is read more than once, which a pipe cannot be."""
    if os.fspath(path) != "-":
        return path
    spooled = Path(folder) / STDIN_NAME
    with open(spooled, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return spooled


def describe_source(path: str | os.PathLike[str]) -> str:
    """How messages name a corpus: ``corpus 'x.txt'``, or ``standard input`` when spooled from it."""
    return "standard input" if Path(path).name == STDIN_NAME else f"corpus {os.fspath(path)!r}"
