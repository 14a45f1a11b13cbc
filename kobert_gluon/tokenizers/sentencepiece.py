"""KoBERT's vocabulary and SentencePiece tokenizer, producing the original token ids.

The ids come from the original 8,002-token ``BERTVocab`` (``kobertvocab_f38b8a4d6d.json``); the
segmentation comes from the KoBERT SentencePiece model (either official file). gluonnlp's own
``BERTSPTokenizer`` and ``BERTSentenceTransform`` work unchanged once this module is imported (it takes gluonnlp
from :mod:`kobert_gluon.core.mxnet_stack`, which applies the one fix they need:
:func:`kobert_gluon.core.environment.patch_gluonnlp_sentencepiece`); :class:`KoBERTTokenizer` is the same tokenizer
with a few conveniences.

Two KoBERT tokenization conventions exist, and each pretrained checkpoint must be fed the way it was trained:

* ``sentencepiece`` (:class:`KoBERTTokenizer`): the Gluon pipeline. BERT's basic tokenization splits punctuation
  off first, then SentencePiece runs on each word: ``'공유합니다.'`` -> ``▁공유 합니다 ▁ .`` (ids ... 517, 54).
* ``sentencepiece-transformers`` (:class:`TransformersKoBERTTokenizer`): the transformers-side ``KoBertTokenizer``
  of DistilKoBERT and ``kobert-transformers`` (monologg) and of ``skt/kobert-base-v1``: SentencePiece over the
  whole text after the same preprocessing (spaces collapsed, accents stripped), ``'공유합니다.'`` -> ``▁공유 합니다 .``
  (ids ... 54).

Both keep special tokens whole and share the files (``tokenizer.model``, ``vocab.json``); a model folder names
its convention as its tokenizer kind.
"""
import json
import shutil
import unicodedata
from pathlib import Path

from ..core.errors import InputError
from ..core.mxnet_stack import nlp
from ..core.owned_folders import verify_folder
from ..hub import artifact_store, catalogue
from ..hub.catalogue import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE
from .encoding import EncodedText, EncodingMixin

__all__ = ['KIND', 'MODEL_FILE', 'VOCAB_FILE', 'FILES', 'KOBERT_VOCAB_FILE', 'KOBERT_TOKENIZER_FILES',
           'get_tokenizer_path', 'get_tokenizer', 'get_vocab', 'load_vocab', 'load_folder', 'from_model_file', 'KoBERTTokenizer',
           'EncodedText', 'vocab_to_json_file', 'TRANSFORMERS_KIND', 'TransformersKoBERTTokenizer',
           'load_transformers_folder']

KIND = 'sentencepiece'  # the tokenizer registry's name for this kind (see .registry)
TRANSFORMERS_KIND = 'sentencepiece-transformers'  # the transformers-side convention
# The files a SentencePiece tokenizer keeps in a folder (a model folder, a vocabulary folder).
MODEL_FILE = 'tokenizer.model'
VOCAB_FILE = 'vocab.json'
FILES = (MODEL_FILE, VOCAB_FILE)

# EncodedText lives with the interface every tokenizer kind shares (.encoding); it stays importable from here


def get_tokenizer_path(cachedir=None) -> str:
    """Local path of the KoBERT SentencePiece model (fetched and verified on first use)."""
    return str(artifact_store.fetch_first(KOBERT_TOKENIZER_FILES, cachedir=cachedir))


def get_tokenizer(cachedir=None) -> str:
    """Older name of :func:`get_tokenizer_path`, kept so code written for the original KoBERT runs."""
    return get_tokenizer_path(cachedir=cachedir)


