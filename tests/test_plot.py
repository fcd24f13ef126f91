"""Pictures of the vector space: projections, PNG output, the plot CLI and analogy --plot."""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

import embedkit
from embedkit import Vectors
from embedkit.errors import EmbedkitError, UnknownWordError, UsageError
from embedkit.plot import (
    fit_pca,
    parse_pairs,
    parse_size,
    pca_2d,
    plot_analogy,
    plot_words,
    spread_labels,
    tsne_2d,
)
from tests.conftest import run_cli

if TYPE_CHECKING:
    from matplotlib.figure import Figure

mpimg = pytest.importorskip("matplotlib.image")

COUNTRIES = ["spain", "france", "italy", "germany", "japan"]
CAPITALS = ["madrid", "paris", "rome", "berlin", "tokyo"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def capitals() -> Vectors:
    """Countries, their capitals (country + one shared offset) and some filler words, in 20-D."""
    rng = np.random.default_rng(7)
    countries = rng.normal(size=(5, 20))
    offset = rng.normal(size=20)
    filler = rng.normal(size=(15, 20))
    words = COUNTRIES + CAPITALS + [f"word{i}" for i in range(15)]
    return Vectors(words, np.vstack([countries, countries + offset, filler]))


@pytest.fixture(scope="module")
def capitals_file(capitals: Vectors, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plot") / "capitals.txt"
    capitals.save_word2vec(path, binary=False)
    return path


def _offsets(figure: Figure) -> np.ndarray:
    """Coordinates of every plotted point, in the order plot_words drew them by kind."""
    ax = figure.axes[0]
    return np.vstack([c.get_offsets() for c in ax.collections])


def _arrows(figure: Figure) -> list:
    """The arrows drawn (annotations with an arrow)."""
    return [t for t in figure.axes[0].texts if getattr(t, "arrow_patch", None) is not None]


# --- projection -------------------------------------------------------------------------
def test_collinear_inputs_give_collinear_points_with_proportional_spacing() -> None:
    rng = np.random.default_rng(0)
    start, direction = rng.normal(size=30), rng.normal(size=30)
    steps = np.array([0.0, 1.0, 2.5, 4.0, 7.0])
    xy = pca_2d(start + steps[:, None] * direction)
    assert np.allclose(xy[:, 1], 0, atol=1e-9)
    assert np.allclose(np.abs(xy[:, 0] - xy[0, 0]), steps * np.linalg.norm(direction))


def test_pca_of_a_planar_set_reproduces_its_distances() -> None:
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(50, 2)))[0].T  # two orthonormal directions in 50-D
    points = rng.normal(size=3) @ np.zeros((3, 50)) + rng.normal(size=50) + rng.normal(size=(12, 2)) @ basis
    _, _, kept = fit_pca(points)
    xy = pca_2d(points)
    for i, j in combinations(range(len(points)), 2):
        assert np.linalg.norm(xy[i] - xy[j]) == pytest.approx(np.linalg.norm(points[i] - points[j]))
    assert kept == pytest.approx(1.0)


def test_pca_is_deterministic_and_handles_one_or_two_points() -> None:
    rng = np.random.default_rng(2)
    points = rng.normal(size=(6, 10))
    assert np.array_equal(pca_2d(points), pca_2d(points.copy()))
    assert pca_2d(points[:1]).tolist() == [[0.0, 0.0]]
    two = pca_2d(points[:2])
    assert two[:, 1].tolist() == [0.0, 0.0]
    assert abs(two[0, 0] - two[1, 0]) == pytest.approx(np.linalg.norm(points[0] - points[1]))


def test_plotted_points_and_parallel_arrows(capitals: Vectors) -> None:
    """End to end: the figure's points are the PCA of the words; equal offsets stay equal arrows."""
    figure = capitals.plot(pairs=list(zip(COUNTRIES, CAPITALS)), normalize=False)
    drawn = _offsets(figure)
    expected = pca_2d(np.vstack([capitals[w] for w in COUNTRIES + CAPITALS]))
    assert np.allclose(drawn, expected, atol=1e-6)  # countries first, then capitals
    arrows = drawn[5:] - drawn[:5]
    assert np.allclose(arrows, arrows[0], atol=1e-6)
    assert len(_arrows(figure)) == 5  # one arrow per pair


def test_analogy_picture_marks_b_minus_a_plus_c(capitals: Vectors) -> None:
    figure = plot_analogy(capitals, "spain", "madrid", "france", normalize=False)
    title = figure.axes[0].get_title(loc="left")
    assert "spain → madrid as france → paris" in title
    drawn = _offsets(figure)  # spain, madrid, france (words), paris (answer), the cross
    spain, madrid, france, paris, cross = drawn
    assert np.allclose(cross, madrid - spain + france, atol=1e-6)
    assert np.allclose(paris, cross, atol=1e-6)  # capitals are country + the same offset
    assert len(_arrows(figure)) == 3  # spain → madrid, france → paris, france → the cross (dashed)


def test_tsne_works_with_few_words(capitals: Vectors) -> None:
    pytest.importorskip("sklearn")
    figure = capitals.plot(["spain", "madrid", "france", "paris"], method="tsne")
    assert _offsets(figure).shape == (4, 2)
    assert "t-SNE" in figure.axes[0].get_title(loc="left")
    rng = np.random.default_rng(3)
    for n in (1, 2, 3):
        xy = tsne_2d(rng.normal(size=(n, 8)), seed=0)
        assert xy.shape == (n, 2) and np.isfinite(xy).all()


