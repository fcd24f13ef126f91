"""The Dask backend: data-parallel training on a cluster (``train(..., cluster=...)``).

The driver (the process calling :func:`embedkit.train`) builds the vocabulary and encodes
the corpus into an int32 file of word ids, as for single-process training. The file is cut
into one contiguous *shard* per worker thread of the cluster (counted when training
starts), and each shard into ``sync_rounds`` parts. In round ``r`` of every epoch each
worker reads part ``r`` of its shard straight from the file, trains the numba kernel on it
from the current weights, and sends back the rows it changed. The driver then merges them
and the next round starts from the merged weights. More rounds keep the workers closer
together (better vectors) at the price of more traffic (slower).

Two merges (``combine``):

* ``"sum"`` (default): every row gets the sum of the workers' changes to it, as if their
  updates had been applied one after the other (like the Hogwild threads of a single
  process, one round late).
* ``"average"``: Spark MLlib's Word2Vec merge. Each changed row becomes the average of the
  workers' versions of it, weighted by how many updates each worker made to it (its
  expected count: kept occurrences of the word in the part under subsampling, plus the
  expected negative draws for output vectors). A word all N workers see thus moves by
  about 1/N of the sum, which acts like dividing its learning rate by N: on gensim's Lee
  corpus with 2 workers, vectors came out clearly weaker than single-process ones unless
  ``alpha`` was doubled (see benchmarks/README.md).

* Weights travel as plain numpy arrays (scattered to the workers each round); tasks return
  numpy arrays; no trained model is ever pickled (a task carries the model's few settings,
  :class:`~embedkit.training.word2vec.Word2Vec`, and calls its kernel as the threads do).
* The learning rate falls linearly with global progress: all shards advance together, so a
  part's rate is that of the position the whole run has reached.
* The workers read the encoded corpus from its path: on a local cluster that is the
  driver's temporary file; on a real cluster the folder must be on a filesystem every
  worker mounts at the same path (set ``TMPDIR`` to such a folder on the driver).
* A task whose worker dies is re-run elsewhere by the scheduler (up to dask's
  ``distributed.scheduler.allowed-failures``, 3 by default); plain exceptions are retried
  twice; if every worker holding a round's scattered weights dies, the driver, which still
  has them, scatters them again and re-runs the round (3 tries). Tasks only read the
  corpus and their inputs, so a re-run gives the same result, and nothing is written
  until the whole run has succeeded.
* Given the seed and the number of shards, a run is deterministic: every part is trained
  by one thread from the seed the training core gives that chunk, and results are
  combined in shard order.

``dask[distributed]`` is an optional dependency (``pip install 'embedkit[dask]'``),
imported only when a cluster is used.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EmbedkitError, UsageError
from ..text.encoded import make_chunks, read_ids
from .core import CHUNK_TOKENS, Model, Schedule, Tables, TrainingRun
from .settings import check_all, setting

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

COMBINE = ("sum", "average")
"""Ways to merge the workers' rows: add up their changes (default), or average them."""
TASK_RETRIES = 2
"""Re-runs of a task that raised (a task whose worker died is re-run by the scheduler)."""
ROUND_ATTEMPTS = 3
"""Runs of a round whose scattered inputs were lost with every worker holding them."""
_LOCAL = re.compile(r"local:(.*)")


@dataclass(frozen=True)
class ClusterSettings:
    """Settings of the Dask backend (declared as :class:`~embedkit.training.settings.TrainingSettings` is)."""

    sync_rounds: int | None = setting(
        None,
        "With --cluster: merges of the workers' weights per epoch.",
        int,
        low=1,
        high=10_000,
        none_means="4",
    )
    combine: str | None = setting(
        None, "With --cluster: merge workers' changes by sum or average (Spark's).", str, choices=COMBINE,
        none_means="sum",
    )  # fmt: skip
    connect_timeout: float = setting(
        10.0, "With --cluster: seconds to wait for the scheduler.", float, low=0.1, high=3600.0
    )

    def __post_init__(self) -> None:
        check_all(self)

    @property
    def rounds(self) -> int:
        """Synchronisation rounds per epoch (4 unless told otherwise)."""
        return 4 if self.sync_rounds is None else self.sync_rounds

    @property
    def merge(self) -> str:
        """How the workers' rows are merged (``sum`` unless told otherwise)."""
        return self.combine or "sum"

    def given(self) -> list[str]:
        """Names of the settings that only a cluster uses and were set."""
        return [name for name in ("sync_rounds", "combine") if getattr(self, name) is not None]


