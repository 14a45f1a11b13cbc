"""The model registry: ``name -> ModelSpec``, ``list_models()`` and ``get_model()``.

A spec says which architecture a name builds and where its files come from: artifact-store files (the real
KoBERT weights are downloaded and verified) or a model folder shipped inside the package. ``get_model``
also accepts the path of any saved model folder, so a fine-tuned or pretrained run loads the same way.
"""
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import mxnet as mx

from ..core.errors import InputError
from ..hub import artifact_store
from . import folder as model_folder
from .bert import KOBERT_BASE_CONFIG, SHAPE_FIELDS, BertConfig, build_bert
from ..tokenizers.sentencepiece import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE, get_tokenizer_path, get_vocab

__all__ = ['ModelSpec', 'register_model', 'list_models', 'get_model', 'get_model_spec', 'resolve_tokenizer_files',
           'initialize_random', 'model_folder_of', 'SHIPPED_MODELS_DIR']


@dataclass(frozen=True)
class ModelSpec:
    """A registered model. Either ``params_file`` (artifact-store names) or ``folder`` (shipped) gives weights.

    A folder spec needs no ``config``: the folder's ``config.json`` describes the model.
    """
    name: str
    config: Optional[BertConfig]
    description: str
    params_file: Optional[str] = None
    vocab_file: Optional[str] = None
    tokenizer_files: Tuple[str, ...] = ()
    folder: Optional[str] = None
    default_heads: Dict[str, bool] = field(default_factory=lambda: {
        'use_pooler': True, 'use_decoder': True, 'use_classifier': True})


_REGISTRY: Dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError('a model named {!r} is already registered'.format(spec.name))
    if (spec.params_file is None) == (spec.folder is None):
        raise ValueError('model {!r} needs exactly one of params_file and folder'.format(spec.name))
    if spec.params_file is not None and spec.config is None:
        raise ValueError('model {!r} needs a config to build before loading {}'.format(spec.name, spec.params_file))
    _REGISTRY[spec.name] = spec
    return spec


register_model(ModelSpec(
    name='kobert-base',
    config=KOBERT_BASE_CONFIG,
    description='KoBERT-base (SKT Brain): 12 layers, 768 units, 12 heads, 8,002-token SentencePiece vocab; '
                'Korean Wikipedia and news',
    params_file='mxnet_kobert_45b6957552.params',
    vocab_file=KOBERT_VOCAB_FILE,
    tokenizer_files=KOBERT_TOKENIZER_FILES,
))


# Small models trained with this package's own pipeline ship inside it (see each folder's MODEL_CARD.md).
SHIPPED_MODELS_DIR = Path(__file__).resolve().parent.parent / 'shipped_models'
_SHIPPED = (
    ('kobert-mini', 'kobert-mini: a small Korean BERT pretrained by kobert-gluon on NSMC review text '
                    '(ships with the package, no download)'),
    ('kobert-mini-nsmc', 'kobert-mini fine-tuned for NSMC movie-review sentiment (negative/positive)'),
)
for _name, _description in _SHIPPED:
    if (SHIPPED_MODELS_DIR / _name / model_folder.CONFIG_FILE).is_file():
        register_model(ModelSpec(name=_name, config=None, description=_description,
                                 folder=str(SHIPPED_MODELS_DIR / _name)))


def list_models(pattern: Optional[str] = None) -> List[str]:
    """Registered model names in registration order, optionally filtered by a shell pattern (``'kobert-*'``)."""
    names = list(_REGISTRY)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def get_model_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError('unknown model {!r}: registered models are {}; a saved model folder path also works'
                         .format(name, ', '.join(list_models()))) from None


def _looks_like_path(name) -> bool:
    """Registered names win; anything else that looks like or is a path is a model folder."""
    if isinstance(name, os.PathLike):
        return True
    return name not in _REGISTRY and (os.sep in name or Path(name).exists())


def model_folder_of(name_or_folder) -> Path:
    """The saved-model folder behind a registered name (shipped models) or a folder path."""
    if _looks_like_path(name_or_folder):
        return Path(name_or_folder)
    spec = get_model_spec(name_or_folder)
    if spec.folder is None:
        raise InputError('{!r} is built from downloaded weights, not a model folder; pass a folder made by '
                         'save_model or a fine-tuning run'.format(name_or_folder))
    return Path(spec.folder)


