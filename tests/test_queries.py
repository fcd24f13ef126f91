"""The query engine: indexes, 3CosMul, doesnt_match, restrict_vocab and batches, gensim as oracle."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embedkit
from embedkit import UnknownWordError, UsageError, Vectors
from embedkit.vectors import cosmul as cosmul_module
from embedkit.vectors import index as index_module

# gensim's most_similar_cosmul calls its own deprecated init_sims()
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


def clustered(words: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Vectors around cluster centres, with a shared offset, like trained embeddings (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    members = rng.integers(0, clusters, size=words)
    offset = rng.normal(size=dim) * 0.5
    return (centres[members] + 0.8 * rng.normal(size=(words, dim)) + offset).astype(np.float32)


@pytest.fixture(scope="module")
def space() -> Vectors:
    matrix = clustered(3000, 32, 40, seed=7)
    return Vectors([f"w{i}" for i in range(len(matrix))], matrix)


def gensim_of(vectors: Vectors, limit: int | None = None) -> KeyedVectors:
    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words[:limit], np.asarray(vectors.vectors[:limit]))
    return kv


@pytest.fixture(scope="module")
def kv(space: Vectors) -> KeyedVectors:
    return gensim_of(space)


@pytest.fixture(scope="module")
def lee_kv(lee_model: Vectors) -> KeyedVectors:
    return gensim_of(lee_model)


def same(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def triples(vectors: Vectors, count: int, seed: int, top: int | None = None) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(seed)
    pool = vectors.words[:top]
    out = []
    while len(out) < count:
        a, b, c = rng.choice(len(pool), 3, replace=False)
        out.append((pool[a], pool[b], pool[c]))
    return out


# --- exact answers equal gensim's ----------------------------------------------------------
def test_most_similar_and_restrict_vocab_equal_gensim(space: Vectors, kv: KeyedVectors) -> None:
    for word in space.words[:20]:
        same(space.most_similar(word), kv.most_similar(word, topn=10))
        same(space.most_similar(word, restrict_vocab=500), kv.most_similar(word, topn=10, restrict_vocab=500))
    same(
        space.most_similar(["w1", "w2"], negative=["w3"], k=7),
        kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=7),
    )


@pytest.mark.parametrize("fixture", ["space", "lee_model"])
def test_analogy_mul_equals_gensim_cosmul(fixture: str, request) -> None:
    vectors = request.getfixturevalue(fixture)
    oracle = gensim_of(vectors)
    for a, b, c in triples(vectors, 40, seed=3, top=2000):
        same(vectors.analogy(a, b, c, method="mul"), oracle.most_similar_cosmul([b, c], [a], topn=10))
        same(vectors.analogy(a, b, c, method="add"), oracle.most_similar([b, c], [a], topn=10))


def test_most_similar_cosmul_any_number_of_words(space: Vectors, kv: KeyedVectors) -> None:
    for pos, neg in [(["w5"], []), (["w5", "w6", "w7"], []), (["w5", "w6"], ["w7", "w8"]), (["w9"], ["w10"])]:
        same(space.most_similar_cosmul(pos, neg, k=10), kv.most_similar_cosmul(pos, neg, topn=10))


def test_cosmul_restricted_equals_gensim_on_the_first_words(space: Vectors) -> None:
    oracle = gensim_of(space, limit=400)
    for a, b, c in triples(space, 20, seed=5, top=400):
        ours = space.analogy(a, b, c, method="mul", restrict_vocab=400)
        same(ours, oracle.most_similar_cosmul([b, c], [a], topn=10))


def test_cosmul_bound_and_full_scan_agree(space: Vectors, kv: KeyedVectors, monkeypatch) -> None:
    """Few candidates: the bound rarely proves them enough, so most queries fall back to a full scan."""
    queries = triples(space, 30, seed=11)
    wide = space.analogy_batch(queries, method="mul")
    monkeypatch.setattr(cosmul_module, "CANDIDATES", 5)
    narrow = space.analogy_batch(queries, method="mul", k=1)
    for (a, b, c), w, n in zip(queries, wide, narrow):
        same(n, kv.most_similar_cosmul([b, c], [a], topn=1))
        same(w, kv.most_similar_cosmul([b, c], [a], topn=10))


def test_cosmul_bound_holds_for_every_word(space: Vectors) -> None:
    """The closed-form bound is never below the 3CosMul of a word outside all candidate lists."""
    unit = space.unit_vectors
    rng = np.random.default_rng(2)
    for _ in range(30):
        a, b, c = rng.choice(len(space), 3, replace=False)
        direction = unit[b] + unit[c] - unit[a]
        norm = np.linalg.norm(direction)
        lists = [unit @ (direction / norm), unit @ unit[b], unit @ unit[c], -(unit @ unit[a])]
        cuts = [np.sort(scores)[-50] for scores in lists]
        outside = np.logical_and.reduce([scores < cut for scores, cut in zip(lists, cuts)])
        mul = (1 + lists[1]) / 2 * (1 + lists[2]) / 2 / ((1 - lists[3]) / 2 + 1e-6)
        bound = cosmul_module.bound(
            np.array([cuts[0]]), np.array([norm]), np.array([[cuts[1], cuts[2]]]), np.array([1 - cuts[3]])
        )[0]
        assert outside.sum() > 2000 and mul[outside].max() <= bound
        no_negative = (1 + lists[1]) / 2 * (1 + lists[2]) / 2 / (1 + 1e-6)
        direction = (unit[b] + unit[c]) / np.linalg.norm(unit[b] + unit[c])
        cut = np.sort(unit @ direction)[-50]
        outside = (unit @ direction < cut) & (lists[1] < cuts[1]) & (lists[2] < cuts[2])
        norms = np.array([np.linalg.norm(unit[b] + unit[c])])
        top = cosmul_module.bound(np.array([cut]), norms, np.array([[cuts[1], cuts[2]]]), None)[0]
        assert no_negative[outside].max() <= top


def test_doesnt_match_equals_gensim(space: Vectors, kv: KeyedVectors, lee_model: Vectors, lee_kv) -> None:
    rng = np.random.default_rng(4)
    for size in (3, 4, 6, 9):  # (two words tie by symmetry: either answer is right)
        for _ in range(10):
            words = [space.words[i] for i in rng.choice(len(space), size, replace=False)]
            assert space.doesnt_match(words) == kv.doesnt_match(words)
    for words in (["fire", "police", "Sydney", "government"], ["man", "men", "child", "Afghanistan"]):
        assert lee_model.doesnt_match(words) == lee_kv.doesnt_match(words)


# --- batches equal single queries ------------------------------------------------------------
@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogy_batch_equals_single_queries(lee_model: Vectors, method: str) -> None:
    queries = triples(lee_model, 60, seed=9, top=1500)
    batch = lee_model.analogy_batch(queries, k=10, method=method)
    for (a, b, c), answer in zip(queries, batch):
        same(answer, lee_model.analogy(a, b, c, k=10, method=method))
        assert not {a, b, c} & {w for w, _ in answer}


def test_most_similar_batch_equals_single_queries(lee_model: Vectors) -> None:
    queries = [*lee_model.words[:50], ["fire", "police"], ("man", "child")]
    batch = lee_model.most_similar_batch(queries, k=8, restrict_vocab=1000)
    for query, answer in zip(queries, batch):
        same(answer, lee_model.most_similar(query, k=8, restrict_vocab=1000))


def test_unknown_words_in_a_batch(lee_model: Vectors) -> None:
    queries = [("man", "men", "child"), ("man", "zzyzx", "child"), ("fire", "police", "Australia")]
    with pytest.raises(UnknownWordError, match="zzyzx"):
        lee_model.analogy_batch(queries)
    answers = lee_model.analogy_batch(queries, on_unknown="none")
    assert answers[1] is None
    same(answers[0], lee_model.analogy("man", "men", "child"))
    same(answers[2], lee_model.analogy("fire", "police", "Australia"))
    assert lee_model.most_similar_batch(["fire", "qwerty"], on_unknown="none")[1] is None
    assert lee_model.analogy_batch([]) == [] and lee_model.most_similar_batch([]) == []


# --- approximate indexes ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_find_the_exact_neighbours(space: Vectors, kind: str) -> None:
    vectors = Vectors(space.words, space.vectors, index=kind)
    assert vectors.index_kind() == kind and space.index_kind() == "exact"
    if kind == "ivf":
        vectors.use_index("ivf", nlist=16, nprobe=8)
    words = space.words[::30]
    exact = space.most_similar_batch(words, k=10)
    approx = vectors.most_similar_batch(words, k=10)
    recall = np.mean([len({w for w, _ in e} & {w for w, _ in a}) / 10 for e, a in zip(exact, approx)])
    assert recall >= 0.9
    assert approx == [vectors.most_similar(w, k=10) for w in words]
    restricted = vectors.most_similar_batch(words[:20], k=5, restrict_vocab=1000, index=kind)
    assert all(int(w[1:]) < 1000 for answer in restricted for w, _ in answer)
    import embedkit.vectors.store

    with pytest.MonkeyPatch.context() as patch:  # large restrictions filter the approximate index by id
        patch.setattr(embedkit.vectors.store, "EXACT_MAX", 100)
        filtered = vectors.most_similar_batch(words[:20], k=5, restrict_vocab=1000, index=kind)
        assert all(int(w[1:]) < 1000 for answer in filtered for w, _ in answer)
        same_words = [[w for w, _ in r] == [w for w, _ in f] for r, f in zip(restricted, filtered)]
        assert np.mean(same_words) >= 0.7
    mul = vectors.analogy("w1", "w2", "w3", method="mul")
    assert len(mul) == 10 and not {"w1", "w2", "w3"} & {w for w, _ in mul}


def test_auto_choice_by_vocabulary_size() -> None:
    assert index_module.choose_kind(10_000) == "exact"
    assert index_module.choose_kind(1_000_000) == "hnsw"
    assert index_module.choose_kind(10_000_000) == "ivf"


def test_index_saved_beside_native_model_reused_and_rebuilt(space: Vectors, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDKIT_CACHE", str(tmp_path / "cache"))
    space.save(tmp_path / "model")
    first = embedkit.load(tmp_path / "model").use_index("hnsw", M=8, ef_construction=20)
    first.build_index()
    saved = sorted((tmp_path / "model").glob("index-hnsw-M8-efc20-*.faiss"))
    assert len(saved) == 1 and not list((tmp_path / "model").glob(".*tmp"))

    def no_build(*args, **kwargs):
        raise AssertionError("the saved index should have been reused")

    monkeypatch.setattr(index_module, "build_faiss", no_build)
    again = embedkit.load(tmp_path / "model").use_index("hnsw", M=8, ef_construction=20)
    assert again.most_similar("w1") == first.most_similar("w1")
    monkeypatch.undo()
    monkeypatch.setenv("EMBEDKIT_CACHE", str(tmp_path / "cache"))

    old_index = saved[0].read_bytes()
    changed = Vectors(space.words, space.vectors[::-1].copy())
    changed.save(tmp_path / "model")
    (tmp_path / "model" / saved[0].name).write_bytes(old_index)  # as if the vectors changed in place
    rebuilt = embedkit.load(tmp_path / "model").use_index("hnsw", M=8, ef_construction=20)
    rebuilt.build_index()
    names = {p.name for p in (tmp_path / "model").glob("index-hnsw-*.faiss")}
    assert len(names) == 1 and names != {saved[0].name}  # new hash, the stale index removed


def test_building_an_index_is_logged(space: Vectors, caplog) -> None:
    vectors = Vectors(space.words, space.vectors).use_index("hnsw", M=8, ef_construction=20)
    with caplog.at_level("INFO", logger="embedkit"):
        vectors.build_index()
    notes = [r.getMessage() for r in caplog.records if r.name == "embedkit.vectors.index"]
    assert notes[0].startswith(f"building the HNSW index over {len(space):,} words (hnsw-M8-efc20)")
    assert "kept in memory only" in notes[0] and notes[1].startswith("built in ")


def test_index_of_a_word2vec_file_cached_by_content(space: Vectors, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDKIT_CACHE", str(tmp_path / "cache"))
    space.save_word2vec(tmp_path / "v.txt", binary=False)
    vectors = embedkit.load(tmp_path / "v.txt").use_index("ivf", nlist=16)
    vectors.build_index()
    cached = list((tmp_path / "cache" / "indexes").glob("*-ivf-nlist16.faiss"))
    assert len(cached) == 1
    cached[0].write_bytes(b"corrupted")  # a damaged cache file is rebuilt, not an error
    again = embedkit.load(tmp_path / "v.txt").use_index("ivf", nlist=16)
    assert again.most_similar("w3") == vectors.most_similar("w3")
    assert cached[0].stat().st_size > 1000
    memory_only = Vectors(space.words, space.vectors, index="ivf")
    memory_only.use_index("ivf", nlist=8).build_index()  # no source: nothing written
    assert len(list((tmp_path / "cache" / "indexes").iterdir())) == 1


# --- threads and bad input ---------------------------------------------------------------------
def test_thread_budget_is_shared_among_concurrent_searches(monkeypatch) -> None:
    monkeypatch.setitem(index_module._threads, "budget", None)
    monkeypatch.setenv("EMBEDKIT_THREADS", "2")
    assert index_module.get_threads() == 2
    shares = []
    barrier = threading.Barrier(2)

    def search() -> None:
        with index_module.faiss_threads():
            barrier.wait()
            with index_module.faiss_threads() as share:
                shares.append(share)
            barrier.wait()

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shares == [1, 1]
    embedkit.set_threads(1)
    try:
        assert index_module.get_threads() == 1
    finally:
        embedkit.set_threads(None)
    monkeypatch.setenv("EMBEDKIT_THREADS", "zero")
    with pytest.raises(UsageError, match="EMBEDKIT_THREADS"):
        index_module.get_threads()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.use_index("annoy"), "unknown index 'annoy'"),
        (lambda v: v.use_index("hnsw", M=1), "M must be"),
        (lambda v: v.use_index("hnsw", ef_search=0), "ef_search must be"),
        (lambda v: v.use_index("ivf", nprobe=-2), "nprobe must be"),
        (lambda v: v.use_index("ivf", nlist=0), "nlist must be"),
        (lambda v: v.most_similar("w1", index="lsh"), "unknown index 'lsh'"),
        (lambda v: v.most_similar("w1", restrict_vocab=0), "restrict_vocab"),
        (lambda v: v.analogy("w1", "w2", "w3", method="div"), "unknown analogy method 'div'"),
        (lambda v: v.analogy_batch([("w1", "w2")]), "not an (a, b, c) triple"),
        (lambda v: v.analogy_batch([("w1", "w2", "w3")], on_unknown="skip"), "on_unknown"),
        (lambda v: v.most_similar_batch([[]]), "has no word"),
        (lambda v: v.doesnt_match([]), "at least one word"),
        (lambda v: v.doesnt_match("w1 w2"), "list of words"),
        (lambda v: v.most_similar_cosmul([], ["w1"]), "at least one positive"),
        (lambda v: embedkit.set_threads(0), "threads must be"),
    ],
)
def test_bad_parameters_raise_usage_errors(space: Vectors, call, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        call(space)
    assert "\n" not in str(caught.value)
