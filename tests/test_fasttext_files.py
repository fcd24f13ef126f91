"""fastText ``.bin`` files: read and written as the real ``fasttext`` program and gensim do,
native subword folders (format 3), the CLI over subword models, and hostile ``.bin`` files."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from gensim.models.fasttext import load_facebook_model, load_facebook_vectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit
from embedkit.errors import FormatError, UnknownWordError
from embedkit.text.subwords import vocabulary_ngrams
from embedkit.vectors.subwords import SubwordVectors

from .conftest import run_cli

FASTTEXT = shutil.which("fasttext")
needs_fasttext = pytest.mark.skipif(FASTTEXT is None, reason="the fasttext program is not installed")
# Known words, unknown words (non-ASCII ones too: the hash sign-extends their bytes), the end-of-line token.
QUERIES = ["the", "government", "</s>", "qwertyish", "governments", "café", "straße", "日本語", "🙂", "x"]


def print_word_vectors(model: Path, words: list[str]) -> dict[str, np.ndarray]:
    """What ``fasttext print-word-vectors`` answers for ``words`` (5 significant digits)."""
    done = subprocess.run(
        [FASTTEXT, "print-word-vectors", str(model)],
        input="\n".join(words) + "\n", capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    found = {}
    for line in done.stdout.splitlines():
        word, *values = line.rstrip().split(" ")
        found[word] = np.array(values, dtype=np.float32)
    return found


def is_mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory-mapped file (not a copy in memory)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return False


def assert_printed_equal(printed: np.ndarray, ours: np.ndarray) -> None:
    # fastText prints 5 significant digits: equal to 1e-5 plus half a unit of the 5th digit
    np.testing.assert_allclose(ours, printed, rtol=6e-5, atol=1e-5)


@pytest.fixture(scope="session")
def fasttext_model(tmp_path_factory: pytest.TempPathFactory, lee_path: Path) -> Path:
    """A small skip-gram model trained by the real fasttext program (n-grams 3-6, 5,000 buckets)."""
    if FASTTEXT is None:
        pytest.skip("the fasttext program is not installed")
    out = tmp_path_factory.mktemp("fasttext") / "lee"
    subprocess.run(
        [FASTTEXT, "skipgram", "-input", str(lee_path), "-output", str(out), "-minn", "3", "-maxn", "6",
         "-bucket", "5000", "-dim", "16", "-epoch", "2", "-thread", "1", "-verbose", "0", "-seed", "1"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out.with_suffix(".bin")


@pytest.fixture(scope="session")
def fasttext_vectors(fasttext_model: Path) -> embedkit.Vectors:
    return embedkit.load(fasttext_model)


def tiny_subword_model(minn: int = 3, maxn: int = 4, buckets: int = 11) -> embedkit.Vectors:
    """A hand-made subword model of four words (dim 3), its rows random but fixed."""
    rng = np.random.default_rng(7)
    words = ["the", "cat", "</s>", "sät"]
    sub = SubwordVectors(
        minn, maxn, buckets,
        rng.standard_normal((4, 3)).astype(np.float32),
        rng.standard_normal((buckets, 3)).astype(np.float32),
        *vocabulary_ngrams(words, minn, maxn, buckets),
    )  # fmt: skip
    return embedkit.Vectors(words, sub.word_vectors(), counts=np.array([9, 5, 3, 1]), subwords=sub)


# --- reading what fastText wrote -----------------------------------------------------------
@needs_fasttext
def test_read_bin_equals_print_word_vectors(fasttext_model: Path, fasttext_vectors: embedkit.Vectors) -> None:
    v = fasttext_vectors
    assert v.subwords is not None and (v.subwords.minn, v.subwords.maxn, v.subwords.buckets) == (3, 6, 5000)
    assert "</s>" in v and "the" in v and "qwertyish" not in v and v.is_known("the")
    printed = print_word_vectors(fasttext_model, QUERIES)
    for word in QUERIES:
        assert_printed_equal(printed[word], v[word])
    # gensim reads the same file to the same vectors (it prints nothing: compared at 1e-5)
    gensim = load_facebook_vectors(str(fasttext_model))
    for word in QUERIES:
        if word == "</s>":
            continue  # gensim adds n-grams to fastText's end-of-line token; fastText (and embedkit) do not
        np.testing.assert_allclose(v[word], gensim[word], atol=1e-5)
    assert v.trainable and set(v.state) == {"syn0", "ngrams", "syn1neg"}
    ngrams = v.subwords.ngrams  # a read-only view of the mapped file, not a copy
    assert not ngrams.flags.writeable and is_mapped(ngrams)


@needs_fasttext
def test_queries_with_unknown_words(fasttext_vectors: embedkit.Vectors) -> None:
    v = fasttext_vectors
    unit = v.unit_vectors
    query = v["governments"] / np.linalg.norm(v["governments"])  # from its n-grams
    found = v.most_similar("governments", k=5)
    np.testing.assert_allclose([s for _, s in found], np.sort(unit @ query)[::-1][:5], atol=1e-5)
    batch = v.most_similar_batch(["governments", ["government", "qwertyish"]], k=5)
    assert [w for w, _ in batch[0]] == [w for w, _ in found]
    both = v.most_similar(["government", "qwertyish"], k=5)
    assert [w for w, _ in batch[1]] == [w for w, _ in both] and "government" not in dict(both)
    added = v.analogy("qwertyish", "the", "governments", k=3)
    assert "the" not in dict(added)
    assert [w for w, _ in v.analogy_batch([("qwertyish", "the", "governments")], k=3)[0]] == [
        w for w, _ in added
    ]
    mul = v.analogy("qwertyish", "the", "governments", k=3, method="mul")
    assert mul == v.most_similar_cosmul(["the", "governments"], ["qwertyish"], k=3) and len(mul) == 3
    other = v["qwertyish"] / np.linalg.norm(v["qwertyish"])
    assert v.similarity("governments", "qwertyish") == pytest.approx(float(query @ other), abs=1e-6)
    words = ["government", "governments", "🙂"]
    rows = np.array([v[w] / np.linalg.norm(v[w]) for w in words])
    mean = rows.mean(axis=0)
    assert v.doesnt_match(words) == words[int(np.argmin(rows @ (mean / np.linalg.norm(mean))))]
    assert v.most_similar_batch(["government", "qwertyish"], k=2, on_unknown="none")[1] is not None


# --- writing what fastText and gensim read -------------------------------------------------
@needs_fasttext
def test_written_bin_reads_the_same_in_fasttext_and_gensim(
    fasttext_vectors: embedkit.Vectors, tmp_path: Path
) -> None:
    out = tmp_path / "copy.bin"
    assert fasttext_vectors.save_as(out) == "fastText bin"  # a subword model's .bin is fastText's
    printed = print_word_vectors(out, QUERIES)
    model = load_facebook_model(str(out))
    for word in QUERIES:
        assert_printed_equal(printed[word], fasttext_vectors[word])
        if word != "</s>":  # see test_read_bin_equals_print_word_vectors
            np.testing.assert_allclose(model.wv[word], fasttext_vectors[word], atol=1e-5)
    again = embedkit.load(out)
    np.testing.assert_array_equal(again.vectors, fasttext_vectors.vectors)
    np.testing.assert_array_equal(again.state["syn1neg"], fasttext_vectors.state["syn1neg"])


@needs_fasttext
def test_hand_made_model_written_as_bin(tmp_path: Path) -> None:
    v = tiny_subword_model()
    v.save_fasttext(tmp_path / "tiny.bin")
    printed = print_word_vectors(tmp_path / "tiny.bin", ["the", "sät", "</s>", "säts", "dog"])
    for word, vector in printed.items():
        assert_printed_equal(vector, v[word])


def test_plain_vectors_bin_is_word2vec_unless_asked(tmp_path: Path) -> None:
    plain = embedkit.Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    assert plain.save_as(tmp_path / "plain.bin") == "word2vec binary"
    assert embedkit.load(tmp_path / "plain.bin").subwords is None
    assert plain.save_as(tmp_path / "ft.bin", format="fasttext") == "fastText bin"
    again = embedkit.load(tmp_path / "ft.bin")
    np.testing.assert_array_equal(again.vectors, plain.vectors)
    with pytest.raises(UnknownWordError):
        again["c"]  # no n-grams in this model


# --- the native folder, format 3 -------------------------------------------------------
def test_native_subword_folder_round_trip(tmp_path: Path) -> None:
    v = tiny_subword_model()
    v.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["format_version"] == 3 and meta["subwords"] == {"minn": 3, "maxn": 4, "buckets": 11}
    again = embedkit.load(tmp_path / "m")
    assert is_mapped(again.subwords.ngrams) and not again.subwords.ngrams.flags.writeable
    np.testing.assert_array_equal(again.vectors, v.vectors)
    for word in ("cats", "sätt", "the"):
        np.testing.assert_array_equal(again[word], v[word])
    first = embedkit.load(tmp_path / "m", limit=2)
    assert first.words == ["the", "cat"] and first.subwords.word_input.shape == (2, 3)
    np.testing.assert_array_equal(first["sät"], v.subwords.oov_vector("sät"))
    # a plain copy of a subword model keeps the full vectors (.vec as fastText writes it)
    v.save_word2vec(tmp_path / "m.vec", binary=False)
    np.testing.assert_allclose(embedkit.load(tmp_path / "m.vec").vectors, v.vectors, atol=1e-6)


def test_native_subword_folder_damaged(tmp_path: Path) -> None:
    tiny_subword_model().save(tmp_path / "m")
    ngrams = tmp_path / "m" / "subword-ngrams.npy"
    ngrams.write_bytes(ngrams.read_bytes()[:-5])
    with pytest.raises(FormatError, match=r"subword-ngrams\.npy"):
        embedkit.load(tmp_path / "m")
    meta_path = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["subwords"]["buckets"] = -1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match="buckets"):
        embedkit.load(tmp_path / "m")


# --- the command line ---------------------------------------------------------------------
@needs_fasttext
def test_cli_over_a_fasttext_model(fasttext_model: Path, tmp_path: Path) -> None:
    done = run_cli("similar", "qwertyish", "--model", fasttext_model, "-k", "3")
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 3
    assert (
        done.stderr.strip() == "note: 'qwertyish' is not in the vocabulary: answered from character n-grams"
    )
    info = run_cli("info", fasttext_model)
    assert info.returncode == 0 and "format: fastText bin" in info.stdout
    assert "minn 3, maxn 6, buckets 5000" in info.stdout
    converted = run_cli("convert", fasttext_model, tmp_path / "folder")
    assert converted.returncode == 0 and "embedkit native" in converted.stdout
    assert embedkit.load(tmp_path / "folder").subwords.buckets == 5000
    as_vec = run_cli("convert", tmp_path / "folder", tmp_path / "copy.bin", "--format", "word2vec")
    assert as_vec.returncode == 0 and "(word2vec binary)" in as_vec.stdout
    assert embedkit.load(tmp_path / "copy.bin").subwords is None
    bad = run_cli("convert", tmp_path / "folder", tmp_path / "x.bin", "--format", "pickle")
    assert (
        bad.returncode == 2 and "unknown format 'pickle'" in bad.stderr and not (tmp_path / "x.bin").exists()
    )


def test_cli_word_without_ngrams_is_one_line_error(tmp_path: Path) -> None:
    tiny_subword_model(minn=5, maxn=6).save(tmp_path / "m")  # 'x' (<x>) is too short for any n-gram
    done = run_cli("similar", "x", "--model", tmp_path / "m")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == "error: word 'x' is not in the vocabulary (and it has no character n-gram in this model)"
    )


# --- hostile files ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bin(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("tiny") / "tiny.bin"
    tiny_subword_model().save_fasttext(path)
    return path.read_bytes()


def test_bin_cut_anywhere_is_a_format_error(tiny_bin: bytes, tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    for size in range(4, len(tiny_bin)):  # every section: header, arguments, dictionary, matrices
        path.write_bytes(tiny_bin[:size])
        with pytest.raises(FormatError):
            embedkit.load(path)
    path.write_bytes(tiny_bin + b"\0")
    with pytest.raises(FormatError, match="follow the output matrix"):
        embedkit.load(path)


@pytest.mark.parametrize(
    ("offset", "layout", "value", "message"),
    [
        (4, "<i", 13, "version 13"),
        (8, "<i", 2**30, "dimension"),  # dim
        (8 + 32, "<i", 2**31 - 1, "input matrix"),  # bucket: the matrix would be huge
        (8 + 32, "<i", -3, "bucket"),
        (64, "<i", 2**31 - 1, "inconsistent"),  # dictionary size
        (64, "<i", -1, "inconsistent"),
        (68, "<i", 2**31 - 2, "inconsistent"),  # nwords
        (76, "<q", -5, "inconsistent"),  # ntokens
        (84, "<q", 7, "pruned"),  # pruneidx_size
        (92 + 4, "<q", -1, "negative count"),  # the count of the first word, "the"
        (92 + 12, "<b", 1, "entry types"),  # the first word's type says label
    ],
)
def test_lying_headers_refused_before_allocating(
    tiny_bin: bytes, tmp_path: Path, offset: int, layout: str, value: int, message: str
) -> None:
    data = bytearray(tiny_bin)
    struct.pack_into(layout, data, offset, value)
    (tmp_path / "lie.bin").write_bytes(bytes(data))
    with pytest.raises(FormatError, match=message):
        embedkit.load(tmp_path / "lie.bin")


def test_huge_dictionary_claims_fail_fast(tiny_bin: bytes, tmp_path: Path) -> None:
    data = bytearray(tiny_bin)
    struct.pack_into("<iii", data, 64, 2_000_000_000, 2_000_000_000, 0)
    (tmp_path / "huge.bin").write_bytes(bytes(data))
    with pytest.raises(FormatError, match="more than the file holds"):
        embedkit.load(tmp_path / "huge.bin")


def test_wrong_magic_and_foreign_files(tiny_bin: bytes, tmp_path: Path) -> None:
    (tmp_path / "magic.bin").write_bytes(b"\0\0\0\0" + tiny_bin[4:])
    with pytest.raises(FormatError):
        embedkit.load(tmp_path / "magic.bin")
    plain = embedkit.Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    plain.save_word2vec(tmp_path / "w2v.bin")  # word2vec binary stays word2vec binary
    assert embedkit.load(tmp_path / "w2v.bin").subwords is None
    assert run_cli("info", tmp_path / "w2v.bin").stdout.startswith("format: word2vec binary")


def test_cli_convert_of_a_damaged_bin_writes_nothing(tiny_bin: bytes, tmp_path: Path) -> None:
    (tmp_path / "cut.bin").write_bytes(tiny_bin[:-7])
    done = run_cli("convert", tmp_path / "cut.bin", tmp_path / "out.vec")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert not (tmp_path / "out.vec").exists() and not list(tmp_path.glob(".out.vec*"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(4, 120), junk=st.binary(min_size=1, max_size=16))
def test_fuzzed_headers_load_or_fail_cleanly(tiny_bin: bytes, tmp_path: Path, at: int, junk: bytes) -> None:
    data = bytearray(tiny_bin)
    data[at : at + len(junk)] = junk
    path = tmp_path / "fuzz.bin"
    path.write_bytes(bytes(data[: len(tiny_bin)]))
    try:
        v = embedkit.load(path)
    except FormatError as exc:
        assert "\n" not in str(exc)
    else:
        assert v.vectors.shape == (len(v.words), v.dim)


@needs_fasttext
def test_supervised_model_read_as_its_word_vectors(tmp_path: Path, lee_path: Path) -> None:
    words = lee_path.read_text(encoding="utf-8").split()[:3000]
    lines = [f"__label__{'ab'[i % 2]} " + " ".join(words[i * 12 : i * 12 + 12]) for i in range(200)]
    (tmp_path / "labelled.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(
        [FASTTEXT, "supervised", "-input", str(tmp_path / "labelled.txt"), "-output", str(tmp_path / "sup"),
         "-dim", "8", "-epoch", "2", "-minn", "2", "-maxn", "4", "-bucket", "1000", "-thread", "1",
         "-verbose", "0"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    v = embedkit.load(tmp_path / "sup.bin")
    assert not any(w.startswith("__label__") for w in v.words) and not v.trainable  # labels left out
    printed = print_word_vectors(tmp_path / "sup.bin", [words[0], "qwertyish"])
    for word, vector in printed.items():
        assert_printed_equal(vector, v[word])


def test_version_11_files_are_read(tiny_bin: bytes, tmp_path: Path) -> None:
    data = bytearray(tiny_bin)
    struct.pack_into("<i", data, 4, 11)
    (tmp_path / "old.bin").write_bytes(bytes(data))
    (tmp_path / "new.bin").write_bytes(tiny_bin)
    old, new = embedkit.load(tmp_path / "old.bin"), embedkit.load(tmp_path / "new.bin")
    np.testing.assert_array_equal(old.vectors, new.vectors)
    np.testing.assert_array_equal(old["säts"], new["säts"])


def test_gensim_fasttext_models_read_and_converted(tmp_path: Path) -> None:
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model
    from gensim.test.utils import common_texts

    model = FastText(
        common_texts, vector_size=8, window=3, min_count=1, epochs=3, bucket=500, min_n=3, max_n=5,
        seed=1, workers=1,
    )  # fmt: skip
    save_facebook_model(model, str(tmp_path / "gensim.bin"))
    read, converted = embedkit.load(tmp_path / "gensim.bin"), embedkit.Vectors.from_gensim(model)
    for word in ("human", "computer", "qwertyish", "systemic", "ünïcode"):
        np.testing.assert_allclose(read[word], model.wv[word], atol=1e-6)
        np.testing.assert_allclose(converted[word], model.wv[word], atol=1e-6)
    assert converted.subwords.buckets == 500 and "systemic" not in converted
