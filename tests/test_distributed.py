"""Data-parallel training on a Dask LocalCluster of 2 worker processes (gensim's Lee corpus)."""

from __future__ import annotations

import itertools
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.errors import UsageError
from embedkit.text.encoded import EncodedCorpus, encode_corpus
from embedkit.text.vocabulary import build_vocabulary
from embedkit.training.cluster import ClusterError, ClusterSettings, connect, plan_parts, train_on_cluster
from embedkit.training.core import TrainingRun
from embedkit.training.settings import TrainingSettings
from embedkit.training.word2vec import Word2Vec

from .conftest import run_cli

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

# the plugin below travels to the workers by value (they need not import the tests)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class KillWorker(distributed.WorkerPlugin):
    """Kill the worker process (SIGKILL) as it starts a training task past the first round.

    At most ``kills`` times in all (counted with marker files, which survive the restarts).
    """

    def __init__(self, folder: str, kills: int) -> None:
        self.folder = folder
        self.kills = kills

    def transition(self, key: object, start: str, finish: str, **kwargs: object) -> None:
        found = re.search(r"embedkit-train-\w+-e(\d+)-r(\d+)-", str(key))
        if finish != "executing" or found is None or found.groups() == ("0", "0"):
            return
        for i in range(self.kills):
            try:
                os.close(os.open(os.path.join(self.folder, f"kill-{i}"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """One LocalCluster of 2 single-threaded worker processes for the whole module.

    A task may see one worker die under it (the scheduler re-runs it); a second death is fatal.
    """
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def killer(client: distributed.Client, tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """``killer(n)`` arms the plugin for ``n`` kills; afterwards the cluster has 2 workers again."""
    folder = tmp_path / "kills"
    folder.mkdir()

    def arm(kills: int) -> Path:
        client.register_plugin(KillWorker(str(folder), kills), name="killer")
        return folder

    yield arm
    client.unregister_worker_plugin("killer")
    client.wait_for_workers(2, timeout=120)


def neighbour_overlap(a: embedkit.Vectors, b: embedkit.Vectors, words: list[str], k: int = 10) -> float:
    """Mean number of shared words among the ``k`` nearest neighbours in ``a`` and ``b``."""
    shared = [{w for w, _ in a.most_similar(x, k=k)} & {w for w, _ in b.most_similar(x, k=k)} for x in words]
    return float(np.mean([len(s) for s in shared]))


def cooccurrence_gap(vectors: embedkit.Vectors, tokens: np.ndarray) -> float:
    """Mean cosine of adjacent words minus that of random pairs (top 50 words left out)."""
    unit = vectors.unit_vectors
    left, right = tokens[:-1], tokens[1:]
    keep = (left >= 50) & (right >= 50) & (left != right)
    near = np.einsum("ij,ij->i", unit[left[keep]], unit[right[keep]]).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(50, len(vectors), (2, 20_000))
    return float(near - np.einsum("ij,ij->i", unit[a], unit[b]).mean())


def test_cluster_trains_real_vectors(client, lee_path: Path, lee_model: embedkit.Vectors, tmp_path) -> None:
    vectors = embedkit.train(lee_path, epochs=20, seed=1, progress=False, cluster=client)
    info = vectors.meta["training"]
    assert info["cluster"]["shards"] == 2 and info["cluster"]["sync_rounds"] == 4
    assert vectors.words == lee_model.words and np.isfinite(vectors.vectors).all()
    assert info["epoch_loss"][-1] < 0.8 * info["epoch_loss"][0]
    vocab = build_vocabulary(lee_path, min_count=5)
    tokens = np.asarray(encode_corpus(lee_path, vocab, tmp_path / "enc.int32").tokens)
    gap, single_gap = cooccurrence_gap(vectors, tokens), cooccurrence_gap(lee_model, tokens)
    assert gap > 0.1 and gap > 0.5 * single_gap, (gap, single_gap)
    # neighbours of mid-frequency words agree with single-process training as much as two
    # single-process seeds do (about 6.5 of 10 shared; 0.06 by chance)
    overlap = neighbour_overlap(vectors, lee_model, lee_model.words[50:150])
    assert overlap > 4.5, overlap


def test_spark_averaging_trains_too(client, lee_path: Path) -> None:
    vectors = embedkit.train(lee_path, epochs=5, progress=False, cluster=client, combine="average")
    info = vectors.meta["training"]
    assert info["cluster"]["combine"] == "average" and np.isfinite(vectors.vectors).all()
    assert info["epoch_loss"][-1] < info["epoch_loss"][0]


def test_a_killed_worker_is_survived_and_changes_nothing(client, killer, lee_path: Path) -> None:
    settings = {"epochs": 2, "seed": 3, "sync_rounds": 2, "progress": False, "cluster": client}
    calm = embedkit.train(lee_path, **settings)
    folder = killer(1)
    survived = embedkit.train(lee_path, **settings)
    assert (folder / "kill-0").exists()  # a worker did die mid-task
    # the dead worker's shard was re-run from the same inputs: the same vectors, bit for bit
    np.testing.assert_array_equal(calm.vectors, survived.vectors)


def test_cli_on_a_scheduler_address_survives_a_killed_worker(client, killer, lee_path, tmp_path) -> None:
    folder = killer(1)
    out = tmp_path / "vectors.bin"
    address = client.scheduler.address
    args = ["--cluster", address, "--epochs", "2", "--sync-rounds", "2", "-q"]
    result = run_cli("train", lee_path, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    assert (folder / "kill-0").exists()
    assert "2 shards, 2 sync rounds per epoch (sum)" in result.stderr
    assert len(embedkit.load(out)) > 1_000


def test_cli_writes_nothing_when_workers_keep_dying(client, killer, lee_path, tmp_path) -> None:
    killer(10)
    out = tmp_path / "vectors.bin"
    args = ["--cluster", client.scheduler.address, "--epochs", "2", "-q"]
    result = run_cli("train", lee_path, "-o", out, *args)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "workers kept dying" in errors[0], result.stderr
    assert not out.exists()


def test_bad_cluster_addresses_fail_fast_with_one_line(lee_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.bin"
    began = time.perf_counter()
    args = ["--cluster", "tcp://127.0.0.1:9", "--connect-timeout", "1"]
    refused = run_cli("train", lee_path, "-o", out, *args)
    assert time.perf_counter() - began < 30
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: cannot connect to the dask scheduler at 'tcp://127.0.0.1:9'")
    assert len(refused.stderr.strip().splitlines()) == 1
    for bad, code in [("nonsense://x", 1), ("local:0", 2), ("local:two", 2)]:
        result = run_cli("train", lee_path, "-o", out, "--cluster", bad)
        assert result.returncode == code, (bad, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    no_cluster = run_cli("train", lee_path, "-o", out, "--sync-rounds", "2")
    assert no_cluster.returncode == 2 and "--cluster" in no_cluster.stderr
    assert not out.exists()


def test_workers_that_cannot_see_the_corpus_are_named(client, lee_path: Path, tmp_path: Path) -> None:
    vocab = build_vocabulary(lee_path, min_count=5)
    unseen = EncodedCorpus(tmp_path / "elsewhere.int32", np.array([0, 10]), 10)
    run = TrainingRun.start(TrainingSettings(epochs=1), vocab, unseen, Word2Vec(5, 5), progress=False)
    message = r"2 of 2 workers cannot read the encoded corpus .*all workers share"
    with pytest.raises(ClusterError, match=message):
        train_on_cluster(client, run, ClusterSettings(sync_rounds=1))


def test_bad_cluster_arguments_in_python(lee_path: Path) -> None:
    with pytest.raises(UsageError, match="cluster must be"):
        embedkit.train(lee_path, cluster=42, progress=False)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="sync_rounds"):
        embedkit.train(lee_path, cluster="local:2", sync_rounds=0, progress=False)
    with pytest.raises(UsageError, match="need a cluster"):
        embedkit.train(lee_path, sync_rounds=2, progress=False)
    with pytest.raises(UsageError, match="combine"):
        embedkit.train(lee_path, cluster="local:2", combine="median", progress=False)
    with pytest.raises(ClusterError, match="cannot connect"), connect("tcp://127.0.0.1:9", timeout=0.5):
        pass


def test_missing_dask_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterError, match=re.escape("pip install 'embedkit[dask]'")), connect("local:2"):
        pass


def test_shards_and_rounds_cover_the_corpus_once() -> None:
    rng = np.random.default_rng(5)
    line_starts = np.concatenate(([0], np.cumsum(rng.integers(1, 3_000, 400))))
    plan = plan_parts(line_starts, shards=3, rounds=4, chunk_tokens=2_000)
    chunks = [c for row in plan for part in row for c in part]
    spans = sorted((int(c[0]), int(c[-1])) for c in chunks)
    assert spans[0][0] == 0 and spans[-1][1] == line_starts[-1]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no overlap
    per_shard = [sum(int(c[-1] - c[0]) for r in range(4) for c in plan[r][s]) for s in range(3)]
    assert max(per_shard) - min(per_shard) < 3 * 2_000 + 3_000  # balanced up to a chunk or so
