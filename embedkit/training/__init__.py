"""Training: one core, models that plug into it, and backends that run it.

``settings`` declares every hyper-parameter once; ``core`` owns a run (weights, tables,
schedule, seeds, chunk plan, losses); ``word2vec`` is the model (skip-gram / CBOW, kernels
in ``kernels``); ``threads`` and ``cluster`` are the backends (local threads, Dask);
``pipeline`` holds :func:`train`, which ties corpus, model and backend together.
"""

from .pipeline import train
from .settings import TrainingSettings

__all__ = ["TrainingSettings", "train"]
