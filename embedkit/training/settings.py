"""Every training hyper-parameter, declared once: its type, default, range and help text.

:class:`TrainingSettings` is that declaration. Each field is made by :func:`setting`, which
records a :class:`Spec` (help text, bounds, choices) beside the default. From it
:func:`embedkit.train` takes its keyword parameters and validates them (the dataclass checks
itself on creation), and the command line builds its ``train`` options
(:func:`options_of`), so a new hyper-parameter is one line here. A backend with settings of
its own (the Dask cluster's ``sync_rounds``, say) declares them the same way in its file.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..util import cpu_count


@dataclass(frozen=True)
class Spec:
    """What a setting accepts: a type, bounds (``high`` may name another setting), choices."""

    help: str
    kind: type
    low: float | None = None
    high: float | str | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    none_means: str = ""
    """What ``None`` stands for ("all cores"); empty when ``None`` is not allowed."""

    def check(self, name: str, value: Any, others: dict[str, Any] | None = None) -> None:
        """Raise :class:`UsageError` naming ``name`` unless ``value`` is acceptable.

        ``others`` holds the other settings, for a bound that names one (``min_alpha <= alpha``);
        without it such a bound is not checked."""
        if value is None and self.none_means:
            return
        if self.kind is bool:
            if not isinstance(value, bool):
                raise UsageError(f"{name} must be True or False, got {value!r}")
            return
        if self.kind is str:
            if value not in self.choices:
                listed = " or ".join(repr(c) for c in self.choices)
                raise UsageError(f"{name} must be {listed}, got {value!r}")
            return
        number = numbers.Real if self.kind is float else numbers.Integral
        if isinstance(value, bool) or not isinstance(value, number):
            wanted = "a number" if self.kind is float else "a whole number"
            raise UsageError(f"{name} must be {wanted}, got {value!r}")
        high = self.high
        if isinstance(high, str):
            high = None if others is None else others[high]
        low_ok = self.low is None or (value > self.low if self.low_open else value >= self.low)
        high_ok = high is None or (value < high if self.high_open else value <= high)
        if not (low_ok and high_ok):  # NaN fails both
            raise UsageError(f"{name} must be {self.describe()}, got {value!r}")

    def describe(self) -> str:
        """The range in words: ``between 1 and 10000``, ``in [0, 1)``, ``at least 1``."""

        def show(x: float | str | None) -> str:
            return f"{x:g}" if isinstance(x, float) else str(x)

        if self.low is not None and self.high is None:
            return f"{'greater than' if self.low_open else 'at least'} {show(self.low)}"
        if self.low_open or self.high_open or self.kind is float:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{show(self.low)}, {show(self.high)}{right}"
        return f"between {show(self.low)} and {show(self.high)}"


def setting(default: Any, help: str, kind: type, **bounds: Any) -> Any:
    """A dataclass field with its :class:`Spec` (``low``, ``high``, ``choices``, ...) as metadata."""
    return field(default=default, metadata={"spec": Spec(help, kind, **bounds)})


def specs(settings_class: type) -> dict[str, tuple[Spec, Any]]:
    """``name -> (spec, default)`` of every setting a settings dataclass declares, in order."""
    return {
        f.name: (f.metadata["spec"], f.default)
        for f in dataclasses.fields(settings_class)
        if "spec" in f.metadata
    }


def check_all(settings: Any) -> None:
    """Validate every field of a settings dataclass instance against its spec."""
    values = dataclasses.asdict(settings)
    for name, (spec, _) in specs(type(settings)).items():
        spec.check(name, values[name], values)


@dataclass(frozen=True)
class TrainingSettings:
    """Hyper-parameters of one training run; validated on creation (:class:`UsageError`)."""

    dim: int = setting(100, "Vector dimension.", int, low=1, high=10_000)
    window: int = setting(5, "Maximum context window.", int, low=1, high=1_000)
    negative: int = setting(5, "Noise words per pair.", int, low=1, high=1_000)
    share_negatives: int = setting(
        0, "Skip-gram: contexts of a centre word that share one draw of noise words (0: the whole window).",
        int, low=0, high=1_000,
    )  # fmt: skip
    sample: float = setting(1e-3, "Subsampling threshold.", float, low=0.0, high=1.0, high_open=True)
    min_count: int = setting(5, "Ignore words rarer than this.", int, low=1)
    alpha: float = setting(0.025, "Initial learning rate.", float, low=0.0, high=1.0, low_open=True)
    min_alpha: float = setting(0.0001, "Final learning rate.", float, low=0.0, high="alpha")
    epochs: int = setting(5, "Passes over the corpus.", int, low=1, high=10_000)
    workers: int | None = setting(None, "Threads.", int, low=1, high=256, none_means="all cores")
    seed: int = setting(1, "Random seed.", int, low=0, high=2**32 - 1)
    cbow: bool = setting(False, "CBOW instead of skip-gram.", bool)
    phrases: int = setting(0, "First join phrases (new_york) in N passes.", int, low=0, high=10)
    subwords: bool = setting(
        False, "Subword (fastText) model: a word is the mean of its own and its n-gram rows.", bool
    )
    minn: int = setting(3, "Subwords: shortest character n-gram.", int, low=1, high=100)
    maxn: int = setting(6, "Subwords: longest character n-gram (0: word rows only).", int, low=0, high=100)
    buckets: int = setting(
        2_000_000, "Subwords: hash buckets (rows of the n-gram matrix).", int, low=1, high=100_000_000
    )

    def __post_init__(self) -> None:
        check_all(self)
        if self.subwords and self.maxn and self.maxn < self.minn:
            raise UsageError(f"maxn must be 0 or at least minn ({self.minn}), got {self.maxn}")
        if self.workers is None:
            object.__setattr__(self, "workers", cpu_count())

    @property
    def algorithm(self) -> str:
        """How the run is described in a model's metadata."""
        kind = ", subwords" if self.subwords else ""
        return f"{'CBOW' if self.cbow else 'skip-gram'}{kind}, negative sampling"

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain values (recorded in a model's ``meta["training"]``)."""
        return dataclasses.asdict(self)


def split_options(options: dict[str, Any], *settings_classes: type) -> list[dict[str, Any]]:
    """Sort keyword options into one dict per settings class; ``TypeError`` for an unknown name."""
    parts: list[dict[str, Any]] = [{} for _ in settings_classes]
    for name, value in options.items():
        for part, settings_class in zip(parts, settings_classes):
            if name in specs(settings_class):
                part[name] = value
                break
        else:
            known = sorted(n for c in settings_classes for n in specs(c))
            raise TypeError(
                f"train() got an unexpected keyword argument {name!r} (settings: {', '.join(known)})"
            )
    return parts
