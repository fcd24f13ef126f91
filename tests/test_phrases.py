"""Phrase detection (``embedkit.text.phrases``): agreement with gensim's ``Phrases``, exact counts,
the ``phrases`` command and ``train --phrases``.

Known differences from gensim 4.4, none of which shows on the Lee corpus:

* gensim keeps words and candidates in one dict keyed by the joined string, so a corpus
  token that already contains the delimiter (``a_b``) shares its count with the candidate
  ``a b``; embedkit keeps them apart.
* gensim's ``export_phrases`` splits every dict key on the delimiter, so on a model trained
  on already-joined text (the second pass) it scores ``New_South Wales`` as ``New`` …
  ``Wales`` and reports wrong phrases. ``find_phrases`` and ``phrases[sentence]`` are right;
  the second-pass test below trains gensim's second model with another delimiter to get
  its true phrase list.
* gensim's ``LineSentence`` cuts lines longer than 10,000 tokens into separate sentences;
  embedkit treats a line of any length as one sentence.
* npmi scores may differ in the last bit (numpy's ``log`` against ``math.log``).
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS as GENSIM_CONNECTORS
from gensim.models.phrases import Phrases
from hypothesis import given, settings
from hypothesis import strategies as st

import embedkit
from embedkit import cli
from embedkit.text import phrases as ph
from embedkit.text.phrases import ENGLISH_CONNECTOR_WORDS, PhraseModel, detect_phrases
from embedkit.text.reader import ReadStats

from .conftest import run_cli


@pytest.fixture(scope="module")
def lee_sentences(lee_path: Path) -> list[list[str]]:
    with open(lee_path, encoding="utf-8") as handle:
        return [line.split() for line in handle]


def read_lines(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as handle:
        return [line.split() for line in handle]


def test_connector_words_are_gensims() -> None:
    assert ENGLISH_CONNECTOR_WORDS == GENSIM_CONNECTORS


@pytest.mark.parametrize(
    ("scoring", "threshold", "min_count", "connectors"),
    [
        ("default", 10.0, 5, GENSIM_CONNECTORS),
        ("default", 100.0, 5, frozenset()),
        ("default", 1.0, 2, GENSIM_CONNECTORS),
        ("npmi", 0.5, 5, GENSIM_CONNECTORS),
        ("npmi", 0.3, 2, frozenset()),
    ],
)
def test_same_phrases_scores_and_joined_text_as_gensim(
    lee_path: Path, lee_sentences: list[list[str]], tmp_path: Path, scoring, threshold, min_count, connectors
) -> None:
    out = tmp_path / "joined.txt"
    model = detect_phrases(lee_path, min_count=min_count, threshold=threshold, scoring=scoring,
                           connector_words=connectors, passes=1, out=out)  # fmt: skip
    gensim = Phrases(lee_sentences, min_count=min_count, threshold=threshold, scoring=scoring,
                     connector_words=connectors)  # fmt: skip
    expected = gensim.export_phrases()
    assert len(expected) > 50
    assert set(model.phrases) == set(expected)
    for token, score in model.phrases.items():
        assert score == pytest.approx(expected[token], rel=1e-12)
    assert read_lines(out) == [gensim[s] for s in lee_sentences]
    report = model.reports[0]
    assert report.word_types + report.candidate_types == len(gensim.vocab)
    assert report.corpus_words == gensim.corpus_word_count


@pytest.mark.parametrize("max_vocab_size", [40_000_000, 8_000])
def test_second_pass_and_pruning_agree_with_gensim(
    lee_path: Path, lee_sentences: list[list[str]], tmp_path: Path, max_vocab_size: int
) -> None:
    out = tmp_path / "joined.txt"
    options = {"min_count": 3, "threshold": 10.0, "connector_words": GENSIM_CONNECTORS,
               "max_vocab_size": max_vocab_size}  # fmt: skip
    model = detect_phrases(lee_path, passes=2, out=out, **options)
    first = Phrases(lee_sentences, **options)
    joined_once = [first[s] for s in lee_sentences]
    second = Phrases(joined_once, delimiter="+", **options)  # "+": see the module docstring
    assert set(model.passes[0]) and {p.token for p in model.passes[0]} == set(first.export_phrases())
    assert {"+".join(p.parts) for p in model.passes[1]} == set(second.export_phrases())
    assert len(model.passes[1]) >= 5
    two_passes = Phrases(joined_once, **options)
    assert read_lines(out) == [two_passes[s] for s in joined_once]
    assert (model.reports[0].prunes > 0) == (max_vocab_size < 100_000)


def test_connectors_inside_but_not_at_the_ends(tmp_path: Path) -> None:
    lines = ["the bank of america said", "a bank of america branch of the bank", "of bank of america"] * 20
    lines += [f"word{i} bank other{i} america" for i in range(40)]
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.txt"
    model = detect_phrases(corpus, min_count=2, threshold=1.0, passes=1, out=out)
    assert "bank_of_america" in model.phrases
    assert not any(t.startswith(("of_", "the_", "a_")) or t.endswith(("_of", "_the")) for t in model.phrases)
    text = out.read_text().splitlines()
    assert text[0] == "the bank_of_america said" and text[2] == "of bank_of_america"
    assert model[["of", "bank", "of", "america"]] == ["of", "bank_of_america"]


def test_npmi_threshold_defaults_to_half(lee_path: Path) -> None:
    assert detect_phrases(lee_path, scoring="npmi", passes=1).threshold == 0.5
    assert detect_phrases(lee_path, passes=1).threshold == 100.0


def test_save_load_and_apply_to_a_corpus(lee_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "joined.txt"
    model = detect_phrases(lee_path, min_count=3, threshold=20.0, passes=2, out=out)
    model.save(tmp_path / "phrases.tsv")
    loaded = PhraseModel.load(tmp_path / "phrases.tsv")
    assert loaded.phrases == model.phrases and loaded.connector_words == model.connector_words
    again = tmp_path / "again.txt"
    reports = loaded.apply(lee_path, again)
    assert again.read_text() == out.read_text()
    assert [r.joined for r in reports] == [r.joined for r in model.reports]
    lines = read_lines(lee_path)
    assert [loaded[s] for s in lines[:50]] == read_lines(out)[:50]
    with pytest.raises(embedkit.FormatError):
        PhraseModel.load(lee_path)


def test_empty_lines_and_unicode_are_kept(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["new york café", "", "  ", "new york"] * 10) + "\nlast line no newline")
    out = tmp_path / "o.txt"
    detect_phrases(corpus, min_count=1, threshold=0.1, passes=1, out=out)
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[:5] == ["new_york café", "", "", "new_york", "new_york café"]
    assert lines[-2:] == ["last line no newline", ""]


# --- exact counts on arbitrary token sequences -----------------------------------------------

WORDS = ["a", "b", "c", "d", "of", "the", "x_y", "ü"]
CONNECTORS = frozenset({"of", "the"})


def reference_counts(sentences: list[list[str]], max_vocab_size: int) -> tuple[Counter, Counter, int]:
    """gensim's ``_learn_vocab`` with tuple keys (word, ...) and (a, connectors, b)."""
    words: Counter = Counter()
    candidates: Counter = Counter()
    min_reduce, total = 1, 0
    for sentence in sentences:
        start, between = None, []
        for word in sentence:
            total += 1
            if word in CONNECTORS:
                if start is not None:
                    between.append(word)
                continue
            words[word] += 1
            if start is not None:
                candidates[(start, tuple(between), word)] += 1
            start, between = word, []
        if len(words) + len(candidates) > max_vocab_size:
            for table in (words, candidates):
                for key in [k for k, v in table.items() if v < min_reduce]:
                    del table[key]
            min_reduce += 1
    return words, candidates, total


