"""Command-line interface: a thin typer layer over the library API.

Every failure a user can cause ends in one line on stderr and a non-zero exit code
(1 for bad data, 2 for bad usage), never a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import EmbedkitError, FormatError, UnknownWordError, UsageError
from .vectors import Vectors

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Train word vectors, ask them analogies and neighbours, share them with other tools.",
)
_state = {"debug": False}

ModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Model file or folder (default: the embedded default model)."),
]
TopK = Annotated[int, typer.Option("-k", min=1, max=100_000, help="Number of answers.")]


class _StderrNotes(logging.Handler):
    """embedkit's log notes (such as an index being built, which takes minutes at 1M words) on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"embedkit: {record.getMessage()}", err=True)


_notes = _StderrNotes(logging.INFO)


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    """embedkit: word embeddings and semantic analogies."""
    _state["debug"] = debug
    logger = logging.getLogger("embedkit")
    if _notes not in logger.handlers:
        logger.addHandler(_notes)
    logger.setLevel(logging.INFO)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn embedkit's errors into one line on stderr and an exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except EmbedkitError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was written", err=True)
        raise typer.Exit(130) from None
    except (OSError, MemoryError) as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _load_model(model: Path | None) -> Vectors:
    from .default import load_default
    from .formats import load

    return load_default(progress=sys.stderr.isatty()) if model is None else load(model)


def _resolve(vectors: Vectors, word: str) -> str:
    """The word itself, or its lower-case form when only that is in the model."""
    if word in vectors:
        return word
    if word.lower() in vectors:
        return word.lower()
    raise UnknownWordError(word)


def _print_ranked(results: list[tuple[str, float]]) -> None:
    width = max((len(word) for word, _ in results), default=0)
    for rank, (word, score) in enumerate(results, start=1):
        typer.echo(f"{rank:>3}  {word:<{width}}  {score:.4f}")


def save_vectors(vectors: Vectors, out: Path) -> str:
    """Save by the output name: ``.bin`` word2vec binary, ``.txt``/``.vec`` text, else native."""
    suffix = out.suffix.lower()
    if suffix == ".bin":
        vectors.save_word2vec(out, binary=True)
        return "word2vec binary"
    if suffix in (".txt", ".vec"):
        vectors.save_word2vec(out, binary=False)
        return "word2vec text"
    vectors.save(out)
    return "embedkit native"


