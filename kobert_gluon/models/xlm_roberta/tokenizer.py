"""XLM-RoBERTa's tokenizer: SentencePiece (Unigram) pieces with fairseq's ids, as transformers'
``XLMRobertaTokenizer`` gives them.

The ids are fairseq's: ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, then the SentencePiece pieces one place
after their SentencePiece id, and ``<mask>`` last. transformers (5.x) saves this tokenizer as ``tokenizer.json``
(the ``tokenizers`` library's file: the normalizer, the Metaspace pre-tokenizer and the Unigram model with the
pieces in id order), and so does a hub repository such as ``FacebookAI/xlm-roberta-base``. The kind reads that file
with the ``tokenizers`` library, so its pieces are transformers' own, and keeps it in model folders.

Layout, as transformers': ``<s> A </s>`` and, for a pair, ``<s> A </s></s> B </s>``, every token type 0.
"""
import base64
import binascii
import json
import shutil
from pathlib import Path

import numpy as np

from ...core.documents import write_json
from ...core.errors import InputError, is_library_panic
from ...core.mxnet_stack import nlp
from ...core.owned_folders import verify_folder
from ...tokenizers.encoding import EncodingMixin
from ...tokenizers.wordpiece import vocab_from_tokens

__all__ = ['XLMRobertaTokenizer', 'XLMRobertaTransform', 'load_folder', 'from_pretrained', 'is_tokenizer_json',
           'read_transformers_folder', 'write_transformers_files', 'KIND', 'FILES', 'TOKENIZER_JSON']

KIND = 'xlm-roberta-sentencepiece'
TOKENIZER_JSON = 'tokenizer.json'
FILES = (TOKENIZER_JSON,)
LEGACY_MODEL_FILE = 'sentencepiece.bpe.model'  # what transformers before 5 saved instead
# tokenized once when a file is loaded: Hangul, Latin, digits, full-width forms and symbols, so the normalizer's
# table and the model are each used before a damaged one could fail in the middle of a job
_PROBE = '한국어 ＡＢＣ abc 123 ㈜ ½ …! 가나다라'
# The BERTVocab attribute -> XLM-R's token
SPECIAL_TOKENS = {'cls_token': '<s>', 'sep_token': '</s>', 'padding_token': '<pad>', 'unknown_token': '<unk>',
                  'mask_token': '<mask>'}


def _read_vocab(path: Path, document) -> nlp.vocab.BERTVocab:
    """The vocabulary of a parsed ``tokenizer.json`` (``document``, read from ``path``): its Unigram pieces in id
    order, checked."""
    model = document.get('model') if isinstance(document, dict) else None
    if isinstance(model, dict) and model.get('type') != 'Unigram':
        raise InputError('{}: a {} tokenizer; XLM-RoBERTa\'s is a SentencePiece Unigram'.format(
            path, model.get('type')))
    entries = model.get('vocab') if isinstance(model, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
            and isinstance(entry[1], (int, float)) and not isinstance(entry[1], bool) for entry in entries):
        raise InputError('{}: not a tokenizers tokenizer.json with a model and its vocab of [piece, score] pairs; '
                         'the file is damaged or of another kind: save it again with transformers'.format(path))
    return vocab_from_tokens([entry[0] for entry in entries], path, SPECIAL_TOKENS, "XLM-RoBERTa's")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def _check_charsmaps(path: Path, node) -> None:
    """Every ``Precompiled`` normalizer of ``node`` (a ``tokenizer.json``'s normalizer, or a sequence of them) holds
    its table as base64 of a blob: the length of its trie, the trie, then the replacement strings (UTF-8). The
    ``tokenizers`` library panics on a table it cannot decode and prints a Rust backtrace: checked here first, so a
    damaged file is one line."""
    if isinstance(node, dict) and node.get('type') == 'Sequence':
        for inner in node.get('normalizers') or []:
            _check_charsmaps(path, inner)
    elif isinstance(node, dict) and node.get('type') == 'Precompiled':
        charsmap = node.get('precompiled_charsmap')
        try:
            blob = base64.b64decode(charsmap, validate=True) if isinstance(charsmap, str) else b''
        except binascii.Error:
            blob = b''
        trie_size = int.from_bytes(blob[:4], 'little') if len(blob) >= 4 else -1
        if trie_size < 0 or trie_size % 4 or 4 + trie_size > len(blob) or not _is_utf8(blob[4 + trie_size:]):
            raise InputError('{}: the normalizer\'s precompiled_charsmap is damaged; save the tokenizer again with '
                             'transformers'.format(path))