def test_neighbours_are_added_from_a_trained_model(lee_model: embedkit.Vectors) -> None:
    words = ["government", "police"]
    figure = lee_model.plot(words, neighbours=3, size=(400, 300), dpi=50)
    labels = [t.get_text() for t in figure.axes[0].texts if t.get_text()]
    assert labels[:2] == words
    near = {w for word in words for w, _ in lee_model.most_similar(word, k=5)}
    assert 2 + 3 <= len(labels) <= 2 + 6 and set(labels[2:]) <= near
    title = figure.axes[0].get_title(loc="left")
    assert f"2 words, {len(labels) - 2} neighbours" in title


# --- output -----------------------------------------------------------------------------
def test_png_is_written_atomically_with_the_stated_size(capitals: Vectors, tmp_path: Path) -> None:
    out = tmp_path / "capitals.png"
    capitals.plot(pairs="spain:madrid,france:paris", out=out, size=(640, 480), dpi=80)
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert mpimg.imread(out).shape[:2] == (480, 640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capitals.png"]  # no temporary left


def test_labels_are_spread_apart_deterministically() -> None:
    anchors = np.array([[100.0, 100.0]] * 4 + [[104.0, 101.0], [300.0, 300.0]])
    sizes = np.array([[40.0, 12.0]] * 6)
    centres = spread_labels(anchors, sizes, (0, 0, 500, 500))
    assert np.array_equal(centres, spread_labels(anchors, sizes, (0, 0, 500, 500)))
    for i, j in combinations(range(len(anchors)), 2):
        apart = np.abs(centres[i] - centres[j]) >= (sizes[i] + sizes[j]) / 2
        assert apart.any(), (i, j)
    for centre, size in zip(centres, sizes):  # no label covers a point
        inside = np.all(np.abs(anchors - centre) < size / 2, axis=1)
        assert not inside.any()


# --- errors -----------------------------------------------------------------------------
def test_unknown_words_are_listed_together(capitals: Vectors) -> None:
    with pytest.raises(UnknownWordError, match="2 words are not in the vocabulary: 'atlantis', 'lemuria'"):
        capitals.plot(["spain", "atlantis"], pairs="lemuria:madrid")
    with pytest.raises(KeyError, match="'atlantis'"):
        capitals.plot(["atlantis"])


@pytest.mark.parametrize("bad", ["spain", "spain:", ":madrid", "a:b:c", "spain madrid:x", "spain:madrid;x:y"])
def test_bad_pairs_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="FIRST:SECOND"):
        parse_pairs(bad)


def test_pairs_and_sizes_parse() -> None:
    assert parse_pairs(" spain:madrid , france:paris,") == [("spain", "madrid"), ("france", "paris")]
    assert parse_pairs(["a:b", "c:d"]) == [("a", "b"), ("c", "d")]
    assert parse_size("640x480") == (640, 480)
    for bad in ("640", "axb", "10x10", "640x480x3"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_empty_word_list_and_bad_options_are_usage_errors(capitals: Vectors) -> None:
    with pytest.raises(UsageError, match="nothing to plot"):
        capitals.plot([])
    with pytest.raises(UsageError, match="pca or tsne"):
        capitals.plot(["spain"], method="umap")
    with pytest.raises(UsageError, match=r"\.png"):
        capitals.plot(["spain"], out="picture.gif")


def test_missing_matplotlib_or_sklearn_is_one_clear_error(
    capitals: Vectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(EmbedkitError, match=r"t-SNE needs scikit-learn.*pip install 'embedkit\[plot\]'"):
        plot_words(capitals, ["spain", "madrid", "paris"], method="tsne")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(EmbedkitError, match=r"needs matplotlib.*pip install 'embedkit\[plot\]'"):
        plot_words(capitals, ["spain"])


# --- command line ------------------------------------------------------------------------
def test_cli_plot_writes_the_png(capitals_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pic.png"
    pairs = ",".join(f"{a}:{b}" for a, b in zip(COUNTRIES, CAPITALS))
    result = run_cli("plot", "Word1", "--model", capitals_file, "--pairs", pairs, "--neighbours", "2",
                     "-o", out, "--size", "600x400", "--dpi", "100")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (600x400 pixels)" in result.stdout
    assert mpimg.imread(out).shape[:2] == (400, 600)


def test_cli_plot_unknown_words_in_one_error_line(capitals_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pic.png"
    args = ["spain", "atlantis", "--model", capitals_file, "--pairs", "lemuria:paris", "-o", out]
    result = run_cli("plot", *args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: 2 words are not in the vocabulary: 'atlantis', 'lemuria'"]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to plot"),
        (["spain", "--pairs", "spain-madrid"], "FIRST:SECOND"),
        (["spain", "--method", "umap"], "pca or tsne"),
        (["spain", "-o", "pic.gif"], ".png"),
        (["spain", "--size", "big"], "WIDTHxHEIGHT"),
    ],
)
def test_cli_plot_usage_errors_exit_2_before_loading_a_model(args: list[str], message: str) -> None:
    result = run_cli("plot", *args)  # no --model: the default model must not be loaded or trained
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_analogy_plot(capitals_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "analogy.png"
    args = ["spain", "madrid", "france", "--model", capitals_file, "-k", "3", "--plot", out]
    result = run_cli("analogy", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:2] == ["1", "paris"]
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert mpimg.imread(out).shape[:2] == (900, 1200)


def test_cli_analogy_plot_rejects_batch(tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("spain madrid france\n")
    result = run_cli("analogy", "--batch", batch, "--plot", tmp_path / "a.png")
    assert result.returncode == 2
    assert "--batch" in result.stderr
