"""The benchmark corpus builder's pure functions (no network, no downloads)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from corpora.build_benchmark_corpus import (
    BENCHMARK_MIX,
    corpus_path,
    decode_text,
    dictd_entries,
    parse_mix,
    strip_brown_tags,
    strip_gcide_markup,
    write_text,
)
from corpora.build_default_corpus import tokenize

GCIDE_ENTRY = """Affect \\Af*fect"\\, v. t. [imp. & p. p. {Affected}; p. pr. & vb.
   n. {Affecting}.] [L. affectus, p. p. of afficere; ad + facere
   to make: cf. F. affectere. See {Fact}.]
   1. To act upon; to produce an effect or change upon.
      [1913 Webster]

            As might affect the earth with cold heat. --Milton.
      [1913 Webster]

   2. To love; to regard with affection. [Obs.]
      [1913 Webster]

   {Af*fect"ed*ly}, adv. -- {Af*fect"ed*ness}, n.; pl. {Affectednesses}.
      (Chem.) Syn: See caf['e] and {[AE]ther}.
"""


def test_gcide_markup_is_stripped() -> None:
    words = tokenize(strip_gcide_markup(GCIDE_ENTRY))
    expected = (
        "affect to act upon to produce an effect or change upon as might affect the earth with cold heat "
        "to love to regard with affection affectedly affectedness affectednesses see cafe and aether"
    )
    assert " ".join(words) == expected


def test_gcide_keeps_a_dash_used_as_a_dash() -> None:
    text = 'Dicyanide \\Di*cy"a*nide\\, n.\n   A compound; -- called also {bicyanide}.\n'
    assert " ".join(tokenize(strip_gcide_markup(text))) == "dicyanide a compound called also bicyanide"


def test_dictd_entries_follow_the_index(tmp_path: Path) -> None:
    body = b"00-database-short\n   Test\nCat \\Cat\\, n.\n   A pet.\nDog \\Dog\\, n.\n   Another.\n"
    (tmp_path / "t.dict.dz").write_bytes(gzip.compress(body))
    # dictd index: headword, base-64 offset, base-64 length
    (tmp_path / "t.index").write_text("00-database-short\tA\ta\nCat\ta\tY\ncat\ta\tY\nDog\ty\ta\n")
    entries = list(dictd_entries(tmp_path / "t.dict.dz", tmp_path / "t.index"))
    assert entries == ["Cat \\Cat\\, n.\n   A pet.\n", "Dog \\Dog\\, n.\n   Another.\n"]


def test_brown_tags_are_stripped() -> None:
    line = "\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` 1/2/cd Atlanta's/np$ ./."
    assert strip_brown_tags(line) == "The Fulton County said `` 1/2 Atlanta's ."
    assert tokenize(strip_brown_tags(line)) == ["the", "fulton", "county", "said", "atlanta's"]


def test_decode_text_prefers_utf8() -> None:
    assert decode_text("£5m".encode()) == "£5m"
    assert decode_text(b"\xa315.8m") == "£15.8m"


def test_parse_mix() -> None:
    assert parse_mix("gcide:2, brown") == {"gcide": 2, "brown": 1}
    with pytest.raises(ValueError, match="unknown source"):
        parse_mix("no-such-source:1")
    assert parse_mix("linux-doc:1,shakespeare:1") == {"linux-doc": 1, "shakespeare": 1}
    assert not {"linux-doc", "shakespeare"} & set(BENCHMARK_MIX)  # held out: never in the tuned-on corpus
    with pytest.raises(ValueError, match="whole number"):
        parse_mix("gcide:x")


def test_each_mix_has_its_own_cache_file(tmp_path: Path) -> None:
    default = corpus_path(tmp_path, BENCHMARK_MIX)
    other = corpus_path(tmp_path, {"brown": 1})
    assert default.parent == other.parent == tmp_path
    assert default != other
    assert corpus_path(tmp_path, parse_mix("brown:1")) == other


def test_write_text_is_atomic_and_plain(tmp_path: Path) -> None:
    out = tmp_path / "c.txt"
    write_text(["a b", "c"], out)
    assert out.read_bytes() == b"a b\nc\n"
    assert list(tmp_path.iterdir()) == [out]