def _backend(path: Path, document, text: str):
    """The ``tokenizers`` Tokenizer of ``text`` (the file ``path``, parsed as ``document``). What the library refuses
    or panics on is one line naming the file; a probe text is tokenized once, since a damaged table can load and then
    fail on first use."""
    from tokenizers import Tokenizer
    _check_charsmaps(path, document.get('normalizer'))
    try:
        backend = Tokenizer.from_str(text)
        backend.encode(_PROBE, add_special_tokens=False)
        return backend
    except Exception as err:  # noqa: BLE001 -- tokenizers raises a bare Exception for a file it cannot load
        reason = err
    except BaseException as err:
        if not is_library_panic(err):
            raise
        reason = err
    raise InputError('{}: the tokenizers library cannot load it ({}); the file is damaged: save the tokenizer again '
                     'with transformers'.format(path, str(reason).strip().splitlines()[0][:120] if str(reason).strip()
                                                else type(reason).__name__)) from None


class XLMRobertaTokenizer(EncodingMixin):
    """XLM-RoBERTa's SentencePiece over the whole text, from a ``tokenizer.json``. Calling it gives the pieces;
    ``.vocab`` (a gluonnlp ``BERTVocab``) gives fairseq's ids; ``transform``/``encode`` lay out transformers' special
    tokens. It pickles (the ``tokenizers`` object does), so pretraining-data and DataLoader workers get it."""
    kind = KIND
    offset_normalization = 'NFKC'  # XLM-R's SentencePiece normalises with nmt_nfkc
    pair_separators = 2  # <s> A </s></s> B </s>
    second_token_type = 0  # one token type

    def __init__(self, tokenizer_json):
        path = Path(tokenizer_json)
        if not path.is_file():
            raise FileNotFoundError('{} does not exist'.format(path))
        self._path = str(path)
        try:  # the file is read once: a real XLM-R tokenizer.json is 17 MB
            text = path.read_text(encoding='utf-8')
            document = json.loads(text)
        except (UnicodeDecodeError, ValueError) as err:
            raise InputError('{}: cannot read it as UTF-8 JSON ({}); the file is damaged: save the tokenizer again '
                             'with transformers'.format(path, str(err)[:120])) from None
        self.vocab = _read_vocab(path, document)
        self._backend = _backend(path, document, text)

    def split_pieces(self, text):
        try:
            return self._backend.encode(text, add_special_tokens=False).tokens
        except BaseException as err:
            if not is_library_panic(err):
                raise
            raise InputError('{}: the tokenizers library failed on a text ({}); the file is damaged: save the '
                             'tokenizer again with transformers'.format(self._path, str(err)[:120])) from None

    def transform(self, max_seq_length=128, pair=False, pad=True) -> 'XLMRobertaTransform':
        return XLMRobertaTransform(self, max_seq_length, pair=pair, pad=pad)

    def starts_word(self, piece: str) -> bool:
        return piece.startswith('\u2581')

    def piece_surface(self, piece: str) -> str:
        return piece[1:] if piece.startswith('\u2581') else piece

    def save_files(self, folder) -> None:
        shutil.copyfile(self._path, Path(folder) / TOKENIZER_JSON)

    def convert_tokens_to_ids(self, tokens):
        return self.vocab.to_indices(tokens)

    def __repr__(self):
        return '{}({!r}, vocab_size={})'.format(type(self).__name__, self._path, len(self.vocab))


class XLMRobertaTransform:
    """``(input_ids, valid_length, token_type_ids)`` int32 arrays of one text or a pair, as gluonnlp's
    ``BERTSentenceTransform`` returns them, in XLM-RoBERTa's layout (``<s> A </s></s> B </s>``, types all 0). Too long
    a pair is cut as transformers' ``longest_first`` cuts it."""

    def __init__(self, tokenizer: XLMRobertaTokenizer, max_seq_length: int, pair: bool = False, pad: bool = True):
        overhead = 2 + tokenizer.pair_separators if pair else 2
        if max_seq_length < overhead + 1:
            raise InputError('max_seq_length {} leaves no room for the text after XLM-RoBERTa\'s {} special tokens'
                             .format(max_seq_length, overhead))
        self._tokenizer, self._max, self._pair, self._pad = tokenizer, max_seq_length, pair, pad
        self._room = max_seq_length - overhead

    def __call__(self, line):
        vocab = self._tokenizer.vocab
        first = self._tokenizer(line[0])
        if self._pair:
            second = self._tokenizer(line[1])
            first, second = _longest_first(first, second, self._room)
            separators = [vocab.sep_token] * self._tokenizer.pair_separators
            pieces = [vocab.cls_token] + first + separators + second + [vocab.sep_token]
        else:
            pieces = [vocab.cls_token] + first[:self._room] + [vocab.sep_token]
        ids = vocab[pieces]
        valid_length = len(ids)
        if self._pad:
            ids.extend([vocab[vocab.padding_token]] * (self._max - valid_length))
        return (np.array(ids, dtype='int32'), np.array(valid_length, dtype='int32'),
                np.zeros(len(ids), dtype='int32'))