def resolve_tokenizer_files(name_or_folder, cachedir=None):
    """``(sentencepiece model path, BERTVocab)`` of a registered model or a saved model folder."""
    from ..tokenizers.sentencepiece import load_vocab
    if _looks_like_path(name_or_folder):
        folder = Path(name_or_folder)
        model_folder.read_config(folder)  # validates the folder
        model_folder.verify_model_folder(folder, (model_folder.TOKENIZER_FILE, model_folder.VOCAB_FILE))
        return str(folder / model_folder.TOKENIZER_FILE), load_vocab(folder / model_folder.VOCAB_FILE)
    spec = get_model_spec(name_or_folder)
    if spec.folder is not None:
        return resolve_tokenizer_files(spec.folder)
    if spec.tokenizer_files == KOBERT_TOKENIZER_FILES and spec.vocab_file == KOBERT_VOCAB_FILE:
        return get_tokenizer_path(cachedir), get_vocab(cachedir)
    sp_path = artifact_store.fetch_first(spec.tokenizer_files, cachedir=cachedir)
    return str(sp_path), load_vocab(artifact_store.fetch(spec.vocab_file, cachedir=cachedir))


def initialize_random(model, ctx=None, seed=None) -> None:
    """BERT's initialisation: weights ~ N(0, 0.02), biases 0, LayerNorm gamma 1 (their own initialisers)."""
    if seed is not None:
        mx.random.seed(seed)
    model.initialize(init=mx.init.Normal(0.02), ctx=ctx or mx.cpu(0))


def model_config(name_or_folder) -> BertConfig:
    """The BertConfig of a registered model or a saved model folder, read without building or loading it."""
    if _looks_like_path(name_or_folder):
        return BertConfig.from_dict(model_folder.read_config(name_or_folder)['bert'])
    spec = get_model_spec(name_or_folder)
    if spec.folder is not None:
        return model_config(spec.folder)
    return spec.config


def check_max_seq_length(max_seq_length: int, name_or_folder, overrides=None, option='--max-seq-length') -> None:
    """Refuse sequences longer than the model's position table: the positions past it do not exist (gluonnlp
    would quietly clip them to the last one, so every longer position would share one embedding)."""
    config = model_config(name_or_folder)
    positions = (overrides or {}).get('max_length', config.max_length)
    if max_seq_length > positions:
        raise InputError('{} {} is longer than the position table of {} ({} positions); use {} {} or less'
                         .format(option, max_seq_length, name_or_folder, positions, option, positions))


def get_model(name: str = 'kobert-base', pretrained: bool = True, ctx=None, use_pooler: Optional[bool] = None,
              use_decoder: Optional[bool] = None, use_classifier: Optional[bool] = None, cachedir=None,
              **overrides):
    """Build a registered model, or load a saved model folder; returns ``(model, vocab)``.

    ``pretrained=False`` gives a randomly initialised model of the same architecture and vocabulary (training
    from scratch, tests). ``overrides`` change config fields (``dropout=0.0``; with ``pretrained=False`` also shapes such as
    ``num_layers=2``). ``use_*`` left as ``None`` take the model's defaults (all heads for ``kobert-base``, as
    in the original API; the saved heads for a folder).
    """
    ctx = ctx or mx.cpu(0)
    heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder, 'use_classifier': use_classifier}
    if _looks_like_path(name):
        return model_folder.load_model(name, ctx=ctx, pretrained=pretrained, **heads, **overrides)
    spec = get_model_spec(name)
    if spec.folder is not None:
        return model_folder.load_model(spec.folder, ctx=ctx, pretrained=pretrained, **heads, **overrides)
    for head, value in heads.items():
        if value is None:
            heads[head] = spec.default_heads[head]
    config = spec.config.replace(**overrides) if overrides else spec.config
    if pretrained:
        changed = [k for k in overrides if k in SHAPE_FIELDS and getattr(config, k) != getattr(spec.config, k)]
        if changed:
            raise InputError('cannot change {} of pretrained {!r}: its weights have fixed shapes '
                             '(use pretrained=False to train such a model from scratch)'
                             .format(', '.join(changed), name))
    _, vocab = resolve_tokenizer_files(name, cachedir=cachedir)
    if len(vocab) != config.vocab_size:
        raise InputError('model {!r} expects {} tokens but its vocabulary has {}'
                         .format(name, config.vocab_size, len(vocab)))
    model = build_bert(config, **heads)
    if not pretrained:
        initialize_random(model, ctx)
        return model, vocab
    params_path = artifact_store.fetch(spec.params_file, cachedir=cachedir)
    try:
        model.load_parameters(str(params_path), ctx=ctx, ignore_extra=True)
    except AssertionError as err:
        raise InputError('{} does not hold every weight the requested model needs ({}); try use_decoder=False '
                         'or use_classifier=False'.format(params_path, err)) from err
    return model, vocab
