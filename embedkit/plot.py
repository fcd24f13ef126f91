"""Pictures of the vector space: words projected to 2-D, arrows between pairs, written as PNG.

The classic picture of word vectors projects countries and their capitals to a plane and
shows parallel arrows from each country to its capital::

    vectors.plot(pairs=[("spain", "madrid"), ("france", "paris")], out="capitals.png")

Projection is PCA by default (numpy's SVD, fitted on the plotted words, so the picture
shows the plane in which *these* words differ most and arrows stay comparable: a linear
map keeps parallel arrows parallel) or t-SNE (scikit-learn). Vectors are unit-normalised
first, as the similarity queries see them. matplotlib and scikit-learn are optional
(``pip install 'embedkit[plot]'``) and imported only when a picture is drawn; figures are
plain :class:`matplotlib.figure.Figure` objects on the Agg canvas, so no display (and no
pyplot state) is involved. Labels are moved apart by a small deterministic repulsion so
that they do not overlap each other or the points where avoidable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import EmbedkitError, UnknownWordsError, UsageError
from .util import atomic_file

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .vectors.store import Vectors

INSTALL_HINT = "pip install 'embedkit[plot]'"
METHODS = ("pca", "tsne")
DEFAULT_SIZE = (1200, 900)
"""Default picture size in pixels (width, height)."""
DEFAULT_DPI = 150
MAX_PIXELS = 10_000
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

_WORD = {"color": "#1f4e99", "size": 36, "fontsize": 9.5, "weight": "bold", "text": "#102a52"}
_SECOND = {"color": "#c0392b", "size": 36, "fontsize": 9.5, "weight": "bold", "text": "#6e1a12"}
_NEIGHBOUR = {"color": "#b8b8b8", "size": 14, "fontsize": 7.5, "weight": "normal", "text": "#808080"}
_ANSWER = {"color": "#1e8449", "size": 48, "fontsize": 10, "weight": "bold", "text": "#145a32"}
_MARK = {"color": "#555555", "size": 60, "fontsize": 8, "weight": "normal", "text": "#555555", "marker": "x"}
_STYLES = {"word": _WORD, "second": _SECOND, "neighbour": _NEIGHBOUR, "answer": _ANSWER, "mark": _MARK}


# --- optional dependencies -----------------------------------------------------------
def require_matplotlib() -> None:
    """Raise a one-line :class:`EmbedkitError` if matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise EmbedkitError(f"plotting needs matplotlib, which is not installed: {INSTALL_HINT}") from None


def require_sklearn() -> None:
    """Raise a one-line :class:`EmbedkitError` if scikit-learn (for t-SNE) is not installed."""
    try:
        import sklearn.manifold  # noqa: F401
    except ImportError:
        raise EmbedkitError(f"t-SNE needs scikit-learn, which is not installed: {INSTALL_HINT}") from None


# --- argument checks ------------------------------------------------------------------
def check_method(method: str) -> str:
    """The projection method in lower case; a :class:`UsageError` unless pca or tsne."""
    name = str(method).lower().replace("-", "")
    if name not in METHODS:
        raise UsageError(f"unknown projection method {method!r}: choose pca or tsne")
    return name


def parse_pairs(text: str | Sequence[str]) -> list[tuple[str, str]]:
    """Pairs from ``"spain:madrid,france:paris"`` (or a list of such strings).

    >>> parse_pairs("spain:madrid, france:paris")
    [('spain', 'madrid'), ('france', 'paris')]
    """
    items = [text] if isinstance(text, str) else list(text)
    pairs = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part and "," in str(item):
                continue  # tolerate a trailing comma
            sides = [s.strip() for s in part.split(":")]
            if len(sides) != 2 or not all(sides) or any(any(ch.isspace() for ch in s) for s in sides):
                raise UsageError(f"bad pair {part!r} in --pairs: expected FIRST:SECOND[,FIRST:SECOND...], "
                                 "e.g. spain:madrid,france:paris")  # fmt: skip
            pairs.append((sides[0], sides[1]))
    return pairs


def parse_size(text: str) -> tuple[int, int]:
    """Pixels from ``"1200x900"``; a :class:`UsageError` if malformed or out of range."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"bad size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1200x900") from None
    return _check_size((width, height))


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    if len(size) != 2:
        raise UsageError(f"size must be (width, height) in pixels, got {size!r}")
    width, height = (int(s) for s in size)
    if not (100 <= width <= MAX_PIXELS and 100 <= height <= MAX_PIXELS):
        raise UsageError(f"picture size {width}x{height} is out of range: 100 to {MAX_PIXELS} pixels a side")
    return width, height


def check_output(path: str | os.PathLike[str]) -> str:
    """The image format for ``path`` (png, svg or pdf, by its suffix)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot tell the picture format of {str(path)!r}: name it .png (or .svg, .pdf)")
    return FORMATS[suffix]


