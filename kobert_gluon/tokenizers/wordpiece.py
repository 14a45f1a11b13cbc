"""The ``wordpiece`` tokenizer kind (KoELECTRA's): BERT's basic tokenization, then greedy longest-match-first
pieces with ``##`` continuations, ids from a ``vocab.txt`` (the line number is the id).

BERT's basic tokenization here is written out rather than taken from gluonnlp: gluonnlp 0.10's ``BERTTokenizer``
(its compiled ``BasicTokenizer``) decomposes every text to NFD even with ``lower=False``, which splits each Hangul
syllable into its jamo, so no Korean piece of a real vocabulary would ever match. This one cleans the text (drops
control characters, maps whitespace to spaces), puts spaces around CJK ideographs, normalises to NFC, splits on
whitespace and punctuation, and neither lower-cases nor strips accents; then greedy longest-match-first pieces,
``[UNK]`` for a word longer than ``max_input_chars_per_word`` (100) or with no piece sequence. That is
transformers' ``BertTokenizer`` / ``ElectraTokenizer`` with ``do_lower_case=False`` on the same ``vocab.txt`` (the
tests compare them on real text). Registered in :mod:`.registry`; model folders keep its ``vocab.txt``.
"""
import json
import unicodedata
from pathlib import Path
from typing import List

from ..core.errors import InputError
from ..core.mxnet_stack import nlp
from ..core.owned_folders import verify_folder
from .encoding import EncodingMixin

__all__ = ['WordPieceTokenizer', 'KIND', 'FILES', 'VOCAB_TXT', 'vocab_from_vocab_txt', 'vocab_from_tokens', 'load_folder', 'from_file',
           'SPECIAL_TOKENS']

KIND = 'wordpiece'
VOCAB_TXT = 'vocab.txt'
FILES = (VOCAB_TXT,)
SPECIAL_TOKENS = ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')
# The BERTVocab attribute -> BERT's token
BERT_SPECIAL_TOKENS = {'cls_token': '[CLS]', 'sep_token': '[SEP]', 'mask_token': '[MASK]', 'padding_token': '[PAD]',
                       'unknown_token': '[UNK]'}


def vocab_from_vocab_txt(path) -> nlp.vocab.BERTVocab:
    """A gluonnlp ``BERTVocab`` whose ids are the line numbers of a ``vocab.txt`` (transformers' format)."""
    path = Path(path)
    try:
        tokens = path.read_text(encoding='utf-8').split('\n')
    except UnicodeDecodeError as err:
        raise InputError('{} is not UTF-8 text (byte {}); a vocab.txt has one token per line'
                         .format(path, err.start)) from None
    if tokens and tokens[-1] == '':
        tokens.pop()
    return vocab_from_tokens([token.rstrip('\r') for token in tokens], path)


def vocab_from_tokens(tokens, path, special_tokens=None, owner="BERT's") -> nlp.vocab.BERTVocab:
    """A gluonnlp ``BERTVocab`` of ``tokens`` in id order (read from ``path``), with ``special_tokens`` (BERTVocab
    attribute -> token; BERT's ``[CLS]``, ``[SEP]``, ``[MASK]``, ``[PAD]``, ``[UNK]`` by default, ``owner`` naming
    whose they are in messages)."""
    special_tokens = special_tokens or BERT_SPECIAL_TOKENS
    missing = [t for t in special_tokens.values() if t not in tokens]
    if missing:
        raise InputError('{} lacks {} special token(s) {}'.format(path, owner, ', '.join(missing)))
    if len(set(tokens)) != len(tokens):
        raise InputError('{} lists a token twice; ids would be ambiguous'.format(path))
    reserved = [special_tokens[name] for name in ('cls_token', 'sep_token', 'mask_token', 'padding_token')]
    document = {
        'idx_to_token': tokens, 'token_to_idx': {t: i for i, t in enumerate(tokens)},
        'reserved_tokens': reserved, 'unknown_token': special_tokens['unknown_token'],
        'identifiers_to_tokens': {**{name: token for name, token in special_tokens.items() if name != 'unknown_token'},
                                  'bos_token': None, 'eos_token': None}}
    vocab = nlp.vocab.BERTVocab.from_json(json.dumps(document, ensure_ascii=False))
    if vocab.idx_to_token != tokens:
        raise InputError('{} does not read back as the same ids'.format(path))
    return vocab


def _is_whitespace(char: str) -> bool:
    return char in ' \t\n\r' or unicodedata.category(char) == 'Zs'