class ClusterError(EmbedkitError):
    """The cluster cannot be reached, cannot read the corpus, or a shard failed for good."""


def _import_distributed() -> Any:
    """``dask.distributed``, or a one-line error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ClusterError("training on a cluster needs dask: pip install 'embedkit[dask]'") from None
    return distributed


def check_cluster(cluster: object) -> None:
    """Reject a malformed ``cluster`` argument before any work (``UsageError``)."""
    if isinstance(cluster, str):
        match = _LOCAL.fullmatch(cluster.strip())
        if match is not None:
            value = match.group(1)
            if not value.isdigit() or not 1 <= int(value) <= 256:
                raise UsageError(f"cluster 'local:N' needs N between 1 and 256, got {cluster!r}")
        elif not cluster.strip():
            raise UsageError("cluster address is empty")
        return
    if not isinstance(cluster, _import_distributed().Client):
        raise UsageError(
            "cluster must be a scheduler address, 'local:N' or a dask.distributed.Client, "
            f"got {type(cluster).__name__}"
        )


@contextlib.contextmanager
def connect(cluster: str | Client, timeout: float = 10.0) -> Iterator[Client]:
    """A client of ``cluster``: a scheduler address, ``"local:N"`` or an existing client.

    ``"local:N"`` starts a ``LocalCluster`` of N worker processes with one thread each and
    shuts it down on exit; a client made from an address is closed on exit; a client passed
    in is left open. Raises :class:`ClusterError` when the scheduler does not answer within
    ``timeout`` seconds or has no worker.
    """
    check_cluster(cluster)
    if not isinstance(cluster, str):
        yield cluster
        return
    distributed = _import_distributed()
    spec = cluster.strip()
    match = _LOCAL.fullmatch(spec)
    with contextlib.ExitStack() as stack:
        if match is not None:
            local = distributed.LocalCluster(
                n_workers=int(match.group(1)),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack.enter_context(local)
            client = stack.enter_context(distributed.Client(local))
        else:
            try:
                client = distributed.Client(spec, timeout=timeout)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise ClusterError(f"cannot connect to the dask scheduler at {spec!r}: {reason}") from None
            stack.enter_context(client)
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"the dask scheduler at {spec!r} has no worker (waited {timeout:g} s)"
                ) from exc
        yield client


class DaskBackend:
    """Train on the workers of a Dask cluster (connected on entry, released on exit)."""

    def __init__(self, cluster: str | Client, settings: ClusterSettings) -> None:
        check_cluster(cluster)
        self.cluster = cluster
        self.settings = settings
        self._stack = contextlib.ExitStack()
        self.client: Client | None = None

    def __enter__(self) -> DaskBackend:
        self.client = self._stack.enter_context(connect(self.cluster, self.settings.connect_timeout))
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = None
        self._stack.close()

    def train(self, run: TrainingRun) -> dict[str, Any]:
        """Train every epoch of ``run`` on the cluster; return the cluster facts to record."""
        if self.client is None:
            raise RuntimeError("DaskBackend.train needs the backend entered (with DaskBackend(...) as b)")
        return train_on_cluster(self.client, run, self.settings)


# --- worker side -------------------------------------------------------------------------


def _file_size(path: str) -> int:
    """Size of ``path`` as a worker sees it (-1 when it cannot see it)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


Changes = list[tuple[np.ndarray, np.ndarray, np.ndarray]]
"""Per weight matrix: (changed rows, their new values, their merge weights)."""


