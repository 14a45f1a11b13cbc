"""Foundations every other layer stands on; no model, tokenizer or mxnet knowledge.

Owns: the package's exceptions (``errors``), file locks (``locks``), atomic writes and the one JSON writer
(``atomic_files``), folders the package owns and their checksummed marker (``owned_folders``), reading text files
strictly (``text_files``, ``corpus_text``), output files that never overwrite silently (``output_files``), the
format header of the package's JSON documents (``documents``), the environment checks and fixes for mxnet and
gluonnlp (``environment``: functions only) and the one module that applies them and imports the two libraries for
every other module (``mxnet_stack``), what a block returns as names and axes (``outputs``) and the version
(``version``).
"""
