"""Tokenizers and their registry of kinds.

A model folder's ``config.json`` names its tokenizer ``kind``; :mod:`.registry` maps a kind to the files it keeps
in a folder and how to load, save and build it. ``sentencepiece`` (KoBERT's, gluonnlp's ``BERTSPTokenizer`` with the
original ids) is the kind of every folder written before kinds existed. ``vocab_builder`` trains new SentencePiece
vocabularies.
"""