@settings(max_examples=60, deadline=None)
@given(
    sentences=st.lists(st.lists(st.sampled_from(WORDS), max_size=12), min_size=1, max_size=12),
    max_vocab_size=st.sampled_from([3, 8, 40_000_000]),
)
def test_counts_match_a_pure_python_reference(sentences: list[list[str]], max_vocab_size: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "c.txt"
        corpus.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
        if not any(sentences):
            with pytest.raises(embedkit.CorpusError):
                detect_phrases(corpus)
            return
        stream, vocab = ph._encode(corpus, Path(scratch) / "ids", ReadStats())
        counted = ph._count(stream, vocab, ph._connector_slots(vocab, CONNECTORS), max_vocab_size)
        words, candidates, total = reference_counts(sentences, max_vocab_size)
        ours_words = {vocab.words[i]: int(n) for i, n in enumerate(counted.unigrams) if n}
        assert ours_words == dict(words)
        bits_v = counted.bits_v
        ours_candidates = {}
        for key, count in zip(counted.keys.tolist(), counted.counts.tolist()):
            node, middle = (key >> bits_v) & ((1 << (63 - 2 * bits_v)) - 1), []
            while node:
                middle.append(vocab.words[int(counted.nodes[node, 1])])
                node = int(counted.nodes[node, 0])
            parts = (
                vocab.words[key >> (63 - bits_v)],
                tuple(reversed(middle)),
                vocab.words[key & ((1 << bits_v) - 1)],
            )
            ours_candidates[parts] = count
        assert ours_candidates == dict(candidates)
        assert counted.state[4] == total
        # joining (compiled) agrees with the pure-Python reference join of the same phrases
        out = Path(scratch) / "o.txt"
        model = detect_phrases(corpus, min_count=1, threshold=0.5, connector_words=CONNECTORS,
                               max_vocab_size=max_vocab_size, passes=2, out=out)  # fmt: skip
        assert read_lines(out) == [model[s] for s in sentences]


# --- command line and training ------------------------------------------------------------


def test_phrases_command_end_to_end(lee_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "joined.txt"
    result = run_cli("phrases", lee_path, "-o", out, "--save-phrases", tmp_path / "p.tsv")
    assert result.returncode == 0, result.stderr
    assert "found" in result.stdout and "joined" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert "New_South_Wales" in text and "United_States" in text
    assert len(text.splitlines()) == len(lee_path.read_text(encoding="utf-8").splitlines())
    assert PhraseModel.load(tmp_path / "p.tsv").phrases["New_South_Wales"] > 100
    piped = run_cli("phrases", "-", "-o", "-", "--passes", "1", stdin=lee_path.read_text(encoding="utf-8"))
    assert piped.returncode == 0, piped.stderr
    detect_phrases(lee_path, passes=1, out=tmp_path / "one.txt")
    assert piped.stdout == (tmp_path / "one.txt").read_text(encoding="utf-8")


BAD_FLAGS = [
    (["--scoring", "pmi"], "unknown scoring 'pmi'"),
    (["--threshold", "-1"], "threshold must be positive"),
    (["--scoring", "npmi", "--threshold", "1.5"], "between 0 and 1"),
    (["--passes", "0"], "passes must be between 1 and 10"),
    (["--min-count", "0"], "min_count must be at least 1"),
    (["--max-vocab-size", "0"], "max_vocab_size"),
    (["--threshold", "abc"], "Invalid value"),
]


def run_in_process(args: list, monkeypatch, capsys) -> tuple[int, str, str]:
    """Run the console entry point in this process (as ``embedkit ARGS``): (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["embedkit", *map(str, args)])
    with pytest.raises(SystemExit) as stop:
        cli.run()
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


def test_bad_flags_exit_2_and_bad_data_exit_1_with_one_line(
    lee_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    (tmp_path / "blank.txt").write_text("\n \n")
    out = str(tmp_path / "o.txt")
    bad_data = [
        (["phrases", tmp_path / "missing.txt", "-o", out], "does not exist"),
        (["phrases", tmp_path / "blank.txt", "-o", out], "is empty"),
        (["phrases", lee_path, "-o", tmp_path / "no" / "o.txt"], "does not exist"),
    ]
    commands = [["phrases", lee_path, "-o", out, *args] for args, _ in BAD_FLAGS] + [c for c, _ in bad_data]
    commands.append(["train", lee_path, "-o", tmp_path / "m.bin", "--phrases", "-1"])
    results = [run_in_process(command, monkeypatch, capsys)[::2] for command in commands]
    expected = [(2, f) for _, f in BAD_FLAGS] + [(1, f) for _, f in bad_data] + [(2, "--phrases")]
    for command, (code, stderr), (want_code, fragment) in zip(commands, results, expected):
        assert code == want_code, (command, stderr)
        assert stderr.startswith("error:") and stderr.count("\n") == 1, (command, stderr)
        assert fragment in stderr, (command, stderr)
    assert not (tmp_path / "o.txt").exists()


def test_train_with_phrases(lee_path: Path) -> None:
    vectors = embedkit.train(lee_path, phrases=1, epochs=1, workers=1, progress=False)
    assert "United_States" in vectors and "New_South" in vectors
    assert vectors.meta["training"]["phrases"] == 1 and vectors.meta["training"]["phrases_found"] > 50
    assert vectors.meta["training"]["corpus"] == str(lee_path)
    with pytest.raises(embedkit.UsageError):
        embedkit.train(lee_path, phrases=-1, progress=False)


def test_train_command_with_phrases(lee_path: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    args = ["train", lee_path, "-o", tmp_path / "m.bin", "--phrases", "2", "--epochs", "1", "-q"]
    code, _, stderr = run_in_process(args, monkeypatch, capsys)
    assert code == 0, stderr
    assert "phrases (2 passes) before training" in stderr
    assert "New_South_Wales" in embedkit.load(tmp_path / "m.bin")
