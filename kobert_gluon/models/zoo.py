"""``get_model``: the one factory that joins the catalogue (which names exist), the architecture registry (how to
build them), model folders (saved models) and the artifact store (downloaded, verified weights).

A name is looked up in :mod:`kobert_gluon.hub.catalogue`; anything else is the path of a saved model folder, so a
fine-tuned or pretrained run loads the same way as a published model.
"""
import os
from pathlib import Path

from ..core.errors import InputError
from ..hub.catalogue import (SHIPPED_MODELS_DIR, ModelSpec, checkpoint_folder, get_model_spec,  # noqa: F401
                             is_checkpoint_only, list_models, lookup,
                             register_model)
from ..tokenizers.registry import VocabFolder, get_tokenizer_kind, kind_reading_file, tokenizer_file_suffixes
from . import folder as model_folder
from .building import initialize_random  # noqa: F401  (part of this module's API)
from .resolution import ResolvedModel, load_model, resolve_model  # noqa: F401  (load_model: part of the API)

__all__ = ['ModelSpec', 'register_model', 'list_models', 'get_model', 'get_model_spec', 'load_tokenizer',
           'resolve_tokenizer_files', 'initialize_random', 'model_folder_of', 'model_config', 'check_max_seq_length',
           'check_from_scratch_options', 'check_length_fits', 'resolve_model', 'ResolvedModel', 'load_model',
           'SHIPPED_MODELS_DIR']


def model_folder_of(name_or_folder) -> Path:
    """The saved-model folder behind a registered name (shipped models; a transformers checkpoint's conversion,
    made on first use) or a folder path."""
    entry = lookup(name_or_folder)
    if isinstance(entry, ModelSpec) and is_checkpoint_only(entry):
        return checkpoint_folder(entry)
    if not isinstance(entry, Path):
        raise InputError('{!r} is built from downloaded weights, not a model folder; pass a folder made by '
                         'save_model or a fine-tuning run'.format(name_or_folder))
    return entry


def load_tokenizer(name_or_folder, cachedir=None):
    """The tokenizer of a registered model, a saved model or vocabulary folder (whatever its kind), a WordPiece
    ``vocab.txt`` or a SentencePiece model file (``.model``/``.spiece``; ids from its pieces with ``[PAD]``
    padding, as the original ``get_kobert_model`` made them). Every kind has ``tokenize(text)`` and
    ``encode(text, text_pair=None, max_seq_length=...) -> (input_ids, valid_length, token_type_ids)``."""
    if not isinstance(name_or_folder, (str, os.PathLike)) or not str(name_or_folder).strip():
        raise InputError('load_tokenizer takes a registered model name, a model or vocabulary folder, or a tokenizer '
                         'file (vocab.txt, .model); got {!r}'.format(name_or_folder))
    path = Path(str(name_or_folder))
    if path.is_file():  # the kind that reads it: by its content (XLM-RoBERTa's tokenizer.json), else its suffix
        return kind_reading_file(path).from_file(path)
    if path.suffix in tokenizer_file_suffixes() and not path.exists():
        raise FileNotFoundError('{}: no such tokenizer file'.format(path))
    entry = lookup(name_or_folder)
    if isinstance(entry, Path) and not model_folder.is_model_folder(entry):  # a vocabulary folder (build-vocab)
        return get_tokenizer_kind(VocabFolder(entry).kind).load_folder(entry)
    return resolve_model(name_or_folder, cachedir=cachedir).tokenizer


def resolve_tokenizer_files(name_or_folder, cachedir=None):
    """``(sentencepiece model path, BERTVocab)`` of a registered model or a saved model folder with a
    SentencePiece tokenizer (the 0.1 API; :func:`load_tokenizer` gives the tokenizer of any kind)."""
    tokenizer = load_tokenizer(name_or_folder, cachedir=cachedir)
    if not hasattr(tokenizer, 'sp_model_path'):
        raise InputError('{} has a {} tokenizer, not a SentencePiece one'.format(name_or_folder, tokenizer.kind))
    return tokenizer.sp_model_path, tokenizer.vocab


def model_config(name_or_folder):
    """The architecture config of a registered model or a saved model folder, read without building it."""
    return resolve_model(name_or_folder).config


def check_max_seq_length(max_seq_length: int, name_or_folder, overrides=None, option='--max-seq-length') -> None:
    """Refuse sequences longer than the model's position table: the positions past it do not exist (gluonnlp
    would quietly clip them to the last one, so every longer position would share one embedding).
    ``name_or_folder`` may be a :class:`~.resolution.ResolvedModel` already resolved."""
    config = name_or_folder.config if isinstance(name_or_folder, ResolvedModel) else model_config(name_or_folder)
    check_length_fits(max_seq_length, (overrides or {}).get('max_length', config.max_length), name_or_folder, option)


def check_length_fits(max_seq_length: int, positions: int, name_or_folder, option='--max-seq-length') -> None:
    """The refusal of :func:`check_max_seq_length`, for a caller that knows the position count already."""
    if max_seq_length > positions:
        if isinstance(name_or_folder, ResolvedModel):
            name_or_folder = name_or_folder.given  # as the user named it
        raise InputError('{} {} is longer than the position table of {} ({} positions); use {} {} or less'
                         .format(option, max_seq_length, name_or_folder, positions, option, positions))


def check_from_scratch_options(model_overrides, from_scratch: bool, vocab=None) -> None:
    """The one rule for training settings: shape options and a new vocabulary need a from-scratch model, since
    pretrained weights have fixed shapes and were trained with their own vocabulary."""
    if model_overrides and not from_scratch:
        raise InputError('{} change the model\'s shape, which only works with --from-scratch (from_scratch=True): '
                         'pretrained weights have fixed shapes'.format(
                             ', '.join('--' + name.replace('_', '-') for name in sorted(model_overrides))))
    if vocab is not None and not from_scratch:
        raise InputError('--vocab goes with --from-scratch (from_scratch=True): a pretrained model keeps the '
                         'vocabulary its weights were trained with')


def get_model(name: str = 'kobert-base', pretrained: bool = True, ctx=None, cachedir=None, device=None, **options):
    """Build a registered model, or load a saved model folder; returns ``(model, vocab)``.

    ``pretrained=False`` gives a randomly initialised model of the same architecture and vocabulary (training
    from scratch, tests). ``options`` are the architecture's optional pretraining heads (BERT: ``use_pooler``,
    ``use_decoder``, ``use_classifier``; left out or None, they take the model's defaults: all heads for
    ``kobert-base``, as in the original API; the saved heads for a folder) and config overrides (``dropout=0.0``;
    with ``pretrained=False`` also shapes such as ``num_layers=2``). ``new_heads``: heads a folder may lack, built
    with random weights (see :meth:`~.resolution.ResolvedModel.build`). ``device``: where the weights live
    (``'cpu'``, ``'gpu'``, ``'gpu:1'``, a context; ``ctx`` is its older name; checked before anything is read).
    """
    if device is not None or isinstance(ctx, str):  # a context (or list of them) passes as it always did
        from ..core.devices import parse_devices
        ctx = parse_devices(device if device is not None else ctx)[0]
    return resolve_model(name, cachedir=cachedir).build(pretrained=pretrained, ctx=ctx,
                                                        new_heads=options.pop('new_heads', ()), **options)