def _longest_first(first, second, room):
    """Both texts' pieces cut to ``room`` together as transformers' ``longest_first`` cuts them (the ``tokenizers``
    library's rule): the shorter keeps at most half the room, the longer the rest; the ends are cut."""
    if len(first) + len(second) <= room:
        return first, second
    shorter, longer = sorted((len(first), len(second)))
    keep_shorter = min(shorter, room // 2)
    keep_longer = min(longer, room - keep_shorter)
    if len(first) <= len(second):
        return first[:keep_shorter], second[:keep_longer]
    return first[:keep_longer], second[:keep_shorter]


def is_tokenizer_json(path) -> bool:
    """Whether ``path`` is a ``tokenizer.json`` with a Unigram model (this kind's file)."""
    path = Path(path)
    if path.suffix != '.json' or not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding='utf-8'))['model']['type'] == 'Unigram'
    except (OSError, ValueError, KeyError, TypeError):
        return False


def load_folder(folder) -> XLMRobertaTokenizer:
    """The tokenizer kept in a model folder (its ``tokenizer.json``, checked against the folder's marker)."""
    folder = Path(folder)
    if not (folder / TOKENIZER_JSON).is_file():
        raise FileNotFoundError('{} has no XLM-RoBERTa tokenizer: {} missing'.format(folder, TOKENIZER_JSON))
    verify_folder(folder, names=FILES)
    return XLMRobertaTokenizer(folder / TOKENIZER_JSON)


def from_pretrained(name_or_folder, cachedir=None) -> XLMRobertaTokenizer:
    """The tokenizer of a model folder, or of a registered XLM-RoBERTa (a transformers checkpoint: fetched and
    converted once into the cache, with its tokenizer)."""
    from ...hub import catalogue
    entry = catalogue.lookup(name_or_folder)
    if isinstance(entry, Path):
        return load_folder(entry)
    if entry.tokenizer_kind == KIND and catalogue.is_checkpoint_only(entry):
        return load_folder(catalogue.checkpoint_folder(entry, cachedir=cachedir))  # converted once, with its tokenizer
    raise InputError('{} has a {} tokenizer, not XLM-RoBERTa\'s'.format(entry.name, entry.tokenizer_kind))


# ----- transformers folders (the family's TransformersMapping hooks) -------------------------------------------------
def read_transformers_folder(folder) -> XLMRobertaTokenizer:
    """The tokenizer of a transformers XLM-RoBERTa folder (its ``tokenizer.json``); None when it has no tokenizer."""
    folder = Path(folder)
    if (folder / TOKENIZER_JSON).is_file():
        return XLMRobertaTokenizer(folder / TOKENIZER_JSON)
    if (folder / LEGACY_MODEL_FILE).is_file():
        raise InputError('{}: only {} (as transformers before 5 saved it); save the tokenizer once with today\'s '
                         'transformers to get tokenizer.json: XLMRobertaTokenizer.from_pretrained(FOLDER)'
                         '.save_pretrained(FOLDER)'.format(folder, LEGACY_MODEL_FILE))
    return None


def write_transformers_files(tokenizer, folder, max_seq_length: int) -> None:
    """``tokenizer.json`` and the ``tokenizer_config.json`` transformers' ``XLMRobertaTokenizer`` loads them with."""
    if not isinstance(tokenizer, XLMRobertaTokenizer):
        raise InputError('an XLM-RoBERTa exports with its own tokenizer, not a {} one'.format(tokenizer.kind))
    tokenizer.save_files(folder)
    write_json(Path(folder) / 'tokenizer_config.json', {
        'tokenizer_class': 'XLMRobertaTokenizer', 'model_max_length': int(max_seq_length), 'add_prefix_space': True,
        'bos_token': '<s>', 'eos_token': '</s>', 'cls_token': '<s>', 'sep_token': '</s>', 'unk_token': '<unk>',
        'pad_token': '<pad>', 'mask_token': '<mask>', 'kobert_gluon_tokenizer_kind': KIND})