def load_vocab(path) -> nlp.vocab.BERTVocab:
    """Read a ``BERTVocab`` from a gluonnlp JSON file, or build one from a SentencePiece model file.

    A SentencePiece model gives ids in the model's own piece order (as the original ``get_kobert_model``
    did with its ``.spiece`` file); only the JSON vocab is guaranteed to reproduce KoBERT's ids.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError('vocabulary file {} does not exist'.format(path))
    if path.suffix == '.json':
        try:
            return nlp.vocab.BERTVocab.from_json(path.read_text(encoding='utf-8'))
        except (ValueError, KeyError, TypeError) as err:
            raise InputError('{} is not a gluonnlp BERTVocab JSON file: {}'.format(path, err)) from err
    return nlp.vocab.BERTVocab.from_sentencepiece(str(path), padding_token='[PAD]')


def get_vocab(cachedir=None) -> nlp.vocab.BERTVocab:
    """The original KoBERT vocabulary: 8,002 tokens, ``[UNK]``=0 ``[PAD]``=1 ``[CLS]``=2 ``[SEP]``=3 ``[MASK]``=4."""
    return load_vocab(artifact_store.fetch(KOBERT_VOCAB_FILE, cachedir=cachedir))


def _check_sentencepiece_model(path) -> None:
    """Load the model once now (milliseconds), so a damaged file is named here rather than failing later inside
    a DataLoader worker at the first text."""
    import sentencepiece as spm
    try:
        spm.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError('{} is not a usable SentencePiece model (the file is damaged or of another kind: {}); '
                         'restore it from a copy'.format(path, reason[:160])) from None


class KoBERTTokenizer(EncodingMixin, nlp.data.BERTSPTokenizer):
    """gluonnlp's ``BERTSPTokenizer`` for KoBERT (cased, ``lower=False``), plus ``encode``/``transform``.

    It is a ``BERTSPTokenizer``, so it plugs into ``BERTSentenceTransform`` and anything else that takes one,
    and it pickles into ``DataLoader`` workers (the SentencePiece processor is created lazily).
    """

    def __init__(self, sp_model_path, vocab, lower=False, max_input_chars_per_word=200):
        if not Path(sp_model_path).is_file():
            raise FileNotFoundError('SentencePiece model {} does not exist'.format(sp_model_path))
        _check_sentencepiece_model(sp_model_path)
        super().__init__(str(sp_model_path), vocab, lower=lower, max_input_chars_per_word=max_input_chars_per_word)

    kind = KIND

    def split_pieces(self, text):
        """gluonnlp's ``BERTSPTokenizer`` pieces of plain text: BERT's basic tokenization (punctuation split off),
        then SentencePiece on each word (calling the tokenizer also keeps special tokens whole)."""
        return nlp.data.BERTSPTokenizer._tokenizer(self, text)

    @classmethod
    def from_pretrained(cls, name_or_folder='kobert-base', cachedir=None) -> 'KoBERTTokenizer':
        """The tokenizer of a registered model (``kobert-base`` ...), of a saved model folder or of a vocabulary
        folder made by ``build_vocab``, with this class's convention (its files are the same for both)."""
        entry = catalogue.lookup(name_or_folder)
        if isinstance(entry, Path):
            found = load_folder(entry)
            return found if type(found) is cls else cls(found.sp_model_path, found.vocab)
        if entry.tokenizer_kind not in (KIND, TRANSFORMERS_KIND):
            raise InputError('{} has a {} tokenizer, not a SentencePiece one'.format(entry.name, entry.tokenizer_kind))
        if entry.tokenizer_files == KOBERT_TOKENIZER_FILES and entry.vocab_file == KOBERT_VOCAB_FILE:
            return cls(get_tokenizer_path(cachedir), get_vocab(cachedir))
        sp_path = artifact_store.fetch_first(entry.tokenizer_files, cachedir=cachedir)
        return cls(str(sp_path), load_vocab(artifact_store.fetch(entry.vocab_file, cachedir=cachedir)))

    def save_files(self, folder) -> None:
        """Write this tokenizer's files into ``folder`` (what :func:`load_folder` reads back)."""
        shutil.copyfile(self._path, Path(folder) / MODEL_FILE)
        vocab_to_json_file(self.vocab, Path(folder) / VOCAB_FILE)

    def starts_word(self, piece: str) -> bool:
        return piece.startswith('\u2581')  # SentencePiece marks the first piece of a word with "▁"

    # KoBERT's SentencePiece model normalises with nmt_nfkc: within a word, NFKC
    offset_normalization = 'NFKC'

    def piece_surface(self, piece: str) -> str:
        return piece[1:] if piece.startswith('\u2581') else piece

    @property
    def sp_model_path(self) -> str:
        return self._path

    def __repr__(self):
        return '{}(sp_model={!r}, vocab_size={})'.format(type(self).__name__, self._path, len(self.vocab))