@app.command()
def train(
    corpus: Annotated[
        Path, typer.Argument(help="Text file (one sentence or document per line), a folder of them, or -.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output: .bin, .txt/.vec, or a native model folder.")
    ],
    dim: Annotated[int, typer.Option(min=1, max=10_000, help="Vector dimension.")] = 100,
    window: Annotated[int, typer.Option(min=1, max=1_000, help="Maximum context window.")] = 5,
    negative: Annotated[int, typer.Option(min=1, max=1_000, help="Noise words per pair.")] = 5,
    sample: Annotated[float, typer.Option(min=0.0, max=0.999999, help="Subsampling threshold.")] = 1e-3,
    min_count: Annotated[int, typer.Option(min=1, help="Ignore words rarer than this.")] = 5,
    alpha: Annotated[float, typer.Option(min=1e-9, max=1.0, help="Initial learning rate.")] = 0.025,
    min_alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Final learning rate.")] = 0.0001,
    epochs: Annotated[int, typer.Option(min=1, max=10_000, help="Passes over the corpus.")] = 5,
    workers: Annotated[
        Optional[int], typer.Option(min=1, max=256, help="Threads (default: all cores).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed.")] = 1,
    cbow: Annotated[bool, typer.Option("--cbow", help="CBOW instead of skip-gram.")] = False,
    phrases: Annotated[
        int, typer.Option("--phrases", min=0, max=10, help="First join phrases (new_york) in N passes.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    cluster: Annotated[
        Optional[str],
        typer.Option(
            "--cluster",
            help="Train on Dask: a scheduler address (tcp://host:8786) or local:N (N worker processes).",
        ),
    ] = None,
    sync_rounds: Annotated[
        Optional[int],
        typer.Option(min=1, max=10_000, help="With --cluster: merges of the workers' weights per epoch (4)."),
    ] = None,
    combine: Annotated[
        Optional[str],
        typer.Option(help="With --cluster: merge workers' changes by sum (default) or average (Spark's)."),
    ] = None,
    connect_timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="With --cluster: seconds to wait for the scheduler.")
    ] = 10.0,
) -> None:
    """Train word vectors (skip-gram, or CBOW) on CORPUS and write them to OUT."""
    from .trainer import train as train_vectors

    with _user_errors(), warnings.catch_warnings(record=True) as caught, contextlib.ExitStack() as stack:
        warnings.simplefilter("always")
        if not out.parent.is_dir():
            raise EmbedkitError(f"cannot write {str(out)!r}: folder {str(out.parent)!r} does not exist")
        if (sync_rounds is not None or combine is not None) and cluster is None:
            raise UsageError("--sync-rounds and --combine need --cluster")
        if combine is not None and combine not in ("sum", "average"):
            raise UsageError(f"--combine must be sum or average, got {combine!r}")
        client = None
        if cluster is not None:
            from .distributed import connect

            client = stack.enter_context(connect(cluster, timeout=connect_timeout))
        vectors = train_vectors(
            corpus,
            dim=dim,
            window=window,
            negative=negative,
            sample=sample,
            min_count=min_count,
            alpha=alpha,
            min_alpha=min_alpha,
            epochs=epochs,
            workers=workers,
            seed=seed,
            cbow=cbow,
            phrases=phrases,
            progress=not quiet,
            cluster=client,
            sync_rounds=sync_rounds,
            combine=combine,
        )
        for warning in caught:
            typer.echo(f"warning: {warning.message}", err=True)
        kind = save_vectors(vectors, out)
        info = vectors.meta["training"]
        if "cluster" in info:
            spread = info["cluster"]
            typer.echo(
                f"trained on dask: {spread['shards']} shards, {spread['sync_rounds']} sync rounds per epoch "
                f"({spread['combine']})",
                err=quiet,
            )
        if phrases:
            found = info["phrases_found"]
            typer.echo(f"joined {found:,} phrases ({phrases} passes) before training", err=quiet)
        typer.echo(
            f"trained {len(vectors):,} words x {vectors.dim} dims on {info['raw_tokens']:,} tokens "
            f"x {epochs} epochs in {info['train_seconds']:.1f} s ({info['words_per_second']:,.0f} words/s, "
            f"final loss {info['epoch_loss'][-1]:.4f}) -> {out} ({kind})",
            err=quiet,
        )


