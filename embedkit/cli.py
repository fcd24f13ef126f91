"""Command-line interface: a thin typer layer over the library API.

Training options come from the settings declarations (:mod:`embedkit.training.settings`,
and the Dask backend's), queries go through :class:`~embedkit.session.QuerySession`, so
the command line holds no logic another front end would need. Every failure a user can
cause ends in one line on stderr and a non-zero exit code (1 for bad data, 2 for bad
usage), never a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import sys
import typing
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import EmbedkitError, FormatError, UsageError
from .io import describe, output_format
from .plot import check_method as check_projection
from .plot import (
    check_output,
    parse_pairs,
    parse_size,
    plot_analogy,
    plot_words,
    require_matplotlib,
    require_sklearn,
)
from .session import BATCH_CHUNK, BatchSummary, QuerySession, check_index, check_method
from .text.phrases import ENGLISH_CONNECTOR_WORDS, detect_phrases
from .text.phrases import check_settings as check_phrase_settings
from .training import TrainingSettings
from .training import train as train_vectors
from .training.callbacks import EvaluateEachEpoch
from .training.cluster import ClusterSettings
from .training.settings import Spec, specs
from .util import writable_parent
from .vectors.evaluation import evaluate_analogies, evaluate_similarity, gensim_test_file
from .vectors.store import load

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


def _print_ranked(results: list[tuple[str, float]]) -> None:
    width = max((len(word) for word, _ in results), default=0)
    for rank, (word, score) in enumerate(results, start=1):
        typer.echo(f"{rank:>3}  {word:<{width}}  {score:.4f}")


def _check_writable(*targets: Path | None) -> None:
    """Fail before any work when an output's folder does not exist (``-`` is standard output)."""
    for target in targets:
        if target is not None and str(target) != "-":
            writable_parent(target)


def _setting_option(name: str, spec: Spec, default: object) -> object:
    """The typer annotation of one declared setting: its flag, type, help and range check."""
    flag = "--" + name.replace("_", "-")
    shown = spec.none_means if default is None else default
    check = spec.check

    def validate(value: object) -> object:
        if value is None:  # not given: the declared default (or, continuing a model, the model's)
            return None
        try:
            check(name, value)
        except UsageError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    kind = Optional[spec.kind]
    return Annotated[kind, typer.Option(flag, help=f"{spec.help} (default: {shown})", callback=validate)]


