"""The catalogue of published models: which names exist, what each is, and where its files come from.

An entry is plain data. Its files come either from the artifact store (``params_files`` and the tokenizer files,
downloaded once and verified; the real KoBERT weights) or from a model folder that ships inside the package
(``folder``). Building a model from an entry is the models layer's job (:func:`kobert_gluon.models.zoo.get_model`);
the entry only names the ``architecture`` and gives its ``config`` (a config object of that architecture or a
dict of its fields; a folder entry needs none, its ``config.json`` says).

Anything that is not a registered name is taken as the path of a saved model folder (:func:`lookup`), so a
fine-tuned or pretrained run loads the same way as a published model.

The published models are registered by their families (``kobert_gluon/models/<family>/catalogue.py``, through
:func:`kobert_gluon.models.family_registry.register_family`); importing ``kobert_gluon`` registers every family, so the
catalogue is complete wherever the package is used; the models that ship inside the package come after them.
"""
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..core.errors import InputError
from ..core.owned_folders import check_not_interrupted
from ..core.registry import Registry
from . import model_paths

__all__ = ['ModelSpec', 'register_model', 'list_models', 'get_model_spec', 'lookup', 'is_registered',
           'is_checkpoint_only', 'set_checkpoint_converter', 'checkpoint_folder',
           'SHIPPED_MODELS_DIR', 'KOBERT_VOCAB_FILE', 'KOBERT_TOKENIZER_FILES']

# KoBERT's published tokenizer files (artifact-store names). The two SentencePiece files are interchangeable:
# the same model, as published with the Gluon package and with the Hugging Face port.
KOBERT_VOCAB_FILE = 'kobertvocab_f38b8a4d6d.json'
KOBERT_TOKENIZER_FILES = ('kobert_news_wiki_ko_cased-1087f8699e.spiece', 'tokenizer_78b3253a26.model')

# Small models trained with this package's own pipeline ship inside it (see each folder's MODEL_CARD.md).
SHIPPED_MODELS_DIR = Path(__file__).resolve().parent.parent / 'shipped_models'


@dataclass(frozen=True)
class ModelSpec:
    """A registered model. Either ``params_files`` (artifact-store names of interchangeable copies of the same
    weights, tried in order, any cached one first) or ``folder`` (shipped) gives weights.

    ``tokenizer_kind`` names the tokenizer registry entry that reads ``tokenizer_files`` (the kind's model files,
    first found wins) and ``vocab_file``. ``default_heads`` are the architecture's optional pretraining heads
    that ``get_model`` builds when the caller does not say (all of them for KoBERT, as the original API did).
    ``hf_repo`` (with ``hf_revision``) names the Hugging Face hub repository that holds the same model as a
    transformers checkpoint: the original ``get_mxnet_kobert_model`` converts it when no params file can be had;
    an entry with only an ``hf_repo`` is published as that checkpoint alone (``import-hf`` converts it).
    """
    name: str
    config: Any
    description: str
    params_files: Tuple[str, ...] = ()
    vocab_file: Optional[str] = None
    tokenizer_files: Tuple[str, ...] = ()
    folder: Optional[str] = None
    default_heads: Dict[str, bool] = field(default_factory=lambda: {
        'use_pooler': True, 'use_decoder': True, 'use_classifier': True})
    architecture: str = 'bert'
    tokenizer_kind: str = 'sentencepiece'
    hf_repo: Optional[str] = None
    hf_revision: str = 'main'


