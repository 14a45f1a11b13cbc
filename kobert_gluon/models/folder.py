"""The saved-model folder: one directory holding everything needed to rebuild a model.

Layout::

    config.json       format header; ``architecture`` and its config (a section named after the architecture,
                      ``"bert": {...}``); which optional pretraining heads were saved (``heads``); the tokenizer's
                      ``kind``; the task head (``task``, or null); provenance sections (``finetuning`` ...)
    model.params      parameters (float32, or float16 when saved with ``param_dtype='float16'``)
    tokenizer files   those of the tokenizer's kind (SentencePiece: tokenizer.model and vocab.json)
    kobert-gluon-folder.json   kind 'model' and the SHA-256 of every file (see owned_folders)

A folder written by kobert-gluon 0.1 has no ``architecture`` and no ``tokenizer``: it is BERT with SentencePiece
(and, as 0.1 built it, its embeddings are dropped out at the encoder's ``dropout``).

Folders are written atomically (a temporary sibling renamed into place), never replace an existing folder
unless ``overwrite=True`` (and then only a model folder holding nothing but its own files), and are verified
against their recorded SHA-256s when loaded: a weight file damaged on disk is refused, not used.
"""
import json
from pathlib import Path
from typing import Any, Dict, Optional

from ..core.documents import read_document, write_json
from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..core.owned_folders import FolderKind, register_folder_kind, verify_folder, write_folder_atomically
from ..tokenizers.registry import DEFAULT_TOKENIZER_KIND, get_tokenizer_kind, registered_kinds
from ..tokenizers.sentencepiece import KoBERTTokenizer
from .building import DEFAULT_ARCHITECTURE, architecture_for_config, architectures, get_architecture

__all__ = ['FORMAT', 'save_model', 'check_only_fresh_missing', 'is_model_folder', 'read_config', 'verify_model_folder',
           'folder_architecture', 'folder_config', 'load_folder_tokenizer', 'CONFIG_FILE', 'PARAMS_FILE']

FORMAT = 'kobert-gluon-model'
# Version 1 since 0.1: the fields added since (architecture, tokenizer) are ones a 0.1 reader ignores, and a
# folder of a new architecture lacks the 'bert' section 0.1 requires, so it refuses it on its own.
FORMAT_VERSION = 1
CONFIG_FILE = 'config.json'
PARAMS_FILE = 'model.params'

MODEL_KIND = 'model'


def _is_legacy_model_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / CONFIG_FILE).read_text(encoding='utf-8')).get('format') == FORMAT
    except (OSError, ValueError):
        return False


MODEL_CARD_FILE = 'MODEL_CARD.md'


def register_model_folder_kind() -> FolderKind:
    """(Re-)register the model folder kind: its entries are the package's own files plus every registered tokenizer
    kind's files, read from the tokenizer registry at each call. ``save_model`` calls it before writing, so a kind a
    family registers later (XLM-RoBERTa's ``tokenizer.json``) is one ``--overwrite`` may replace too; a hand-written
    list here once left out ``vocab.txt`` and ``tokenizer.json`` and refused the package's own folders."""
    tokenizer_files = (name for kind in registered_kinds() for name in kind.files)
    entries = tuple(dict.fromkeys((CONFIG_FILE, PARAMS_FILE, MODEL_CARD_FILE) + tuple(tokenizer_files)))
    return register_folder_kind(FolderKind(MODEL_KIND, 'model', entries, legacy=_is_legacy_model_folder))


register_model_folder_kind()


