"""Corpus builders: run them as scripts, or import them as ``corpora.build_benchmark_corpus``."""