@app.command()
def phrases(
    corpus: Annotated[Path, typer.Argument(help="Text file (a sentence per line), a folder of them, or -.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Joined corpus to write (- for stdout).")],
    min_count: Annotated[int, typer.Option(help="Ignore candidates rarer than this.")] = 5,
    threshold: Annotated[
        Optional[float], typer.Option(help="Score a phrase must exceed (default 100; npmi: 0.5).")
    ] = None,
    scoring: Annotated[str, typer.Option(help="default (word2phrase) or npmi.")] = "default",
    passes: Annotated[int, typer.Option(help="Passes: 2 can find new_york_city.")] = 2,
    connectors: Annotated[
        Optional[str],
        typer.Option(help="Comma-separated words allowed inside a phrase (default: English; '' for none)."),
    ] = None,
    max_vocab_size: Annotated[
        int, typer.Option(help="Word plus candidate types held while counting (rarest pruned past it).")
    ] = 40_000_000,
    save_phrases: Annotated[
        Optional[Path], typer.Option(help="Also write the phrases found (pass, score, count, words).")
    ] = None,
) -> None:
    """Join frequent collocations of CORPUS (new_york, bank_of_america) into tokens; write to OUT."""
    from .phrases import ENGLISH_CONNECTOR_WORDS, check_settings, detect_phrases

    with _user_errors():
        check_settings(min_count=min_count, threshold=threshold, scoring=scoring, passes=passes,
                       max_vocab_size=max_vocab_size)  # fmt: skip
        for target in (out, save_phrases):
            if target is not None and str(target) != "-" and not target.parent.is_dir():
                folder = str(target.parent)
                raise EmbedkitError(f"cannot write {str(target)!r}: folder {folder!r} does not exist")
        words = ENGLISH_CONNECTOR_WORDS if connectors is None else [w for w in connectors.split(",") if w]
        model = detect_phrases(corpus, min_count=min_count, threshold=threshold, scoring=scoring,
                               connector_words=words, max_vocab_size=max_vocab_size, passes=passes,
                               out=out)  # fmt: skip
        if save_phrases is not None:
            model.save(save_phrases)
        joined = sum(report.joined for report in model.reports)
        top = [p.token for p in sorted(model.passes[0], key=lambda p: -p.count)[:5]]
        examples = f" ({', '.join(top)}{', ...' if len(model) > 5 else ''})" if top else ""
        typer.echo(
            f"found {len(model):,} phrases in {len(model.reports)} pass(es){examples}; "
            f"joined {joined:,} occurrences -> {out}",
            err=str(out) == "-",
        )


IndexName = Annotated[
    str,
    typer.Option("--index", help="Search index: exact, hnsw, ivf, or auto (exact below 200k words)."),
]
HnswM = Annotated[Optional[int], typer.Option("--hnsw-m", min=2, max=256, help="HNSW links per word (32).")]
EfConstruction = Annotated[
    Optional[int], typer.Option(min=1, max=100_000, help="HNSW build-time search depth (400).")
]
EfSearch = Annotated[Optional[int], typer.Option(min=1, max=100_000, help="HNSW search depth (96).")]
Nlist = Annotated[Optional[int], typer.Option(min=1, max=1 << 20, help="IVF cells (about 4 sqrt(words)).")]
Nprobe = Annotated[Optional[int], typer.Option(min=1, max=1 << 20, help="IVF cells scanned per query (64).")]
Restrict = Annotated[
    Optional[int], typer.Option("--restrict", min=1, help="Search only the N most frequent words.")
]


def _with_index(
    vectors: Vectors,
    index: str,
    hnsw_m: int | None,
    ef_construction: int | None,
    ef_search: int | None,
    nlist: int | None,
    nprobe: int | None,
) -> Vectors:
    return vectors.use_index(
        index, M=hnsw_m, ef_construction=ef_construction, ef_search=ef_search, nlist=nlist, nprobe=nprobe
    )


def _check_index_name(index: str) -> None:
    """Reject a bad ``--index`` before any model is loaded."""
    from .index import IndexConfig

    IndexConfig(kind=index)


