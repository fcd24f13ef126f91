"""Text: reading a corpus, its vocabulary, its encoding as word ids, and phrases.

``reader`` streams token pieces of a text file or folder; ``vocabulary`` counts and keeps
the frequent words; ``encoded`` writes the corpus as int32 ids and cuts it into chunks;
``phrases`` (with its kernels in ``phrase_kernels``) joins collocations before training.
"""