def train_part(
    path: str,
    chunks: list[np.ndarray],
    seeds: list[int],
    alphas: list[tuple[float, float]],
    model: Model,
    names: list[str],
    arrays: list[np.ndarray],
    tables: list[np.ndarray],
) -> tuple[Changes, float, int, int]:
    """Train one part (``chunks``: line bounds) on copies of the weights, for the driver to combine.

    Runs on a worker; chunk ``i`` is trained with ``seeds[i]`` and learning rates falling
    from ``alphas[i][0]`` to ``alphas[i][1]``, through the model's kernel as in a local run.
    ``names`` and ``arrays`` are the weight matrices. Returns (the changes of each matrix,
    summed loss, examples, tokens read).
    """
    table = Tables.from_arrays(tables)
    weights = {name: array.copy() for name, array in zip(names, arrays)}  # scattered inputs stay as sent
    occurrences = np.zeros(arrays[0].shape[0], dtype=np.int64)
    loss, examples, words = 0.0, 0, 0
    for bounds, seed, (alpha_start, alpha_end) in zip(chunks, seeds, alphas):
        tokens = np.array(read_ids(path, int(bounds[0]), int(bounds[-1])))
        chunk_loss, chunk_examples, chunk_words = model.train_chunk(
            weights, table, tokens, bounds, alpha_start, alpha_end, np.uint64(seed)
        )
        occurrences += np.bincount(tokens, minlength=occurrences.shape[0])
        loss += chunk_loss
        examples += chunk_examples
        words += chunk_words
    row_weights = model.row_weights(occurrences, table)
    changes: Changes = []
    for name, before in zip(names, arrays):
        after = weights[name]
        rows = np.flatnonzero((after != before).any(axis=1)).astype(np.int32)
        changes.append((rows, after[rows], np.maximum(row_weights[name][rows], 1e-6).astype(np.float32)))
    return changes, float(loss), int(examples), int(words)


# --- driver side -------------------------------------------------------------------------