_REGISTRY: Registry[ModelSpec] = Registry('model', 'a saved model folder path also works')


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the catalogue, so that ``get_model(spec.name)``, ``load_tokenizer`` and every command's
    ``--model`` know it; returns it. A model is its weight files with a config, a shipped folder, or a hub repo
    converted on first use (``hf_repo``); a name already registered is refused."""
    if spec.params_files and spec.folder is not None:
        raise ValueError('model {!r} needs one of params_files and folder, not both'.format(spec.name))
    if not spec.params_files and spec.folder is None and spec.hf_repo is None:
        raise ValueError('model {!r} needs params_files, a folder or an hf_repo'.format(spec.name))
    if spec.params_files and spec.config is None:
        raise ValueError('model {!r} needs a config to build before loading {}'.format(spec.name,
                                                                                       spec.params_files[0]))
    return _REGISTRY.register(spec.name, spec)


def list_models(pattern: Optional[str] = None) -> List[str]:
    """Registered model names in registration order, optionally filtered by a shell pattern (``'kobert-*'``)."""
    names = _REGISTRY.names()
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def is_registered(name) -> bool:
    return isinstance(name, str) and name in _REGISTRY


def get_model_spec(name: str) -> ModelSpec:
    return _REGISTRY.get(name)


def _looks_like_path(name) -> bool:
    """Registered names win; anything else that looks like or is a path is a model folder."""
    if isinstance(name, os.PathLike):
        return True
    return name not in _REGISTRY and (os.sep in name or Path(name).exists())


def is_checkpoint_only(spec: ModelSpec) -> bool:
    """Whether ``spec`` is published as a transformers checkpoint alone (no params file, no shipped folder)."""
    return not spec.params_files and spec.folder is None and spec.hf_repo is not None


# How a catalogued transformers checkpoint becomes a model folder. The conversion lives above this layer
# (kobert_gluon.convert.catalogued, which registers it here when kobert_gluon is imported), so the layers that load
# models call it through this slot instead of importing it.
_checkpoint_converter = None


def set_checkpoint_converter(convert) -> None:
    """Register ``convert(spec, cachedir=None) -> model folder`` (see :func:`checkpoint_folder`)."""
    global _checkpoint_converter
    _checkpoint_converter = convert


def checkpoint_folder(spec: ModelSpec, cachedir=None) -> Path:
    """The model folder of the catalogued transformers checkpoint ``spec``: fetched, verified and converted once
    into the cache, then reused."""
    if _checkpoint_converter is None:
        raise InputError('{name!r} is published as the transformers checkpoint {repo}; convert it once with '
                         'kobert-gluon import-hf {repo} --out DIR and load DIR'.format(name=spec.name,
                                                                                   repo=spec.hf_repo))
    return Path(_checkpoint_converter(spec, cachedir=cachedir))


# A training run's folder holds its best model in this subfolder (the trainer writes it there).
BEST_MODEL_FOLDER = 'best'


def lookup(name_or_folder) -> Union[ModelSpec, Path]:
    """The catalogue entry of a registered name, or the folder path of anything else that names a folder.

    A registered entry that ships as a folder is returned as its ``folder`` path: from here on it is a folder
    like any other. A run folder (``runs/x``, no ``config.json`` but a ``best/`` model) means its best model, for
    every command and function that takes a model. A path that no model argument takes (missing, a transformers or
    TensorFlow checkpoint, an empty folder, pretraining data, a run without a best model) is refused with what it
    is and what to do (:mod:`.model_paths`); a vocabulary folder or a file is returned for the tokenizer readers.
    An unknown name that is not a path raises the "unknown model"
    error listing the names; anything but a non-empty string or path is refused in one line.
    """
    if not isinstance(name_or_folder, (str, os.PathLike)) or not str(name_or_folder).strip():
        raise InputError('a model is a registered name ({}) or a model folder path; got {!r}'.format(
            ', '.join(_REGISTRY.names()), name_or_folder))
    if _looks_like_path(name_or_folder):
        folder = Path(name_or_folder)
        check_not_interrupted(folder)  # a run folder left half-way through --overwrite: what happened, what to run
        kind = model_paths.path_kind(folder)  # the one place a path argument is recognised (hub/model_paths.py)
        if kind == model_paths.RUN:
            return folder / BEST_MODEL_FOLDER  # a run folder: its best model
        # What no model argument takes is refused here; a vocabulary folder, a tokenizer file or another folder
        # goes back to the caller (the tokenizer readers take them; resolve_model refuses them in its own words).
        model_paths.check_model_path(folder, kinds=(model_paths.MODEL, model_paths.VOCABULARY, model_paths.FILE,
                                                    model_paths.OTHER))
        return folder
    spec = get_model_spec(name_or_folder)
    return Path(spec.folder) if spec.folder is not None else spec


# Small models trained with this package's own pipeline, shipped inside it (see each folder's MODEL_CARD.md)
SHIPPED_MODELS = (
    ('kobert-mini', 'kobert-mini: a small Korean BERT pretrained by kobert-gluon on NSMC review text '
                    '(ships with the package, no download)'),
    ('kobert-mini-nsmc', 'kobert-mini fine-tuned for NSMC movie-review sentiment (negative/positive)'),
)


def register_shipped_models() -> None:
    """Register the shipped model folders present in this installation (called once, after the families, by
    :mod:`kobert_gluon.models.all_families`, so the published models come first in listings)."""
    for name, description in SHIPPED_MODELS:
        if (SHIPPED_MODELS_DIR / name / 'config.json').is_file():
            register_model(ModelSpec(name=name, config=None, description=description,
                                     folder=str(SHIPPED_MODELS_DIR / name)))
