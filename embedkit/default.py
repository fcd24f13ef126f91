"""The embedded default model: trained by embedkit from the corpus shipped in the package.

The corpus (``embedkit/data/default_corpus.txt.xz``, built by
``corpora/build_default_corpus.py``; sources and licences in ``corpora/README.md``) is
trained on first use with :data:`DEFAULT_SETTINGS` and cached in the user's cache folder
(:func:`embedkit.util.cache_dir`: ``$EMBEDKIT_CACHE``, else ``$XDG_CACHE_HOME/embedkit``,
else ``~/.cache/embedkit``). The cache key covers the corpus bytes, the settings and the
embedkit version, so a new corpus or trainer retrains instead of serving a stale model.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import EmbedkitError
from .training import TrainingSettings, train
from .util import cache_dir
from .vectors.store import Vectors, load
from .version import __version__

DEFAULT_SETTINGS: dict[str, Any] = {"window": 10, "sample": 1e-4, "epochs": 10, "workers": 1}
"""How the default model's settings differ from :class:`~embedkit.training.TrainingSettings`'
defaults. A wide window and strong subsampling of frequent words suit a 10M-token corpus
of books, speeches and dictionary glosses (measured against other choices in
``corpora/README.md``). One worker makes the model bit-for-bit the same on every first run
(with more threads, lock-free updates make runs differ slightly)."""


def default_settings(**overrides: Any) -> TrainingSettings:
    """The default model's full settings (with optional overrides)."""
    return TrainingSettings(**{**DEFAULT_SETTINGS, **overrides})


def default_corpus_path() -> Path:
    """Path of the compressed default corpus inside the installed package."""
    path = Path(str(resources.files("embedkit") / "data" / "default_corpus.txt.xz"))
    if not path.is_file():
        raise EmbedkitError(
            f"the default corpus is missing from the installation ({path}): reinstall embedkit"
        )
    return path


def _cache_key(corpus: Path, settings: TrainingSettings) -> str:
    digest = hashlib.sha256()
    with open(corpus, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(settings.as_dict(), sort_keys=True).encode())
    digest.update(__version__.encode())
    return digest.hexdigest()[:16]


def default_model_path(**overrides: Any) -> Path:
    """Where the default model (with optional setting overrides) is cached."""
    return cache_dir() / f"default-{_cache_key(default_corpus_path(), default_settings(**overrides))}"


def load_default(*, progress: bool = True, mmap: bool = False, **overrides: Any) -> Vectors:
    """Load the default model, training and caching it on first use (a few minutes);
    ``mmap=True`` maps the cached matrix read-only (see :func:`embedkit.load`)."""
    settings = default_settings(**overrides)
    path = default_model_path(**overrides)
    if path.is_dir():
        return load(path, mmap=mmap)
    if progress:
        print(
            "embedkit: training the default model on first use (about 3 minutes, once); "
            f"it is cached in {path.parent}",
            file=sys.stderr,
        )
    vectors = train(default_corpus_path(), progress=progress, **settings.as_dict())
    path.parent.mkdir(parents=True, exist_ok=True)
    vectors.save(path)
    return vectors