def vocab_to_json_file(vocab, path) -> None:
    """Write a vocabulary as gluonnlp JSON (what :func:`load_vocab` reads back).

    Written as UTF-8 rather than gluonnlp's ``\\uXXXX`` escapes: a Korean vocabulary takes about half the
    space, which matters for the models shipped inside the package.
    """
    compact = json.dumps(json.loads(vocab.to_json()), ensure_ascii=False, separators=(',', ':'))
    Path(path).write_text(compact, encoding='utf-8')
    # Round-trip check: a vocab that does not read back identically must not be saved silently.
    if load_vocab(path).idx_to_token != vocab.idx_to_token:
        raise RuntimeError('vocabulary written to {} does not read back identically'.format(path))


def load_folder(folder) -> KoBERTTokenizer:
    """The SentencePiece tokenizer kept in ``folder`` (a model folder or a :func:`build_vocab` folder), its files
    checked against the SHA-256s the folder's marker records."""
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError('{} has no SentencePiece tokenizer: {} missing'.format(folder, ' and '.join(missing)))
    verify_folder(folder, names=FILES)
    return KoBERTTokenizer(str(folder / MODEL_FILE), load_vocab(folder / VOCAB_FILE))


SPIECE_UNDERLINE = '\u2581'


def from_model_file(path) -> KoBERTTokenizer:
    """A bare SentencePiece model file (``.model``/``.spiece``): ids from its pieces with ``[PAD]`` padding, as the
    original ``get_kobert_model`` made them."""
    return KoBERTTokenizer(str(path), load_vocab(path))


class TransformersKoBERTTokenizer(KoBERTTokenizer):
    """KoBERT's pieces as the transformers-side ``KoBertTokenizer`` makes them (DistilKoBERT's README, the
    ``kobert-transformers`` package, ``skt/kobert-base-v1``): SentencePiece over the whole text, so punctuation
    stays attached as the SentencePiece model segments it (``'.'`` is 54 alone, not ``▁`` 517 + 54). The same files,
    ids and interface as :class:`KoBERTTokenizer`; special tokens are kept whole by both."""

    kind = TRANSFORMERS_KIND

    def split_pieces(self, text):
        text = ' '.join(text.strip().split()).replace('``', '"').replace("''", '"')
        # keep_accents=False, as transformers' KoBertTokenizer: decompose, drop combining marks (SentencePiece's
        # own NFKC then composes Hangul again)
        text = ''.join(char for char in unicodedata.normalize('NFKD', text) if not unicodedata.combining(char))
        processor = self._whole_text_processor()
        pieces = []
        for piece in processor.encode(text, out_type=str):
            if len(piece) > 1 and piece[-1] == ',' and piece[-2].isdigit():
                # XLNet's rule, kept by KoBertTokenizer: "1,000," -> the number's pieces, then ","
                parts = processor.encode(piece[:-1].replace(SPIECE_UNDERLINE, ''), out_type=str)
                if piece[0] != SPIECE_UNDERLINE and parts and parts[0][0] == SPIECE_UNDERLINE:
                    parts = parts[1:] if len(parts[0]) == 1 else [parts[0][1:]] + parts[1:]
                pieces.extend(parts + [piece[-1]])
            else:
                pieces.append(piece)
        return pieces

    def _whole_text_processor(self):
        processor = getattr(self, '_whole_sp', None)
        if processor is None:  # made on first use, so the tokenizer pickles into DataLoader workers
            import sentencepiece as spm
            processor = self._whole_sp = spm.SentencePieceProcessor(model_file=self._path)
        return processor

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('_whole_sp', None)
        return state


def load_transformers_folder(folder) -> TransformersKoBERTTokenizer:
    """The ``sentencepiece-transformers`` tokenizer kept in ``folder`` (the same files as :func:`load_folder`)."""
    base = load_folder(folder)
    return TransformersKoBERTTokenizer(base.sp_model_path, base.vocab)
