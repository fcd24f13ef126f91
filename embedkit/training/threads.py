"""The local backend: ``workers`` Python threads train the chunks on one shared set of weights.

The kernels release the GIL (``nogil``), so threads run them in parallel; they update the
weights without locks (Hogwild, as word2vec and gensim do). Chunks are handed out in
order, epoch after epoch; each carries its own seed and learning rates (from the core), so
with one worker a run is bit-for-bit repeatable.
"""

from __future__ import annotations

import threading
from typing import Any

from .core import TrainingRun


class ThreadsBackend:
    """Train on ``workers`` threads of this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self) -> ThreadsBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def train(self, run: TrainingRun) -> dict[str, Any]:
        """Train every epoch of ``run``; errors in a thread stop the others and are re-raised here."""
        chunks = run.chunks()
        tasks = iter([(epoch, i) for epoch in range(run.settings.epochs) for i in range(len(chunks))])
        take = threading.Lock()
        stop = threading.Event()
        errors: list[BaseException] = []
        progress = {"done": 0}  # tokens trained so far

        def work() -> None:
            try:
                while not stop.is_set():
                    with take:
                        task = next(tasks, None)
                    if task is None:
                        return
                    epoch, i = task
                    words = run.train_chunk(epoch, i, chunks[i])
                    with take:
                        progress["done"] += words
            except BaseException as exc:  # pragma: no cover - re-raised in the main thread
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
        try:
            for thread in threads:
                thread.start()
            while alive := [thread for thread in threads if thread.is_alive()]:
                alive[0].join(timeout=0.1)
                run.show_progress(progress["done"])
        except BaseException:
            stop.set()
            for thread in threads:
                thread.join()
            raise
        if errors:
            raise errors[0]
        return {}
