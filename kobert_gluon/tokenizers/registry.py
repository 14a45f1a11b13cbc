"""Tokenizer kinds: the name a model folder's ``config.json`` gives its tokenizer -> how to read and write it.

A tokenizer object, of any kind, is a gluonnlp tokenizer (``tokenizer(text) -> pieces``, so it plugs into
``BERTSentenceTransform``) with ``.vocab`` (a ``BERTVocab``: the ids), ``.kind`` (its name here) and
``.save_files(folder)`` (writes the files its kind's ``load_folder`` reads back).

Adding a kind (WordPiece for KoELECTRA, say) is a module with such a class, a ``load_folder(folder)`` and a
``from_pretrained(name)``, plus one
:func:`register_tokenizer_kind` call below; model folders, fine-tuning, pretraining and export then take it
without change. What differs between kinds is asked of the kind, never decided by its name: the bare files it
reads (``file_suffixes``, ``from_file``: :func:`kind_reading_file`) how a vocabulary of it is built
(``build_vocab``, ``vocab_options``: :func:`vocabulary_kinds`) and its transformers files (``read_transformers``,
``write_transformers``: :func:`read_transformers_tokenizer`, :func:`transformers_writer`).
"""
import functools

from . import mecab_wordpiece, sentencepiece, transformers_files, wordpiece
from .kinds import (TokenizerKind, get_tokenizer_kind, kind_reading_file, read_transformers_tokenizer,  # noqa: F401
                    register_tokenizer_kind, registered_kinds, tokenizer_file_suffixes, tokenizer_kinds,
                    transformers_writer, vocabulary_kinds)
from .vocab_builder import VocabFolder, build_vocab
from .wordpiece_vocab import build_wordpiece_vocab

__all__ = ['TokenizerKind', 'register_tokenizer_kind', 'get_tokenizer_kind', 'tokenizer_kinds',
           'registered_kinds', 'kind_reading_file', 'tokenizer_file_suffixes', 'vocabulary_kinds',
           'read_transformers_tokenizer', 'transformers_writer',
           'DEFAULT_TOKENIZER_KIND', 'VocabFolder', 'build_vocab', 'build_wordpiece_vocab']

# The options of the WordPiece builder that the SentencePiece one lacks; a Mecab+WordPiece vocabulary always splits
# into morphemes, so pre_tokenize is not its option
_WORDPIECE_OPTIONS = ('unused_tokens', 'min_frequency')


register_tokenizer_kind(TokenizerKind(
    sentencepiece.KIND, sentencepiece.FILES, sentencepiece.load_folder, sentencepiece.KoBERTTokenizer.from_pretrained,
    "SentencePiece pieces after BERT's basic tokenization, ids from a gluonnlp BERTVocab (KoBERT's)",
    from_file=sentencepiece.from_model_file, file_suffixes=('.model', '.spiece'),
    build_vocab=build_vocab, vocab_options=('num_threads', 'pretokenize'),
    write_transformers=transformers_files.write_sentencepiece))

register_tokenizer_kind(TokenizerKind(
    sentencepiece.TRANSFORMERS_KIND, sentencepiece.FILES, sentencepiece.load_transformers_folder,
    sentencepiece.TransformersKoBERTTokenizer.from_pretrained,
    "SentencePiece over the whole text, as transformers' KoBertTokenizer (DistilKoBERT, skt/kobert-base-v1); "
    "KoBERT's ids",
    read_transformers=transformers_files.read_sentencepiece, write_transformers=transformers_files.write_sentencepiece))

register_tokenizer_kind(TokenizerKind(
    wordpiece.KIND, wordpiece.FILES, wordpiece.load_folder, wordpiece.WordPieceTokenizer.from_pretrained,
    "WordPiece pieces (## continuations) after BERT's basic tokenization, cased; ids from vocab.txt (KoELECTRA's)",
    from_file=wordpiece.from_file, file_suffixes=('.txt', '.json'),
    build_vocab=functools.partial(build_wordpiece_vocab, kind=wordpiece.KIND),
    vocab_options=('pre_tokenize',) + _WORDPIECE_OPTIONS,
    read_transformers=transformers_files.read_wordpiece, write_transformers=transformers_files.write_wordpiece))

register_tokenizer_kind(TokenizerKind(
    mecab_wordpiece.KIND, mecab_wordpiece.FILES, mecab_wordpiece.load_folder, mecab_wordpiece.from_pretrained,
    "Mecab morphemes, then cased WordPiece on each (a vocabulary built with --pre-tokenize mecab, KoELECTRA's "
    "recipe); ids from vocab.txt",
    build_vocab=functools.partial(build_wordpiece_vocab, kind=mecab_wordpiece.KIND), vocab_options=_WORDPIECE_OPTIONS))

# The kind of every folder written before config.json named one (kobert-gluon 0.1: all SentencePiece).
DEFAULT_TOKENIZER_KIND = sentencepiece.KIND
