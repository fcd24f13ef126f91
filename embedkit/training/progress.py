"""The training progress bar: words/s, learning rate, loss and ETA on stderr (rich), or nothing."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn


class ProgressBar:
    """A transient rich progress bar over ``total_words`` (does nothing when not ``enabled``)."""

    def __init__(self, enabled: bool, total_words: int) -> None:
        self.bar: Progress | None = None
        if enabled:
            self.bar = Progress(
                TextColumn("epoch {task.fields[epoch]}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[speed]} words/s  lr {task.fields[lr]}  loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("train", total=total_words, speed="-", lr="-", loss="-", epoch="-")
            self.bar.start()

    def update(self, words: float, epoch: str, speed: float, lr: float, loss: float) -> None:
        """Show ``words`` done of the total, in ``epoch`` ("2/5"), with the current figures."""
        if self.bar is not None:
            self.bar.update(
                self.task,
                completed=words,
                epoch=epoch,
                speed=f"{speed:,.0f}",
                lr=f"{lr:.5f}",
                loss=f"{loss:.4f}",
            )

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.stop()