def _split_even(sizes: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Cut a sequence of items with ``sizes`` into ``parts`` contiguous (start, stop) ranges."""
    if sizes.size == 0:
        return [(0, 0)] * parts
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, parts) / parts, side="right")
    edges = [0, *(int(c) for c in cuts), len(sizes)]
    return list(itertools.pairwise(edges))


def plan_parts(
    line_starts: np.ndarray, shards: int, rounds: int, chunk_tokens: int
) -> list[list[list[np.ndarray]]]:
    """Chunks of every (round, shard): ``plan[r][s]`` is the list of chunk line bounds.

    The chunks are the core's chunk plan; shards are contiguous ranges of it of about equal
    token counts, each cut into ``rounds`` contiguous parts.
    """
    chunks = make_chunks(line_starts, chunk_tokens)
    sizes = np.array([int(c[-1] - c[0]) for c in chunks], dtype=np.int64)
    plan: list[list[list[np.ndarray]]] = [[[] for _ in range(shards)] for _ in range(rounds)]
    for s, (a, b) in enumerate(_split_even(sizes, shards)):
        for r, (c, d) in enumerate(_split_even(sizes[a:b], rounds)):
            plan[r][s] = chunks[a + c : a + d]
    return plan


def _combine(weights: np.ndarray, results: list[tuple[np.ndarray, np.ndarray, np.ndarray]], how: str) -> None:
    """Merge the workers' versions of the rows they changed into ``weights`` (in place).

    ``"sum"`` adds up their changes; ``"average"`` sets each row to the weighted average of
    the versions of the workers that changed it.
    """
    if how == "sum":
        delta = np.zeros(weights.shape, dtype=np.float32)
        for rows, values, _ in results:
            delta[rows] += values - weights[rows]
        weights += delta
        return
    total = np.zeros(weights.shape, dtype=np.float64)
    weight = np.zeros(weights.shape[0], dtype=np.float64)
    for rows, values, w in results:
        total[rows] += values.astype(np.float64) * w[:, None]
        weight[rows] += w
    touched = np.flatnonzero(weight > 0)
    weights[touched] = (total[touched] / weight[touched, None]).astype(np.float32)


def _part_alphas(
    chunks: list[np.ndarray], done: int, round_tokens: int, schedule: Schedule
) -> list[tuple[float, float]]:
    """Learning rates of a part's chunks: the part spans the whole round's global progress."""
    part_tokens = sum(int(b[-1] - b[0]) for b in chunks)
    edges = np.concatenate(([0], np.cumsum([int(b[-1] - b[0]) for b in chunks])))
    at = done + round_tokens * edges / max(part_tokens, 1)
    return [(schedule.alpha_at(float(a)), schedule.alpha_at(float(b))) for a, b in itertools.pairwise(at)]


def _chunk_size(n_tokens: int, shards: int, rounds: int) -> int:
    """Chunks small enough that every part of every shard gets a few of them."""
    return int(max(1_000, min(CHUNK_TOKENS, n_tokens // max(4 * shards * rounds, 1))))


def train_on_cluster(
    client: Client, run: TrainingRun, settings: ClusterSettings, shards: int | None = None
) -> dict[str, Any]:
    """Run all epochs of ``run`` on the cluster into ``run.weights``; return the run's cluster facts.

    ``shards`` defaults to the number of worker threads of the cluster at the start.
    """
    distributed = _import_distributed()
    path = os.fspath(run.corpus.path)
    nthreads = client.nthreads()
    if not nthreads:
        raise ClusterError("the dask cluster has no worker")
    shards = shards or sum(nthreads.values())
    size = run.corpus.n_tokens * 4
    seen = client.run(_file_size, path)
    blind = sorted(worker for worker, got in seen.items() if got != size)
    if blind:
        raise ClusterError(
            f"{len(blind)} of {len(seen)} workers cannot read the encoded corpus {path!r} "
            "(on a real cluster it must be on a filesystem all workers share: set TMPDIR to a "
            "folder there)"
        )

    rounds, how = settings.rounds, settings.merge
    names = list(run.weights)
    static = run.tables.arrays()
    chunk_tokens = _chunk_size(run.corpus.n_tokens, shards, rounds)
    plan = plan_parts(run.corpus.line_starts, shards, rounds, chunk_tokens)
    offsets = sorted(int(b[0]) for row in plan for part in row for b in part)
    chunk_ids = {offset: i for i, offset in enumerate(offsets)}  # place in corpus order: picks the seed
    key_prefix = f"embedkit-train-{uuid.uuid4().hex[:8]}"
    run.first_task(len(offsets))  # a checkpoint taken between chunks cannot resume here
    start_epoch = run.start_at.epoch
    done = run.start_tokens = start_epoch * run.corpus.n_tokens
    state: dict[str, Any] = {"tables": client.scatter(static, broadcast=True, hash=False), "futures": []}

    def run_round(epoch: int, r: int, row: list[list[np.ndarray]], round_tokens: int) -> list[Any]:
        """Scatter the weights, train every shard's part of round ``r``, gather the results."""
        arrays = client.scatter([run.weights[name] for name in names], broadcast=True, hash=False)
        futures = state["futures"] = []
        for shard, chunks in enumerate(row):
            if not chunks:
                continue
            seeds = [run.seed(epoch, chunk_ids[int(b[0])]) for b in chunks]
            alphas = _part_alphas(chunks, done, round_tokens, run.schedule)
            args = (path, chunks, seeds, alphas, run.model, names, arrays, state["tables"])
            key = f"{key_prefix}-e{epoch}-r{r}-s{shard}-{uuid.uuid4().hex[:6]}"
            futures.append(client.submit(train_part, *args, key=key, retries=TASK_RETRIES, pure=False))
        results = client.gather(futures)
        state["futures"] = []
        return results

    try:
        for epoch, (r, row) in itertools.product(range(start_epoch, run.settings.epochs), enumerate(plan)):
            if r == 0 and epoch > start_epoch and run.epoch_end(epoch - 1):
                break
            round_tokens = sum(int(b[-1] - b[0]) for part in row for b in part)
            if round_tokens == 0:
                continue
            for attempt in range(ROUND_ATTEMPTS):
                try:
                    results = run_round(epoch, r, row, round_tokens)
                    break
                except CancelledError:
                    # every worker holding this round's scattered inputs died: they cannot
                    # be recomputed, but the driver still has them, so run the round again
                    if attempt == ROUND_ATTEMPTS - 1:
                        raise ClusterError(
                            f"training failed: workers kept dying and lost the weights {ROUND_ATTEMPTS} times"
                        ) from None
                    state["tables"] = client.scatter(static, broadcast=True, hash=False)
            for k, name in enumerate(names):
                _combine(run.weights[name], [changes[k] for changes, *_ in results], how)
            for _, loss, examples, _ in results:
                run.losses.add(epoch, loss, examples)
            done += round_tokens
            del results
            run.show_progress(done)
        else:
            if start_epoch < run.settings.epochs:
                run.epoch_end(run.settings.epochs - 1)
    except distributed.KilledWorker as exc:
        raise ClusterError(f"training failed: workers kept dying on the same shard ({exc})") from None
    except (KeyboardInterrupt, EmbedkitError):
        raise
    except Exception as exc:
        raise ClusterError(f"training on the cluster failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if state["futures"]:
            client.cancel(state["futures"])
        state.clear()
    return {
        "scheduler": client.scheduler.address,
        "shards": shards,
        "sync_rounds": rounds,
        "combine": how,
        "chunk_tokens": chunk_tokens,
    }
