"""Exceptions raised by embedkit.

Every error a user can cause (bad corpus, bad model file, unknown word, bad parameter)
is an :class:`EmbedkitError`, so the CLI can print one clear line instead of a traceback.
"""

from __future__ import annotations


class EmbedkitError(Exception):
    """Base class of all errors embedkit raises on bad input."""

    exit_code = 1


class UsageError(EmbedkitError, ValueError):
    """A parameter is out of range or inconsistent (CLI exit code 2)."""

    exit_code = 2


class CorpusError(EmbedkitError):
    """The training corpus is missing, empty, binary or otherwise unusable."""


class FormatError(EmbedkitError):
    """A vector file is truncated, corrupted or not in a format embedkit reads."""


class UnknownWordError(EmbedkitError, KeyError):
    """A queried word is not in the vocabulary; the message names the word."""

    def __init__(self, word: str, hint: str = "") -> None:
        self.word = word
        message = f"word {word!r} is not in the vocabulary"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class UnknownWordsError(UnknownWordError):
    """Several queried words are not in the vocabulary; the message lists them all."""

    def __init__(self, words: list[str]) -> None:
        if len(words) == 1:
            super().__init__(words[0])
        else:
            self.word = words[0]
            listed = ", ".join(repr(w) for w in words)
            EmbedkitError.__init__(self, f"{len(words)} words are not in the vocabulary: {listed}")
        self.words = list(words)