def is_model_folder(path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def read_config(folder) -> Dict[str, Any]:
    """The checked ``config.json`` of a model folder, completed for folders written by 0.1 (``architecture``
    ``'bert'``, tokenizer kind ``'sentencepiece'``)."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError('{} is not a kobert-gluon model folder: it has no {}'.format(folder, CONFIG_FILE))
    verify_folder(folder, MODEL_KIND, names=[CONFIG_FILE])
    config = read_document(path, FORMAT, FORMAT_VERSION, 'kobert-gluon model config',
                           advice='restore it from a copy of the model folder')
    if 'architecture' not in config:  # written by 0.1
        config['architecture'] = DEFAULT_ARCHITECTURE
        config['tokenizer'] = {'kind': DEFAULT_TOKENIZER_KIND}
        section = config.get(DEFAULT_ARCHITECTURE)
        if isinstance(section, dict) and 'dropout' in section:
            # 0.1 wrote embed_dropout but GluonNLP dropped the embeddings at the encoder's rate
            section['embed_dropout'] = section['dropout']
    architecture = config['architecture']
    if architecture not in architectures():
        get_architecture(architecture)  # raises the "unknown architecture" error
    tokenizer = config.get('tokenizer')
    kind = get_tokenizer_kind(tokenizer.get('kind') if isinstance(tokenizer, dict) else None)
    for section in (architecture, 'heads'):
        if not isinstance(config.get(section), dict):
            raise InputError('{} has no {!r} section, so the model cannot be rebuilt; restore the file from a copy '
                             'of the model folder'.format(path, section))
    for name in (PARAMS_FILE,) + kind.files:
        if not (folder / name).is_file():
            raise FileNotFoundError('model folder {} is incomplete: {} is missing'.format(folder, name))
    return config


def folder_architecture(document: Dict[str, Any]):
    """The :class:`~.registry.Architecture` a (read) config document names."""
    return get_architecture(document['architecture'])


def folder_config(document: Dict[str, Any], path='config.json'):
    """The architecture's config object described by a (read) config document."""
    architecture = folder_architecture(document)
    try:
        return architecture.config_from(document[architecture.name])
    except (TypeError, ValueError) as err:
        raise InputError('the {} section of {} is not a valid {} config ({}); restore the file from a copy'
                         .format(architecture.name, path, architecture.name, err)) from None


def load_folder_tokenizer(folder, document: Optional[Dict[str, Any]] = None):
    """The tokenizer kept in a model folder, read by its kind (checked against the recorded SHA-256s)."""
    document = document or read_config(folder)
    return get_tokenizer_kind(document['tokenizer']['kind']).load_folder(folder)


def verify_model_folder(folder, names=None) -> bool:
    """Check the files of a model folder (all, or ``names``) against their recorded SHA-256s; False for a folder
    without checksums (written by kobert-gluon 0.1), which loads unchecked."""
    return verify_folder(folder, MODEL_KIND, names=names) is not None


def _backbone_of(model):
    """The backbone inside ``model`` (itself, or the ``bert`` of a head)."""
    return getattr(model, 'bert', model)


def save_parameters(model, path, param_dtype='float32') -> None:
    """Like ``Block.save_parameters`` (same structural names, shared weights saved once), optionally as fp16."""
    arrays, seen = {}, set()
    for name, param in model._collect_params_with_prefix().items():  # the names load_parameters expects
        if param._data is None:
            raise ValueError('parameter {} is not initialised; initialise the model (and run a forward pass '
                             'if its shapes are deferred) before saving'.format(name))
        if id(param) in seen:  # tied weights (the MLM decoder shares the word embedding) are stored once
            continue
        seen.add(id(param))
        arrays[name] = param
    data = {name: param._reduce().astype(param_dtype) for name, param in arrays.items()}
    mx.nd.save(str(path), data)


def save_model(model, vocab, folder, tokenizer, config=None, task: Optional[Dict[str, Any]] = None,
               extra: Optional[Dict[str, Any]] = None, param_dtype='float32', overwrite=False, inputs=()) -> Path:
    """Save ``model`` (a backbone, or a head with its ``.bert``), its vocab and tokenizer to ``folder``.

    ``tokenizer`` is a tokenizer object (any registered kind), or the path of a SentencePiece model file (the
    0.1 signature: the tokenizer is then that model with ``vocab``). ``config`` defaults to the one the model
    was built from; its class says the architecture. ``inputs``: paths the caller read the model from, which the
    folder may not be, hold or lie inside.
    """
    backbone = _backbone_of(model)
    if task is None and hasattr(model, 'task_config'):
        task = model.task_config()
    config = config or getattr(backbone, 'kobert_config', None)
    if config is None:
        raise InputError('the model carries no config (it was not built by kobert_gluon); pass config=')
    architecture = architecture_for_config(config)
    if config.vocab_size != len(vocab):
        raise InputError('the vocabulary has {} tokens but the model expects {}'.format(len(vocab), config.vocab_size))
    if param_dtype not in ('float32', 'float16'):
        raise InputError("param_dtype must be 'float32' or 'float16', got {!r}".format(param_dtype))
    if isinstance(tokenizer, (str, Path)):
        if not Path(tokenizer).is_file():
            raise FileNotFoundError('SentencePiece model {} does not exist'.format(tokenizer))
        tokenizer = KoBERTTokenizer(str(tokenizer), vocab)
    elif tokenizer.vocab.idx_to_token != vocab.idx_to_token:
        raise InputError('the tokenizer\'s vocabulary is not the one given with the model')
    heads = getattr(backbone, 'kobert_heads', None) or {h: False for h in architecture.optional_heads}
    document = {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'architecture': architecture.name,
        architecture.name: config.to_dict(),
        'heads': {h: bool(heads.get(h, False)) for h in architecture.optional_heads},
        'tokenizer': {'kind': tokenizer.kind},
        'task': task,
        'param_dtype': param_dtype,
    }
    document.update(extra or {})

    def write(tmp: Path):
        save_parameters(model, tmp / PARAMS_FILE, param_dtype)
        tokenizer.save_files(tmp)
        write_json(tmp / CONFIG_FILE, document)

    register_model_folder_kind()  # the tokenizer kinds registered by now, families' included
    return write_folder_atomically(folder, MODEL_KIND, write, overwrite=overwrite, inputs=inputs)


def check_only_fresh_missing(model, params_file: Path, fresh) -> None:
    """With new heads, parameters may be missing from the file: only theirs (anything else is a damaged folder)."""
    try:
        stored = set(mx.nd.load(str(params_file)))
    except mx.base.MXNetError:
        return  # load_parameters below reports a damaged file
    prefix = 'bert.' if hasattr(model, 'bert') else ''
    fresh_prefixes = tuple(prefix + name + '.' for name in fresh)
    missing = [name for name in model._collect_params_with_prefix() if name not in stored
               and not name.startswith(fresh_prefixes)]
    if missing:
        raise InputError('the weights in {} lack {} (not a new head); restore the model folder from a copy'
                         .format(params_file, ', '.join(sorted(missing)[:5])))
