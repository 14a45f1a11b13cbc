"""The built-in tokenizer kinds in transformers' files: what each reads from a transformers checkpoint folder and
writes into an export. The registry hands these to its kinds (``read_transformers``, ``write_transformers``), and
import-hf / export-hf ask the kinds; a family whose checkpoints bring a tokenizer of their own (XLM-RoBERTa's
``tokenizer.json``) reads and writes it through its ``TransformersMapping`` instead.

* KoBERT's SentencePiece: a SentencePiece model (``tokenizer.model``, ``spiece.model``, ...) with ``vocab.txt``
  (one token per line, the line number is the id); transformers' convention (SentencePiece over the whole text),
  or the Gluon one where this package's export recorded it in ``tokenizer_config.json``.
* WordPiece: ``vocab.txt`` alone, or transformers 5's ``tokenizer.json`` alone; cased, as KoELECTRA's.
"""
import shutil
from pathlib import Path
from typing import Any, Dict

from ..core.documents import read_json, write_json
from ..core.errors import InputError
from .sentencepiece import KoBERTTokenizer, TransformersKoBERTTokenizer
from .wordpiece import WordPieceTokenizer, vocab_from_vocab_txt

__all__ = ['SP_MODEL_NAMES', 'VOCAB_TXT', 'TOKENIZER_CONFIG', 'TOKENIZER_JSON', 'KIND_KEY', 'tokenizer_settings',
           'read_sentencepiece', 'read_wordpiece', 'write_sentencepiece', 'write_wordpiece']

# SentencePiece model file names used by transformers-side KoBERT tokenizers, first found wins
SP_MODEL_NAMES = ('tokenizer.model', 'spiece.model', 'tokenizer_78b3253a26.model', 'sentencepiece.bpe.model')
VOCAB_TXT = 'vocab.txt'
TOKENIZER_CONFIG = 'tokenizer_config.json'
TOKENIZER_JSON = 'tokenizer.json'
# Where export-hf records the package's tokenizer kind, so an import gives the model the pieces it was trained on
KIND_KEY = 'kobert_gluon_tokenizer_kind'
# The two conventions of KoBERT's SentencePiece by the kind an export records; transformers' where none is recorded
_SENTENCEPIECE_CLASSES = {cls.kind: cls for cls in (KoBERTTokenizer, TransformersKoBERTTokenizer)}


def tokenizer_settings(folder: Path) -> Dict[str, Any]:
    """``tokenizer_config.json`` of a transformers folder (empty where it has none)."""
    if not (folder / TOKENIZER_CONFIG).is_file():
        return {}
    document = read_json(folder / TOKENIZER_CONFIG)
    return document if isinstance(document, dict) else {}


def read_sentencepiece(folder: Path):
    """KoBERT's SentencePiece from a SentencePiece model with vocab.txt (None where the folder lacks either)."""
    sp_model = next((folder / name for name in SP_MODEL_NAMES if (folder / name).is_file()), None)
    if sp_model is None or not (folder / VOCAB_TXT).is_file():
        return None
    tokenizer_class = _SENTENCEPIECE_CLASSES.get(tokenizer_settings(folder).get(KIND_KEY), TransformersKoBERTTokenizer)
    return tokenizer_class(str(sp_model), vocab_from_vocab_txt(folder / VOCAB_TXT))


def read_wordpiece(folder: Path):
    """WordPiece from vocab.txt, or from tokenizer.json where transformers 5 saved no vocab.txt (None where the
    folder has neither)."""
    if not (folder / VOCAB_TXT).is_file():
        return WordPieceTokenizer.from_tokenizer_json(folder / TOKENIZER_JSON) \
            if (folder / TOKENIZER_JSON).is_file() else None
    if tokenizer_settings(folder).get('do_lower_case'):
        raise InputError('{}: do_lower_case is true, but this package\'s WordPiece is cased (as KoELECTRA\'s); '
                         'an uncased vocabulary would get other pieces'.format(folder / TOKENIZER_CONFIG))
    return WordPieceTokenizer.from_vocab_txt(folder / VOCAB_TXT)


def _write_vocab_txt(tokenizer, folder: Path) -> None:
    (folder / VOCAB_TXT).write_text(''.join(token + '\n' for token in tokenizer.vocab.idx_to_token), encoding='utf-8')


def _settings(tokenizer, max_seq_length: int) -> Dict[str, Any]:
    """``tokenizer_config.json`` of an export: the fine-tuned length and the package's tokenizer kind (read back by
    import-hf)."""
    return {'model_max_length': int(max_seq_length), KIND_KEY: tokenizer.kind,
            'unk_token': '[UNK]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'cls_token': '[CLS]',
            'mask_token': '[MASK]'}


def write_sentencepiece(tokenizer, folder: Path, max_seq_length: int) -> None:
    """The SentencePiece model, vocab.txt and tokenizer_config.json of KoBERT's tokenizer (either convention)."""
    shutil.copyfile(tokenizer.sp_model_path, folder / 'tokenizer.model')
    _write_vocab_txt(tokenizer, folder)
    write_json(folder / TOKENIZER_CONFIG, _settings(tokenizer, max_seq_length))


def write_wordpiece(tokenizer, folder: Path, max_seq_length: int) -> None:
    """vocab.txt, and in tokenizer_config.json what transformers needs to tokenize as this package does (its
    BertTokenizer lowercases and strips accents by default, which turns Korean into unknown tokens)."""
    _write_vocab_txt(tokenizer, folder)
    write_json(folder / TOKENIZER_CONFIG, dict(_settings(tokenizer, max_seq_length), tokenizer_class='BertTokenizer',
                                               do_lower_case=False, strip_accents=None, tokenize_chinese_chars=True))
