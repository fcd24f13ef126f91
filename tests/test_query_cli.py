"""The query commands: --batch files and stdin, --method, --index and its parameters, doesnt-match."""

from __future__ import annotations

from pathlib import Path

import pytest

import embedkit

from .conftest import run_cli


@pytest.fixture(scope="module")
def model(lee_model: embedkit.Vectors, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("query-cli") / "lee"
    lee_model.save(out)
    return out


def answers(line: str) -> list[str]:
    """The answer words of one batch output line (query, tab, 'word score' fields)."""
    return [field.split(" ")[0] for field in line.split("\t")[1:]]


def test_batch_file_one_line_per_query_and_unknown_words_reported(
    model: Path, lee_model: embedkit.Vectors, tmp_path: Path
) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text(
        ": a section header, skipped\n"
        "man men child\n"
        "\n"
        "# a comment\n"
        "fire zzyzx police\n"
        "only two\n"
        "Australia Sydney Afghanistan Kabul\n"  # questions-words.txt lines: the 4th word is ignored
    )
    result = run_cli("analogy", "--batch", queries, "--model", model, "-k", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("man men child\t")
    assert answers(lines[0]) == [w for w, _ in lee_model.analogy("man", "men", "child", k=3)]
    assert lines[1] == "fire zzyzx police\terror: word 'zzyzx' is not in the vocabulary"
    assert lines[2] == "only two\terror: expected 3 words (A B C), got 2"
    assert answers(lines[3]) == [w for w, _ in lee_model.analogy("Australia", "Sydney", "Afghanistan", k=3)]
    assert "answered 2 of 4 queries (1 with unknown words, 1 malformed)" in result.stderr


def test_batch_from_stdin_with_3cosmul(model: Path, lee_model: embedkit.Vectors) -> None:
    triples = [("man", "men", "child"), ("said", "told", "government"), ("fire", "police", "Sydney")]
    stdin = "".join(" ".join(t) + "\n" for t in triples)
    result = run_cli("analogy", "--batch", "-", "--method", "mul", "--model", model, stdin=stdin)
    assert result.returncode == 0, result.stderr
    expected = lee_model.analogy_batch(triples, method="mul")
    assert [answers(line) for line in result.stdout.splitlines()] == [[w for w, _ in e] for e in expected]


def test_hnsw_index_from_the_command_line_is_saved_in_the_model(model: Path, lee_model) -> None:
    result = run_cli(
        "similar", "fire", "--model", model, "--index", "hnsw", "--hnsw-m", "16", "--ef-search", "200",
        "--restrict", "1000000", "-k", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()] == [
        w for w, _ in lee_model.most_similar("fire", k=5)
    ]
    assert len(list(model.glob("index-hnsw-M16-efc400-*.faiss"))) == 1
    assert "building the HNSW index over" in result.stderr and "saved for later runs" in result.stderr
    again = run_cli("similar", "fire", "--model", model, "--index", "hnsw", "--hnsw-m", "16", "-k", "5")
    assert again.returncode == 0, again.stderr
    assert "building" not in again.stderr  # the saved index is read, not rebuilt


def test_doesnt_match_and_restricted_analogy(model: Path, lee_model: embedkit.Vectors) -> None:
    words = ["man", "men", "child", "government"]
    result = run_cli("doesnt-match", *words, "--model", model)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == lee_model.doesnt_match(words)
    result = run_cli("analogy", "man", "men", "child", "--restrict", "300", "--model", model, "-k", "4")
    assert result.returncode == 0, result.stderr
    expected = lee_model.analogy("man", "men", "child", k=4, restrict_vocab=300)
    assert [line.split()[1] for line in result.stdout.splitlines()] == [w for w, _ in expected]