def _extend(
    func: Callable[..., None],
    added: dict[str, object],
    receive: Callable[[dict[str, object]], dict[str, object]],
) -> Callable[..., None]:
    """``func`` as a typer command with the ``added`` options (name -> typer annotation, default
    ``None``); their values reach it through ``receive``, which turns them into its keywords."""
    hints = typing.get_type_hints(func, include_extras=True)
    taken = set(receive(dict.fromkeys(added)))
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(func).parameters.values()
           if p.name not in taken]  # fmt: skip
    params = own + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in added.items()
    ]

    @functools.wraps(func)
    def command(**kwargs: object) -> None:
        values = {name: kwargs.pop(name) for name in added}
        func(**kwargs, **receive(values))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def with_settings(*settings_classes: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command one option per setting the classes declare; it receives those given as ``settings``."""
    declared = {name: item for c in settings_classes for name, item in specs(c).items()}
    added = {name: _setting_option(name, spec, default) for name, (spec, default) in declared.items()}

    def receive(values: dict[str, object]) -> dict[str, object]:  # only what the user set is passed on
        return {"settings": {name: v for name, v in values.items() if v is not None and v is not False}}

    return lambda func: _extend(func, added, receive)


@app.command()
@with_settings(TrainingSettings, ClusterSettings)
def train(
    corpus: Annotated[
        Path, typer.Argument(help="Text file (one sentence or document per line), a folder of them, or -.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output: .bin, .txt/.vec, or a native model folder.")
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    cluster: Annotated[
        Optional[str],
        typer.Option(
            "--cluster",
            help="Train on Dask: a scheduler address (tcp://host:8786) or local:N (N worker processes).",
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Keep what further training needs (output weights): a full model.")
    ] = False,
    init: Annotated[
        Optional[Path],
        typer.Option("--from", help="Continue training this full model on CORPUS (new words included)."),
    ] = None,
    resume: Annotated[
        Optional[Path], typer.Option("--resume", help="Carry on the interrupted run of this checkpoint.")
    ] = None,
    checkpoint_every: Annotated[
        Optional[str],
        typer.Option(help="Write a full model while training: every N epochs (2) or minutes (10m)."),
    ] = None,
    checkpoint: Annotated[
        Optional[Path], typer.Option(help="Where checkpoints go (default: OUT.checkpoint, or --resume).")
    ] = None,
    eval_every_epoch: Annotated[
        bool, typer.Option("--eval-every-epoch", help="Print analogy accuracy and WS353 after each epoch.")
    ] = False,
    *,
    settings: dict[str, object],
) -> None:
    """Train word vectors (skip-gram, or CBOW) on CORPUS and write them to OUT."""
    with _user_errors(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_writable(out)
        if full and output_format(out) != "embedkit native":
            raise UsageError(
                f"--full keeps output weights only in a native model folder, not {out.suffix} files"
            )
        for source in (init, resume):
            if source is not None and source.resolve() == out.resolve():
                raise UsageError(f"write the new model beside {str(source)!r}, not over it (-o)")
        if checkpoint is None and checkpoint_every is not None and resume is None:
            checkpoint = out.with_name(out.name + ".checkpoint")
        vectors = train_vectors(
            corpus, progress=not quiet, cluster=cluster, init=init, resume=resume, keep_training_state=full,
            checkpoint_every=checkpoint_every, checkpoint_path=checkpoint,
            callbacks=[EvaluateEachEpoch()] if eval_every_epoch else [], **settings,
        )  # fmt: skip
        for warning in caught:
            typer.echo(f"warning: {warning.message}", err=True)
        kind = vectors.save_as(out)
        info = vectors.meta["training"]
        if "cluster" in info:
            spread = info["cluster"]
            typer.echo(
                f"trained on dask: {spread['shards']} shards, {spread['sync_rounds']} sync rounds per epoch "
                f"({spread['combine']})",
                err=quiet,
            )
        if info["phrases"]:
            typer.echo(
                f"joined {info['phrases_found']:,} phrases ({info['phrases']} passes) before training",
                err=quiet,
            )
        typer.echo(
            f"trained {len(vectors):,} words x {vectors.dim} dims on {info['raw_tokens']:,} tokens "
            f"x {info['epochs']} epochs in {info['train_seconds']:.1f} s "
            f"({info['words_per_second']:,.0f} words/s, "
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
    with _user_errors():
        check_phrase_settings(min_count=min_count, threshold=threshold, scoring=scoring, passes=passes,
                              max_vocab_size=max_vocab_size)  # fmt: skip
        _check_writable(out, save_phrases)
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
INDEX_OPTIONS: dict[str, tuple[str, object]] = {
    "hnsw_m": (
        "M",
        Annotated[Optional[int], typer.Option("--hnsw-m", min=2, max=256, help="HNSW links per word (32).")],
    ),
    "ef_construction": (
        "ef_construction",
        Annotated[
            Optional[int], typer.Option(min=1, max=100_000, help="HNSW build-time search depth (400).")
        ],
    ),
    "ef_search": (
        "ef_search",
        Annotated[Optional[int], typer.Option(min=1, max=100_000, help="HNSW search depth (96).")],
    ),
    "nlist": (
        "nlist",
        Annotated[Optional[int], typer.Option(min=1, max=1 << 20, help="IVF cells (about 4 sqrt(words)).")],
    ),
    "nprobe": (
        "nprobe",
        Annotated[Optional[int], typer.Option(min=1, max=1 << 20, help="IVF cells scanned per query (64).")],
    ),
}
"""Search-index options of the query commands: CLI name -> (``IndexConfig`` field, option)."""


def with_index_options(func: Callable[..., None]) -> Callable[..., None]:
    """Give a query command the index parameter options; it receives them as ``index_options``."""
    added = {name: annotation for name, (_, annotation) in INDEX_OPTIONS.items()}

    def receive(values: dict[str, object]) -> dict[str, object]:
        return {"index_options": {INDEX_OPTIONS[name][0]: value for name, value in values.items()}}

    return _extend(func, added, receive)


Restrict = Annotated[
    Optional[int], typer.Option("--restrict", min=1, help="Search only the N most frequent words.")
]


def _open(model: Path | None, index: str = "auto", **index_options: int | None) -> QuerySession:
    """The query session of ``--model`` (or the default model), with its index options."""
    return QuerySession.open(model, progress=sys.stderr.isatty(), index=index, **index_options)


@app.command()
@with_index_options
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
    restrict: Restrict = None,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", help="Also draw A, B, C and the best answer, with arrows, to this PNG."),
    ] = None,
    *,
    index_options: dict[str, int | None],
) -> None:
    """Words that are to C as B is to A (B - A + C), best first, with cosines; or a --batch of them."""
    with _user_errors():
        check_index(index)
        if plot is not None:
            if batch is not None:
                raise UsageError("--plot draws one query A B C: it cannot be combined with --batch")
            _check_picture(plot, "pca")
        check_method(method)
        given = [w for w in (a, b, c) if w is not None]
        if batch is not None and given:
            raise UsageError("give either the words A B C or --batch FILE, not both")
        if batch is None and len(given) < 3:
            missing = "ABC"[len(given)]
            raise UsageError(f"Missing argument '{missing}' (give A B C, or --batch FILE)")
        if batch is not None and str(batch) != "-" and not batch.is_file():
            raise FormatError(f"batch file {str(batch)!r} does not exist")
        session = _open(model, index, **index_options)
        if batch is None:
            results = session.analogy(*given, k=k, method=method, restrict=restrict)
            _print_ranked(results)
            _note_ngrams(session, given)
            if plot is not None and results:
                words = [session.resolve(w) for w in given]
                plot_analogy(session.vectors, *words, results[0][0], out=plot, name=session.name)
                typer.echo(f"wrote {plot}", err=True)
            return
        summary = BatchSummary()
        lines = session.answer_lines(_batch_lines(batch), k, method, restrict, summary)
        for block in _blocks(lines, BATCH_CHUNK):
            typer.echo("\n".join(block))
        typer.echo(str(summary), err=True)


def _blocks(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    """Lines in lists of ``size`` (written in one call each)."""
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block


def _batch_lines(batch: Path) -> Iterator[str]:
    """Lines of a batch file or stdin, decoded (invalid UTF-8 replaced)."""
    if str(batch) == "-":
        for raw in sys.stdin.buffer:
            yield raw.decode("utf-8", errors="replace")
        return
    try:
        with open(batch, "rb") as handle:
            for raw in handle:
                yield raw.decode("utf-8", errors="replace")
    except OSError as exc:
        raise FormatError(f"cannot read batch file {str(batch)!r}: {exc.strerror or exc}") from exc


@app.command()
@with_index_options
def similar(
    word: Annotated[str, typer.Argument(help="Query word.")],
    model: ModelOption = None,
    k: TopK = 10,
    index: IndexName = "auto",
    restrict: Restrict = None,
    *,
    index_options: dict[str, int | None],
) -> None:
    """Nearest neighbours of WORD by cosine similarity."""
    with _user_errors():
        session = _open(model, index, **index_options)
        _print_ranked(session.similar(word, k=k, restrict=restrict))
        _note_ngrams(session, [word])


def _note_ngrams(session: QuerySession, words: list[str]) -> None:
    """One line on stderr naming the query words a subword model built from n-grams."""
    built = session.from_ngrams(words)
    if built:
        listed = ", ".join(repr(w) for w in built)
        verb = "is" if len(built) == 1 else "are"
        typer.echo(f"note: {listed} {verb} not in the vocabulary: answered from character n-grams", err=True)


@app.command("doesnt-match")
def doesnt_match(
    words: Annotated[list[str], typer.Argument(help="Two or more words, e.g. breakfast lunch dinner car.")],
    model: ModelOption = None,
) -> None:
    """The word that goes least with the others (furthest from their mean)."""
    with _user_errors():
        session = _open(model)
        typer.echo(session.doesnt_match(words))
        _note_ngrams(session, words)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Model to read (any format embedkit reads).")],
    out: Annotated[Path, typer.Argument(help="Output: .bin, .txt/.vec, or a native model folder.")],
    limit: Annotated[Optional[int], typer.Option(min=1, help="Keep only the first N words.")] = None,
    format: Annotated[
        Optional[str],
        typer.Option(
            "--format",
            help="native, word2vec, word2vec-text or fasttext (default: from OUT's name; "
            ".bin is fastText .bin for a subword model, word2vec binary otherwise).",
        ),
    ] = None,
) -> None:
    """Convert between native, word2vec binary/text, GloVe and fastText .bin formats."""
    with _user_errors():
        output_format(out, format=format)  # an unknown --format fails before loading
        vectors = load(source, limit=limit)
        kind = vectors.save_as(out, format)
        typer.echo(f"wrote {len(vectors):,} words x {vectors.dim} dims -> {out} ({kind})")


INFO_KEYS = ("algorithm", "corpus", "raw_tokens", *specs(TrainingSettings), "epoch_loss", "train_seconds",
             "words_per_second")  # fmt: skip
"""What ``info`` shows of a model's training record."""


@app.command()
def info(model: Annotated[Path, typer.Argument(help="Model file or folder.")]) -> None:
    """Words, dimension, format and training settings of a model."""
    with _user_errors():
        vectors = load(model, mmap=True)
        typer.echo(f"format: {describe(model)}")
        typer.echo(f"words: {len(vectors):,}")
        typer.echo(f"dimension: {vectors.dim}")
        typer.echo(f"most frequent: {' '.join(vectors.words[:10])}")
        sub = vectors.subwords
        if sub is not None:
            typer.echo(
                f"subwords: character n-grams of {sub.minn} to {sub.maxn}, {sub.buckets:,} buckets "
                f"(minn {sub.minn}, maxn {sub.maxn}, buckets {sub.buckets}): unknown words get vectors"
            )
        training = vectors.meta.get("training")
        if vectors.trainable:
            typer.echo("full model: can be trained further (embedkit train CORPUS --from MODEL)")
        if training:
            for key in INFO_KEYS:
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
    with _user_errors():
        vectors = _open(model).vectors
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


def _check_picture(out: Path, method: str) -> None:
    """Reject a bad picture name or a missing plotting library before any model is loaded."""
    check_output(out)
    require_matplotlib()
    if check_projection(method) == "tsne":
        require_sklearn()
    _check_writable(out)


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
    with _user_errors():
        pair_list = parse_pairs(pairs) if pairs is not None else []
        if not words and not pair_list:
            raise UsageError("nothing to plot: give one or more WORDS, or --pairs FIRST:SECOND,...")
        pixels = parse_size(size)
        _check_picture(out, method)
        session = _open(model)
        lookup = session.lookup  # unknown words are kept, to be listed together
        plot_words(
            session.vectors,
            [lookup(w) for w in words or []],
            pairs=[(lookup(x), lookup(y)) for x, y in pair_list],
            neighbours=neighbours,
            method=method,
            out=out,
            name=session.name,
            size=pixels,
            dpi=dpi,
            seed=seed,
        )
        typer.echo(f"wrote {out} ({pixels[0]}x{pixels[1]} pixels)")


@app.command()
@with_index_options
def serve(
    model: ModelOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each maps the model; FAISS threads shared).")
    ] = 1,
    index: IndexName = "auto",
    max_body: Annotated[int, typer.Option(min=1024, max=1 << 30, help="Largest body, in bytes.")] = 1048576,
    max_batch: Annotated[int, typer.Option(min=1, max=10**6, help="Most queries per POST /batch.")] = 10_000,
    max_k: Annotated[int, typer.Option(min=1, max=100_000, help="Most answers per query.")] = 1000,
    access_log: Annotated[bool, typer.Option(help="Log every request on stderr.")] = False,
    *,
    index_options: dict[str, int | None],
) -> None:
    """Answer queries over HTTP: a JSON API (schema at /docs) and an explorer page at /."""
    with _user_errors():
        from .serve.settings import Limits, ServiceSettings, require_service

        require_service()
        check_index(index)
        settings = ServiceSettings(
            model=None if model is None else str(model),
            index=index,
            index_options=index_options,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            limits=Limits(max_body=max_body, max_batch=max_batch, max_k=max_k),
        )  # fmt: skip
        from .serve.server import serve as run_service

        run_service(settings, announce=lambda line: typer.echo(f"embedkit: {line}", err=True))


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
