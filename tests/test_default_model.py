"""The embedded default model: trained by embedkit from the shipped corpus, on first use."""

from __future__ import annotations

import pytest

import embedkit
from embedkit.default import DEFAULT_SETTINGS, default_corpus_path, default_model_path, load_default

from .conftest import run_cli


@pytest.fixture(scope="module")
def default_model() -> embedkit.Vectors:
    return load_default(progress=False)  # trains once (a few minutes) and caches


def test_shipped_corpus_is_real_text() -> None:
    path = default_corpus_path()
    assert path.stat().st_size > 5_000_000
    from embedkit.text.reader import iter_token_pieces

    first = next(iter_token_pieces(path))[0]
    assert len(first) > 3 and all(token.islower() for token in first)


def test_default_model_is_cached_and_reloaded(default_model: embedkit.Vectors) -> None:
    path = default_model_path()
    assert path.is_dir()
    again = load_default(progress=False)
    assert again.words == default_model.words
    assert again.meta["training"]["window"] == DEFAULT_SETTINGS["window"]


def test_spain_madrid_france_answers_paris_from_the_cli(default_model: embedkit.Vectors) -> None:
    result = run_cli("analogy", "spain", "madrid", "france")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split()
    assert first[:2] == ["1", "paris"], result.stdout


def test_default_model_answers_other_capitals_too(default_model: embedkit.Vectors) -> None:
    result = embedkit.evaluate_analogies(default_model, restrict=30_000)
    # gensim, same corpus and settings: 15-17% capital-common, 11-12% capital-world
    assert result.sections["capital-common-countries"][1] > 100
    assert result.section_accuracy("capital-common-countries") > 0.15
    assert result.section_accuracy("capital-world") > 0.08