@app.command()
def analogy(
    a: Annotated[Optional[str], typer.Argument(help="First word, e.g. spain.")] = None,
    b: Annotated[Optional[str], typer.Argument(help="Its counterpart, e.g. madrid.")] = None,
    c: Annotated[Optional[str], typer.Argument(help="Word to complete, e.g. france.")] = None,
    model: ModelOption = None,
    k: TopK = 10,
    method: Annotated[
        str, typer.Option(help="add: 3CosAdd (cosine with B - A + C); mul: 3CosMul (Levy and Goldberg).")
    ] = "add",
    batch: Annotated[
        Optional[Path],
        typer.Option(help="File of queries 'A B C' (one a line; - for stdin): one answer line each."),
    ] = None,
    index: IndexName = "auto",
    hnsw_m: HnswM = None,
    ef_construction: EfConstruction = None,
    ef_search: EfSearch = None,
    nlist: Nlist = None,
    nprobe: Nprobe = None,
    restrict: Restrict = None,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", help="Also draw A, B, C and the best answer, with arrows, to this PNG."),
    ] = None,
) -> None:
    """Words that are to C as B is to A (B - A + C), best first, with cosines; or a --batch of them."""
    with _user_errors():
        _check_index_name(index)
        if plot is not None:
            if batch is not None:
                raise UsageError("--plot draws one query A B C: it cannot be combined with --batch")
            _check_picture(plot, "pca")
        if method not in ("add", "mul"):
            raise UsageError(f"unknown --method {method!r}: choose add (3CosAdd) or mul (3CosMul)")
        given = [w for w in (a, b, c) if w is not None]
        if batch is not None and given:
            raise UsageError("give either the words A B C or --batch FILE, not both")
        if batch is None and len(given) < 3:
            missing = "ABC"[len(given)]
            raise UsageError(f"Missing argument '{missing}' (give A B C, or --batch FILE)")
        if batch is not None and str(batch) != "-" and not batch.is_file():
            raise FormatError(f"batch file {str(batch)!r} does not exist")
        vectors = _with_index(_load_model(model), index, hnsw_m, ef_construction, ef_search, nlist, nprobe)
        if batch is None:
            words = [_resolve(vectors, w) for w in given]
            results = vectors.analogy(*words, k=k, method=method, restrict_vocab=restrict)
            _print_ranked(results)
            if plot is not None and results:
                from .plot import plot_analogy

                plot_analogy(vectors, *words, results[0][0], out=plot, name=_model_label(model))
                typer.echo(f"wrote {plot}", err=True)
            return
        _answer_batch(vectors, batch, k, method, restrict)


def _batch_lines(batch: Path) -> Iterator[str]:
    """Query lines of a batch file or stdin (blank lines and # or : comment lines skipped)."""
    if str(batch) == "-":
        stream = sys.stdin.buffer
        for raw in stream:
            yield raw.decode("utf-8", errors="replace")
        return
    try:
        with open(batch, "rb") as handle:
            for raw in handle:
                yield raw.decode("utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read batch file {str(batch)!r}: {exc.strerror or exc}") from exc


BATCH_CHUNK = 8192


def _answer_batch(vectors: Vectors, batch: Path, k: int, method: str, restrict: int | None) -> None:
    """One output line per query: the query, a tab, then answers 'word score' separated by tabs."""
    counts = {"queries": 0, "unknown": 0, "malformed": 0}

    def flush(pending: list[tuple[str, list[str] | None, str]]) -> None:
        triples = [words for _, words, _ in pending if words is not None]
        answers = iter(
            vectors.analogy_batch(triples, k, method=method, restrict_vocab=restrict, on_unknown="none")
        )
        out = []
        for query, words, problem in pending:
            if words is None:
                out.append(f"{query}\terror: {problem}")
                continue
            answer = next(answers)
            if answer is None:
                unknown = next(w for w in words if w not in vectors)
                counts["unknown"] += 1
                out.append(f"{query}\terror: {UnknownWordError(unknown)}")
            else:
                out.append("\t".join([query, *(f"{w} {s:.4f}" for w, s in answer)]))
        typer.echo("\n".join(out))

    pending: list[tuple[str, list[str] | None, str]] = []
    for line in _batch_lines(batch):
        parts = line.split()
        if not parts or parts[0].startswith(("#", ":")):
            continue
        counts["queries"] += 1
        query = " ".join(parts[:3])
        if len(parts) not in (3, 4):
            counts["malformed"] += 1
            pending.append((" ".join(parts), None, f"expected 3 words (A B C), got {len(parts)}"))
        else:
            resolved = [w if w in vectors or w.lower() not in vectors else w.lower() for w in parts[:3]]
            pending.append((query, resolved, ""))
        if len(pending) >= BATCH_CHUNK:
            flush(pending)
            pending = []
    if pending:
        flush(pending)
    failed = counts["unknown"] + counts["malformed"]
    summary = f"answered {counts['queries'] - failed:,} of {counts['queries']:,} queries"
    if failed:
        summary += f" ({counts['unknown']:,} with unknown words, {counts['malformed']:,} malformed)"
    typer.echo(summary, err=True)


