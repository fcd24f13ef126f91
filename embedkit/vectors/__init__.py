"""Vectors: the word-vector store, its FAISS indexes, 3CosMul, and the standard evaluations.

``store`` holds :class:`Vectors` (and :func:`load`); ``index`` the exact, HNSW and IVF
indexes and the FAISS thread budget; ``cosmul`` the exact 3CosMul re-ranking;
``evaluation`` Google analogies and word-pair similarity.
"""