def _is_control(char: str) -> bool:
    return char not in '\t\n\r' and unicodedata.category(char).startswith('C')


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    # ASCII symbols count as punctuation too (``$``, ``^``, ``~`` are not Unicode punctuation), as in BERT
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 \
        or unicodedata.category(char).startswith('P')


_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return any(low <= cp <= high for low, high in _CJK_RANGES)


def basic_tokenize(text: str) -> List[str]:
    """BERT's basic tokenization, cased: words and single punctuation marks (see the module docstring)."""
    cleaned = []
    for char in text:
        if ord(char) in (0, 0xFFFD) or _is_control(char):
            continue
        if _is_whitespace(char):
            cleaned.append(' ')
        elif _is_cjk(char):
            cleaned.extend((' ', char, ' '))
        else:
            cleaned.append(char)
    words = []
    for word in unicodedata.normalize('NFC', ''.join(cleaned)).split():
        current = []
        for char in word:
            if _is_punctuation(char):
                if current:
                    words.append(''.join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append(''.join(current))
    return words


class WordPieceTokenizer(EncodingMixin):
    """A cased WordPiece tokenizer over a ``vocab.txt``, with the package's tokenizer interface (``vocab``,
    ``kind``, ``save_files``, ``tokenize``, ``encode``, ``transform``). Calling it tokenizes, so it plugs into
    gluonnlp's ``BERTSentenceTransform``; it is plain Python and pickles into DataLoader workers."""

    kind = KIND
    pre_tokenizer = None  # what splits the text before WordPiece at use (a vocabulary for it is trained so too)

    def __init__(self, vocab, max_input_chars_per_word=100, vocab_path=None):
        self.vocab = vocab
        self.max_input_chars_per_word = max_input_chars_per_word
        self.vocab_path = str(vocab_path) if vocab_path is not None else None
        self._unknown = vocab.unknown_token
        self._pieces = set(vocab.idx_to_token)

    def split_pieces(self, text: str) -> List[str]:
        """The WordPiece pieces of plain text (calling the tokenizer also keeps special tokens whole)."""
        pieces = []
        for word in basic_tokenize(text):
            pieces.extend(self._word_pieces(word))
        return pieces

    def _word_pieces(self, word: str) -> List[str]:
        if len(word) > self.max_input_chars_per_word:
            return [self._unknown]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else '##' + word[start:end]
                if piece in self._pieces:
                    found = piece
                    break
                end -= 1
            if found is None:
                return [self._unknown]
            pieces.append(found)
            start = end
        return pieces

    @classmethod
    def from_vocab_txt(cls, path, **options) -> 'WordPieceTokenizer':
        return cls(vocab_from_vocab_txt(path), vocab_path=path, **options)

    @classmethod
    def from_tokenizer_json(cls, path) -> 'WordPieceTokenizer':
        """The WordPiece tokenizer of a ``tokenizer.json`` (what transformers 5 saves for BERT and ELECTRA, with no
        ``vocab.txt``): its vocabulary in id order and its word-length limit. Only what this kind computes is
        accepted (a cased ``BertNormalizer``, BERT's pre-tokenizer, ``##`` continuations); anything else is one
        line naming the setting, since it would give other pieces."""
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding='utf-8'))
        except (UnicodeDecodeError, ValueError) as err:
            raise InputError('{} is not a JSON tokenizer file: {}'.format(path, str(err)[:120])) from None
        model = document.get('model') if isinstance(document, dict) else None
        if not isinstance(model, dict) or model.get('type') != 'WordPiece':
            raise InputError('{}: a {} tokenizer; this package reads WordPiece tokenizer.json files (a SentencePiece '
                             'tokenizer needs its .model file beside it: spiece.model or tokenizer.model)'.format(
                                 path, model.get('type') if isinstance(model, dict) else 'non-tokenizers'))
        settings = {key: document.get(key) or {} for key in ('normalizer', 'pre_tokenizer')}
        odd = [key for key, value in settings.items() if not isinstance(value, dict)]
        if odd:
            raise InputError('{}: "{}" is not an object; the file is damaged: save the tokenizer again with '
                             'transformers'.format(path, odd[0]))
        normalizer = settings['normalizer']
        if normalizer.get('type') != 'BertNormalizer' or normalizer.get('lowercase') or normalizer.get('strip_accents'):
            raise InputError('{}: normalizer {} lowercases or strips accents; this package\'s WordPiece is cased '
                             '(do_lower_case=False, as KoELECTRA), so its pieces would differ'.format(
                                 path, json.dumps(normalizer)[:120]))
        if settings['pre_tokenizer'].get('type') != 'BertPreTokenizer' or \
                model.get('continuing_subword_prefix', '##') != '##':
            raise InputError('{}: not BERT\'s pre-tokenizer and ## continuations; not a BERT WordPiece tokenizer'
                             .format(path))
        vocab = model.get('vocab')
        if not isinstance(vocab, dict) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                  for i in vocab.values()) or \
                sorted(vocab.values()) != list(range(len(vocab))):
            raise InputError('{}: the WordPiece vocabulary\'s ids are not 0 to {}'.format(
                path, len(vocab) - 1 if isinstance(vocab, dict) else '...'))
        added = document.get('added_tokens') or []
        if not isinstance(added, list) or not all(isinstance(t, dict) and isinstance(t.get('content'), str)
                                                  for t in added):
            raise InputError('{}: "added_tokens" is not a list of tokens; the file is damaged: save the tokenizer '
                             'again with transformers'.format(path))
        extra = [t['content'] for t in added if t['content'] not in vocab]
        if extra:
            raise InputError('{}: added tokens outside the vocabulary ({}) are not supported'
                             .format(path, ', '.join(extra[:5])))
        longest = model.get('max_input_chars_per_word', 100)
        if not isinstance(longest, int) or isinstance(longest, bool) or longest < 1:
            raise InputError('{}: max_input_chars_per_word {!r} is not a positive number'.format(path, longest))
        tokens = sorted(vocab, key=vocab.get)
        return cls(vocab_from_tokens(tokens, path), max_input_chars_per_word=longest)

    @classmethod
    def from_pretrained(cls, name_or_folder, cachedir=None) -> 'WordPieceTokenizer':
        """The WordPiece tokenizer of a model or vocabulary folder, or of a registered WordPiece model (KoELECTRA's are
        transformers checkpoints: fetched and converted once into the cache, with their ``vocab.txt``)."""
        from ..hub import catalogue
        entry = catalogue.lookup(name_or_folder)
        if isinstance(entry, Path):
            return load_folder(entry)
        if entry.tokenizer_kind == KIND and catalogue.is_checkpoint_only(entry):
            return load_folder(catalogue.checkpoint_folder(entry, cachedir=cachedir))  # converted once, with vocab.txt
        raise InputError('{} has a {} tokenizer, not a WordPiece one'.format(entry.name, entry.tokenizer_kind))

    def save_files(self, folder) -> None:
        """Write ``vocab.txt`` into ``folder`` (what :func:`load_folder` reads back)."""
        path = Path(folder) / VOCAB_TXT
        path.write_text(''.join(token + '\n' for token in self.vocab.idx_to_token), encoding='utf-8')
        if vocab_from_vocab_txt(path).idx_to_token != self.vocab.idx_to_token:
            raise RuntimeError('vocabulary written to {} does not read back identically'.format(path))

    def starts_word(self, piece: str) -> bool:
        return not piece.startswith('##')  # a continuation piece carries "##"

    offset_normalization = 'NFC'  # basic_tokenize normalises to NFC

    def piece_surface(self, piece: str) -> str:
        return piece[2:] if piece.startswith('##') else piece

    def convert_tokens_to_ids(self, tokens):
        return self.vocab.to_indices(tokens)

    def __repr__(self):
        return '{}(vocab={!r}, vocab_size={})'.format(type(self).__name__, self.vocab_path, len(self.vocab))