@app.command()
def similar(
    word: Annotated[str, typer.Argument(help="Query word.")],
    model: ModelOption = None,
    k: TopK = 10,
    index: IndexName = "auto",
    hnsw_m: HnswM = None,
    ef_construction: EfConstruction = None,
    ef_search: EfSearch = None,
    nlist: Nlist = None,
    nprobe: Nprobe = None,
    restrict: Restrict = None,
) -> None:
    """Nearest neighbours of WORD by cosine similarity."""
    with _user_errors():
        _check_index_name(index)
        vectors = _with_index(_load_model(model), index, hnsw_m, ef_construction, ef_search, nlist, nprobe)
        _print_ranked(vectors.most_similar(_resolve(vectors, word), k=k, restrict_vocab=restrict))


@app.command("doesnt-match")
def doesnt_match(
    words: Annotated[list[str], typer.Argument(help="Two or more words, e.g. breakfast lunch dinner car.")],
    model: ModelOption = None,
) -> None:
    """The word that goes least with the others (furthest from their mean)."""
    with _user_errors():
        vectors = _load_model(model)
        typer.echo(vectors.doesnt_match([_resolve(vectors, w) for w in words]))


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Model to read (any format embedkit reads).")],
    out: Annotated[Path, typer.Argument(help="Output: .bin, .txt/.vec, or a native model folder.")],
    limit: Annotated[Optional[int], typer.Option(min=1, help="Keep only the first N words.")] = None,
) -> None:
    """Convert between native, word2vec binary, word2vec text and GloVe formats."""
    from .formats import load

    with _user_errors():
        vectors = load(source, limit=limit)
        kind = save_vectors(vectors, out)
        typer.echo(f"wrote {len(vectors):,} words x {vectors.dim} dims -> {out} ({kind})")


@app.command()
def info(model: Annotated[Path, typer.Argument(help="Model file or folder.")]) -> None:
    """Words, dimension, format and training settings of a model."""
    from .formats import describe, load

    with _user_errors():
        vectors = load(model, mmap=True)
        typer.echo(f"format: {describe(model)}")
        typer.echo(f"words: {len(vectors):,}")
        typer.echo(f"dimension: {vectors.dim}")
        typer.echo(f"most frequent: {' '.join(vectors.words[:10])}")
        training = vectors.meta.get("training")
        if training:
            for key in ("algorithm", "corpus", "raw_tokens", "dim", "window", "negative", "sample",
                        "min_count", "alpha", "min_alpha", "epochs", "workers", "seed",
                        "epoch_loss", "train_seconds", "words_per_second"):  # fmt: skip
                if key in training:
                    typer.echo(f"  {key}: {training[key]}")


@app.command()
def evaluate(
    model: Annotated[Optional[Path], typer.Argument(help="Model (default: the embedded default).")] = None,
    analogies: Annotated[Optional[Path], typer.Option(help="Analogy file (default: gensim's).")] = None,
    similarity: Annotated[
        Optional[list[Path]],
        typer.Option(help="Word-pair file(s) (default: gensim's WordSim-353 and SimLex-999)."),
    ] = None,
    restrict: Annotated[int, typer.Option(min=1, help="Use only the N most frequent words.")] = 300_000,
) -> None:
    """Analogy accuracy (overall, semantic, syntactic, per section) and word-pair Spearman."""
    from .evaluation import evaluate_analogies, evaluate_similarity, gensim_test_file

    with _user_errors():
        vectors = _load_model(model)
        result = evaluate_analogies(vectors, analogies, restrict=restrict)
        typer.echo(
            f"analogies: {result.accuracy:.1%} of {result.total:,} "
            f"(semantic {result.semantic:.1%}, syntactic {result.syntactic:.1%}; "
            f"{result.skipped:,} skipped for unknown words)"
        )
        for name, (correct, total) in result.sections.items():
            share = f"{correct / total:.1%}" if total else "-"
            typer.echo(f"  {name:<28} {share:>6}  ({correct}/{total})")
        files = similarity or [gensim_test_file("wordsim353.tsv"), gensim_test_file("simlex999.txt")]
        for path in files:
            sim = evaluate_similarity(vectors, path, restrict=restrict)
            typer.echo(
                f"{Path(path).name}: Spearman {sim.spearman:.3f}, Pearson {sim.pearson:.3f} "
                f"({sim.pairs} pairs, {sim.oov_ratio:.1%} out of vocabulary)"
            )


