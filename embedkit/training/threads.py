"""The local backend: ``workers`` Python threads train the chunks on one shared set of weights.

The kernels release the GIL (``nogil``), so threads run them in parallel; they update the
weights without locks (Hogwild, as word2vec and gensim do). Tasks (chunk ``i`` of epoch
``e``) are handed out in order, each with its own seed and learning rates (from the core),
so with one worker a run is bit-for-bit repeatable, and a run resumed from a checkpoint
continues it exactly. The main thread holds the tasks of the next epoch back until every
chunk of the current one is done, so epoch callbacks and checkpoints see weights no thread
is writing; a time-based checkpoint holds them back the same way between two chunks.
"""

from __future__ import annotations

import threading
from typing import Any

from .core import Position, TrainingRun


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
        n = len(chunks)
        total = n * run.settings.epochs
        first = run.first_task(n)

        def epoch_end(task: int) -> int:
            """The task after the last one of the epoch ``task`` belongs to."""
            return min(total, (task // n + 1) * n)

        run.start_tokens = run.tokens_before(first // n, chunks[first % n])
        cond = threading.Condition()
        stop = threading.Event()
        errors: list[BaseException] = []
        # next task to hand out, tasks finished, tasks that may be handed out, tokens trained
        state = {"next": first, "done": first, "limit": epoch_end(first), "tokens": run.start_tokens}

        def work() -> None:
            try:
                while True:
                    with cond:
                        while not stop.is_set() and state["limit"] <= state["next"] < total:
                            cond.wait()
                        if stop.is_set() or state["next"] >= total:
                            return
                        task = state["next"]
                        state["next"] += 1
                    epoch, i = divmod(task, n)
                    words = run.train_chunk(epoch, i, chunks[i])
                    with cond:
                        state["done"] += 1
                        state["tokens"] += words
                        cond.notify_all()
            except BaseException as exc:  # pragma: no cover - re-raised in the main thread
                errors.append(exc)
                stop.set()
                with cond:
                    cond.notify_all()

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
        try:
            for thread in threads:
                thread.start()
            while not errors and first < total:
                with cond:
                    cond.wait(timeout=0.1)
                    done, quiet, limit = state["done"], state["done"] == state["next"], state["limit"]
                run.show_progress(state["tokens"])
                if quiet and done == limit:  # no chunk in flight, none may start: a stop point
                    if done % n == 0:
                        if run.epoch_end(done // n - 1):
                            break
                    else:
                        run.save_checkpoint(Position(*divmod(done, n)), n_chunks=n)
                    with cond:
                        state["limit"] = epoch_end(done)
                        cond.notify_all()
                elif limit > state["next"] and run.checkpoint_due():
                    with cond:  # hold the next tasks back: a checkpoint between two chunks
                        state["limit"] = state["next"]
        finally:
            stop.set()
            with cond:
                cond.notify_all()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        return {}