def from_file(path) -> WordPieceTokenizer:
    """A bare WordPiece file: a ``vocab.txt`` or transformers' ``tokenizer.json`` (not a gluonnlp ``vocab.json``,
    which is one half of a SentencePiece folder)."""
    path = Path(path)
    if path.suffix == '.txt':
        return WordPieceTokenizer.from_vocab_txt(path)
    if path.name == 'vocab.json':
        raise InputError('{}: a vocab.json is half of a SentencePiece tokenizer; give the folder that holds it with '
                         'its tokenizer.model'.format(path))
    return WordPieceTokenizer.from_tokenizer_json(path)


def load_folder(folder, tokenizer_class=None) -> WordPieceTokenizer:
    """The WordPiece tokenizer kept in ``folder`` (its ``vocab.txt``, checked against the folder's marker), as
    ``tokenizer_class`` (a WordPiece kind; default :class:`WordPieceTokenizer`)."""
    folder = Path(folder)
    if not (folder / VOCAB_TXT).is_file():
        raise FileNotFoundError('{} has no WordPiece tokenizer: {} missing'.format(folder, VOCAB_TXT))
    verify_folder(folder, names=FILES)
    return (tokenizer_class or WordPieceTokenizer).from_vocab_txt(folder / VOCAB_TXT)