def _one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kw: object) -> str:
    return f"warning: {message}\n"


def _model_label(model: Path | None) -> str:
    """How a picture's title names the model."""
    return "the default model" if model is None else model.name


def _check_picture(out: Path, method: str) -> None:
    """Reject a bad picture name or a missing plotting library before any model is loaded."""
    from .plot import check_method, check_output, require_matplotlib, require_sklearn

    check_output(out)
    require_matplotlib()
    if check_method(method) == "tsne":
        require_sklearn()
    if not out.parent.is_dir():
        raise EmbedkitError(f"cannot write {str(out)!r}: folder {str(out.parent)!r} does not exist")


@app.command("plot")
def plot_command(
    words: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="WORD...", help="Words to draw, e.g. king queen man woman."),
    ] = None,
    model: ModelOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Picture to write: .png (or .svg, .pdf).")] = Path(
        "plot.png"
    ),
    method: Annotated[str, typer.Option(help="Projection: pca (numpy) or tsne (scikit-learn).")] = "pca",
    pairs: Annotated[
        Optional[str],
        typer.Option(help="Arrows from each first word to its second: spain:madrid,france:paris,..."),
    ] = None,
    neighbours: Annotated[
        int,
        typer.Option(
            "--neighbours", "--neighbors", min=0, max=100, help="Add each word's N nearest neighbours."
        ),
    ] = 0,
    size: Annotated[str, typer.Option(help="Picture size in pixels, WIDTHxHEIGHT.")] = "1200x900",
    dpi: Annotated[int, typer.Option(min=30, max=1200, help="Dots per inch (larger: larger text).")] = 150,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed of t-SNE.")] = 0,
) -> None:
    """Draw WORDS (and --pairs, as arrows) projected to 2-D, as a PNG with labelled points."""
    from .plot import parse_pairs, parse_size, plot_words

    with _user_errors():
        pair_list = parse_pairs(pairs) if pairs is not None else []
        if not words and not pair_list:
            raise UsageError("nothing to plot: give one or more WORDS, or --pairs FIRST:SECOND,...")
        pixels = parse_size(size)
        _check_picture(out, method)
        vectors = _load_model(model)

        def resolve(word: str) -> str:  # unknown words are kept, to be listed together
            return word if word in vectors or word.lower() not in vectors else word.lower()

        plot_words(
            vectors,
            [resolve(w) for w in words or []],
            pairs=[(resolve(x), resolve(y)) for x, y in pair_list],
            neighbours=neighbours,
            method=method,
            out=out,
            name=_model_label(model),
            size=pixels,
            dpi=dpi,
            seed=seed,
        )
        typer.echo(f"wrote {out} ({pixels[0]}x{pixels[1]} pixels)")


def run() -> None:
    """Console-script entry point: usage errors become one line and exit code 2; warnings
    (e.g. duplicate words in a model file) one line each."""
    formatwarning = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        _run()
    finally:
        warnings.formatwarning = formatwarning


def _run() -> None:
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # click's (or typer's vendored click's) usage errors: duck-typed, so that any
        # typer version works. Anything else is a bug and keeps its traceback.
        if not hasattr(exc, "format_message"):
            if type(exc).__name__ == "Abort":
                typer.echo("interrupted", err=True)
                sys.exit(130)
            raise
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    run()