def check_known(vectors: Vectors, words: Sequence[str]) -> None:
    """Raise one :class:`UnknownWordsError` naming every word not in the vocabulary."""
    missing = list(dict.fromkeys(w for w in words if w not in vectors))
    if missing:
        raise UnknownWordsError(missing)


# --- projection -----------------------------------------------------------------------
def fit_pca(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, the two principal axes (a 2 x dim matrix) and the share of variance they keep.

    Axes are signed so that each one's largest loading is positive, which makes the
    picture the same on every run. Fewer than two independent directions leave zero axes.
    """
    data = np.asarray(points, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] == 0:
        raise UsageError("PCA needs at least one point")
    mean = data.mean(axis=0)
    centred = data - mean
    axes = np.zeros((2, data.shape[1]))
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    take = min(2, vt.shape[0])
    axes[:take] = vt[:take]
    if len(singular):
        axes[: len(singular[:2])][singular[:2] <= singular[0] * 1e-9] = 0.0  # no spread: no axis
    for axis in axes:
        if axis.any() and axis[np.argmax(np.abs(axis))] < 0:
            axis *= -1
    total = float(np.sum(singular**2))
    kept = float(np.sum(singular[:take] ** 2)) / total if total > 0 else 1.0
    return mean, axes, kept


def pca_2d(points: np.ndarray) -> np.ndarray:
    """Points projected on their first two principal axes (n x 2)."""
    mean, axes, _ = fit_pca(points)
    return (np.asarray(points, dtype=np.float64) - mean) @ axes.T


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """t-SNE embedding in 2-D (scikit-learn); perplexity adapted to few points (it must be < n)."""
    require_sklearn()
    from sklearn.manifold import TSNE

    data = np.asarray(points, dtype=np.float64)
    n = data.shape[0]
    if n < 3:  # t-SNE is meaningless for one or two points: fall back to PCA
        return pca_2d(data)
    perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))
    # exact gradients: faster than Barnes-Hut for the few hundred points a picture holds
    method = "exact" if n <= 200 else "barnes_hut"
    model = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, method=method)
    return np.asarray(model.fit_transform(data), dtype=np.float64)


def _rows(vectors: Vectors, words: Sequence[str], normalize: bool) -> np.ndarray:
    matrix = np.asarray(vectors.vectors[[vectors.index_of(w) for w in words]], dtype=np.float64)
    if normalize:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms > 0, norms, 1.0)
    return matrix


def _model_name(vectors: Vectors, name: str | None) -> str:
    if name:
        return name
    for key in ("name", "title"):
        if isinstance(vectors.meta.get(key), str):
            return vectors.meta[key]
    source = getattr(vectors, "source", None)
    if source is not None:
        return "the default model" if Path(source).name.startswith("default-") else Path(source).name
    return "word vectors"


def _method_label(method: str, kept: float | None) -> str:
    if method == "pca":
        return f"PCA (2 axes keep {kept:.0%} of the variance)" if kept is not None else "PCA"
    return "t-SNE"


def _neighbours(vectors: Vectors, words: Sequence[str], count: int) -> list[str]:
    """Up to ``count`` nearest neighbours of each word that are not plotted already."""
    if count <= 0 or len(vectors) <= 1:
        return []
    shown = set(words)
    found: list[str] = []
    for word in words:
        want = min(count + len(words), len(vectors) - 1)
        taken = 0
        for candidate, _ in vectors.most_similar(word, k=want):
            if taken >= count:
                break
            if candidate in shown and candidate not in found:
                continue
            taken += 1
            if candidate not in found:
                found.append(candidate)
        shown.update(found)
    return found


# --- drawing --------------------------------------------------------------------------
def _new_figure(size: tuple[int, int], dpi: int) -> Figure:
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def spread_labels(
    anchors: np.ndarray,
    sizes: np.ndarray,
    bounds: tuple[float, float, float, float],
    radius: float = 4.0,
    iterations: int = 300,
    away: np.ndarray | None = None,
) -> np.ndarray:
    """Centres of label boxes (pixels) that overlap neither each other nor the points.

    Each label starts just above its point (``anchors``, n x 2), or beside it in the
    direction ``away[i]`` when that is non-zero (e.g. away from its arrows); overlapping boxes
    (``sizes``, n x 2: width, height) are pushed apart along the axis of least overlap,
    and boxes covering a point move off it, until nothing overlaps or ``iterations`` run
    out. Boxes stay inside ``bounds`` (x0, y0, x1, y1). Deterministic: ties are broken by
    order, never at random.
    """
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    n = len(anchors)
    half = sizes / 2
    direction = np.zeros((n, 2)) if away is None else np.asarray(away, dtype=np.float64).reshape(n, 2)
    length = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.where(length > 0, direction / np.where(length > 0, length, 1.0), [0.0, 1.0])
    # the distance along the direction at which the box just clears the point
    steep = np.abs(direction)
    reach = np.min(np.where(steep > 1e-9, half / np.maximum(steep, 1e-9), np.inf), axis=1)
    centres = anchors + direction * (reach + radius + 1)[:, None]
    low = np.array(bounds[:2]) + half
    high = np.maximum(np.array(bounds[2:]) - half, low)
    order = np.sign(np.arange(n)[None, :] - np.arange(n)[:, None]).astype(np.float64)
    gap = 1.5
    for _ in range(iterations):
        moves = np.zeros_like(centres)
        # label against label: d[i, j] = centre j - centre i
        d = centres[None, :, :] - centres[:, None, :]
        over = half[:, None, :] + half[None, :, :] + gap - np.abs(d)
        hit = (over[..., 0] > 0) & (over[..., 1] > 0)
        np.fill_diagonal(hit, False)
        if hit.any():
            sign = np.sign(d)
            sign[..., 0] = np.where(sign[..., 0] == 0, order, sign[..., 0])
            sign[..., 1] = np.where(sign[..., 1] == 0, order, sign[..., 1])
            along_x = over[..., 0] < over[..., 1]
            push = np.zeros_like(d)
            push[..., 0] = np.where(hit & along_x, over[..., 0], 0.0) * sign[..., 0]
            push[..., 1] = np.where(hit & ~along_x, over[..., 1], 0.0) * sign[..., 1]
            moves -= push.sum(axis=1) * 0.5
        # label against point: dp[i, k] = centre i - point k
        dp = centres[:, None, :] - anchors[None, :, :]
        over_p = half[:, None, :] + radius - np.abs(dp)
        hit_p = (over_p[..., 0] > 0) & (over_p[..., 1] > 0)
        if hit_p.any():
            sign_p = np.sign(dp)
            sign_p[sign_p == 0] = 1.0
            along_x = over_p[..., 0] < over_p[..., 1]
            push = np.zeros_like(dp)
            push[..., 0] = np.where(hit_p & along_x, over_p[..., 0], 0.0) * sign_p[..., 0]
            push[..., 1] = np.where(hit_p & ~along_x, over_p[..., 1], 0.0) * sign_p[..., 1]
            moves += push.sum(axis=1) * 0.5
        if not hit.any() and not hit_p.any():
            break
        centres = np.clip(centres + moves + np.sign(moves) * 0.25, low, high)
    return centres


def _draw(
    points: np.ndarray,
    labels: Sequence[str],
    kinds: Sequence[str],
    arrows: Sequence[tuple[int, int, str, str]],
    title: str,
    size: tuple[int, int],
    dpi: int,
    axis_names: tuple[str, str] = ("", ""),
) -> Figure:
    """The figure: points by kind, arrows (from, to, colour, line style), labels spread apart."""
    figure = _new_figure(size, dpi)
    ax = figure.add_subplot()
    figure.subplots_adjust(left=0.03, right=0.97, bottom=0.05, top=0.9)
    ax.set_title(title, fontsize=10.5, loc="left")
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(np.max(hi - lo)) or 1.0
    half_range = (hi - lo) / 2 + 0.12 * span  # data half-width and half-height with a margin
    box = ax.get_position()
    box_px = np.array([box.width * size[0], box.height * size[1]])
    scale = float(np.max(half_range / box_px))  # equal aspect: one data unit, same pixels on both axes
    centre = (lo + hi) / 2
    ax.set_xlim(centre[0] - scale * box_px[0], centre[0] + scale * box_px[0])
    ax.set_ylim(centre[1] - scale * box_px[1], centre[1] + scale * box_px[1])
    ax.set_autoscale_on(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(axis_names[0], fontsize=8, color="#666666")
    ax.set_ylabel(axis_names[1], fontsize=8, color="#666666")
    for spine in ax.spines.values():
        spine.set_color("#cccccc")

    for start, end, colour, style in arrows:
        ax.annotate(
            "", xy=xy[end], xytext=xy[start], zorder=2,
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6, "linestyle": style,
                        "shrinkA": 4, "shrinkB": 5, "alpha": 0.85, "mutation_scale": 12},
        )  # fmt: skip
    kinds = list(kinds)
    for kind in dict.fromkeys(kinds):
        chosen = [i for i, k in enumerate(kinds) if k == kind]
        style = _STYLES[kind]
        dot = style.get("marker", "o") == "o"
        ax.scatter(xy[chosen, 0], xy[chosen, 1], s=style["size"], c=style["color"], zorder=3,
                   marker="o" if dot else "x", edgecolors="white" if dot else None,
                   linewidths=0.6 if dot else 1.5)  # fmt: skip

    texts = [
        ax.text(x, y, label, ha="center", va="center", zorder=5, color=_STYLES[kind]["text"],
                fontsize=_STYLES[kind]["fontsize"], fontweight=_STYLES[kind]["weight"],
                bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75})
        for (x, y), label, kind in zip(xy, labels, kinds)
    ]  # fmt: skip
    renderer = figure.canvas.get_renderer()
    boxes = np.array([[t.get_window_extent(renderer).width, t.get_window_extent(renderer).height]
                      for t in texts]).reshape(-1, 2)  # fmt: skip
    anchors = ax.transData.transform(xy) if len(xy) else np.zeros((0, 2))
    frame = ax.get_window_extent(renderer)
    away = np.zeros_like(anchors)
    for start, end, _, _ in arrows:  # put labels on the side of their point away from its arrows
        step = anchors[end] - anchors[start]
        step = step / (np.linalg.norm(step) or 1.0)
        away[start] -= step
        away[end] += step
    bounds = (frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2)
    radius = (np.sqrt(_WORD["size"]) / 2 + 2) * dpi / 72  # dot radius plus a little, in pixels
    centres = spread_labels(anchors, boxes, bounds, radius=radius, away=away)
    placed = ax.transData.inverted().transform(centres) if len(centres) else centres
    for text, point, centre, anchor, box in zip(texts, xy, placed, anchors, boxes):
        text.set_position(centre)
        offset = np.abs(ax.transData.transform(centre) - anchor) - box / 2
        if offset.max() > radius + 4:  # moved away from its point: draw a leader line
            ax.plot([point[0], centre[0]], [point[1], centre[1]], color="#8a8a8a", lw=0.8, zorder=1)
    return figure


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Write the figure (format by suffix: .png, .svg or .pdf) atomically; returns the path."""
    path = Path(path)
    kind = check_output(path)
    with atomic_file(path) as tmp:
        figure.savefig(tmp, format=kind, dpi=figure.dpi)
        os.chmod(tmp, 0o644)  # a picture to share, not a private temporary file
    return path


def _prepare(method: str, size: Sequence[int], dpi: int, out: str | os.PathLike[str] | None) -> str:
    method = check_method(method)
    _check_size(size)
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 30 <= dpi <= 1200:
        raise UsageError(f"dpi must be a whole number from 30 to 1200, got {dpi!r}")
    if out is not None:
        check_output(out)
    require_matplotlib()
    if method == "tsne":
        require_sklearn()
    return method


def plot_words(
    vectors: Vectors,
    words: Sequence[str] = (),
    *,
    pairs: str | Sequence[tuple[str, str]] | Sequence[str] = (),
    neighbours: int = 0,
    method: str = "pca",
    out: str | os.PathLike[str] | None = None,
    name: str | None = None,
    title: str | None = None,
    size: Sequence[int] = DEFAULT_SIZE,
    dpi: int = DEFAULT_DPI,
    normalize: bool = True,
    seed: int = 0,
) -> Figure:
    """Project ``words`` and the words of ``pairs`` to 2-D; arrows go from first to second words.

    ``pairs`` is a list of ``(first, second)`` tuples or a string ``"spain:madrid,france:paris"``.
    ``neighbours=N`` adds each word's N nearest neighbours in a lighter colour. ``method``:
    ``"pca"`` (fitted on the plotted words) or ``"tsne"``. ``size`` is in pixels at ``dpi``;
    ``out`` writes the picture (``.png``, ``.svg`` or ``.pdf``). ``name`` names the model in
    the title (``title`` replaces the whole title). Returns the matplotlib figure.
    Unknown words raise one :class:`~embedkit.errors.UnknownWordsError` naming them all.
    """
    if isinstance(words, str):
        words = [words]
    if isinstance(pairs, str) or (pairs and all(isinstance(p, str) for p in pairs)):
        pair_list = parse_pairs(pairs)  # type: ignore[arg-type]
    else:
        pair_list = []
        for pair in pairs:
            if isinstance(pair, str) or len(pair) != 2:
                raise UsageError(f"a pair must be (first, second), got {pair!r}")
            pair_list.append((str(pair[0]), str(pair[1])))
    if not isinstance(neighbours, int) or isinstance(neighbours, bool) or neighbours < 0:
        raise UsageError(f"neighbours must be a whole number >= 0, got {neighbours!r}")
    firsts = {a for a, _ in pair_list}
    seconds = {b for _, b in pair_list}
    main = list(dict.fromkeys([*words, *(w for pair in pair_list for w in pair)]))
    if not main:
        raise UsageError("nothing to plot: give at least one word (or --pairs)")
    method = _prepare(method, size, dpi, out)
    check_known(vectors, main)
    extra = _neighbours(vectors, main, neighbours)
    plotted = main + extra
    points = _rows(vectors, plotted, normalize)
    kept = None
    if method == "pca":
        mean, axes, kept = fit_pca(points)
        xy = (points - mean) @ axes.T
    else:
        xy = tsne_2d(points, seed=seed)
    kinds = ["neighbour" if i >= len(main) else "second" if w in seconds and w not in firsts else "word"
             for i, w in enumerate(plotted)]  # fmt: skip
    where = {w: i for i, w in enumerate(plotted)}
    arrows = [(where[a], where[b], "#e67e22", "-") for a, b in pair_list if a != b]
    if title is None:
        what = f"{len(main)} words" + (f", {len(arrows)} arrows" if arrows else "")
        what += f", {len(extra)} neighbours" if extra else ""
        title = f"{_model_name(vectors, name)}: {what}, {_method_label(method, kept)}"
    names = ("PCA 1", "PCA 2") if method == "pca" else ("t-SNE 1", "t-SNE 2")
    figure = _draw(xy, plotted, kinds, arrows, title, _check_size(size), dpi, axis_names=names)
    if out is not None:
        save_figure(figure, out)
    return figure


def plot_analogy(
    vectors: Vectors,
    a: str,
    b: str,
    c: str,
    answer: str | None = None,
    *,
    method: str = "pca",
    out: str | os.PathLike[str] | None = None,
    name: str | None = None,
    size: Sequence[int] = DEFAULT_SIZE,
    dpi: int = DEFAULT_DPI,
    normalize: bool = True,
    seed: int = 0,
) -> Figure:
    """Picture of the analogy a : b :: c : answer, with arrows a→b and c→answer.

    ``answer`` defaults to the best answer of ``vectors.analogy(a, b, c)`` (pass it to
    picture another method's answer). A cross marks b − a + c, the point the analogy
    searches near, with a dashed arrow from c; with PCA, fitted on the four words, the
    parallelogram a, b, c, b − a + c is exact in the picture.
    """
    method = _prepare(method, size, dpi, out)
    check_known(vectors, [a, b, c] + ([answer] if answer is not None else []))
    if answer is None:
        found = vectors.analogy(a, b, c, k=1)
        if not found:
            raise EmbedkitError(f"no answer to {b} - {a} + {c}: the model has too few words")
        answer = found[0][0]
    words = list(dict.fromkeys([a, b, c, answer]))
    points = _rows(vectors, words, normalize)
    where = {w: i for i, w in enumerate(words)}
    target = points[where[b]] - points[where[a]] + points[where[c]]
    kept = None
    if method == "pca":  # fitted on the words; the cross is projected with the same map
        mean, axes, kept = fit_pca(points)
        xy = (np.vstack([points, target]) - mean) @ axes.T
    else:
        xy = tsne_2d(np.vstack([points, target]), seed=seed)
    labels = [*words, f"{b} − {a} + {c}"]
    kinds = ["answer" if w == answer else "word" for w in words] + ["mark"]
    arrows = [(where[a], where[b], "#1f4e99", "-"), (where[c], where[answer], "#1e8449", "-")]
    arrows.append((where[c], len(words), "#9a9a9a", "--"))  # the arrow a → b, moved to start at c
    title = (f"{_model_name(vectors, name)}: {a} → {b} as {c} → {answer}\n"
             f"{_method_label(method, kept)}; × marks {b} − {a} + {c}")  # fmt: skip
    names = ("PCA 1", "PCA 2") if method == "pca" else ("t-SNE 1", "t-SNE 2")
    figure = _draw(xy, labels, kinds, arrows, title, _check_size(size), dpi, axis_names=names)
    if out is not None:
        save_figure(figure, out)
    return figure
