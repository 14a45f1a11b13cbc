"""The saved-model folder: one directory holding everything needed to rebuild a model.

Layout::

    config.json       format tag, BERT config, which heads were saved, optional task section
    model.params      parameters (float32, or float16 when saved with ``param_dtype='float16'``)
    vocab.json        the gluonnlp BERTVocab
    tokenizer.model   the SentencePiece model
    kobert-gluon-folder.json   kind 'model' and the SHA-256 of every file (see owned_folders)

Folders are written atomically (a temporary sibling renamed into place), never replace an existing folder
unless ``overwrite=True`` (and then only a model folder holding nothing but its own files), and are verified
against their recorded SHA-256s when loaded: a weight file damaged on disk is refused, not used.
"""
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import mxnet as mx

from .bert import BertConfig, build_bert
from ..core.errors import InputError
from ..core.owned_folders import FolderKind, register_folder_kind, verify_folder, write_folder_atomically
from ..tokenizers.sentencepiece import load_vocab, vocab_to_json_file

__all__ = ['FORMAT', 'save_model', 'load_model', 'is_model_folder', 'read_config', 'register_task_loader',
           'verify_model_folder']

FORMAT = 'kobert-gluon-model'
FORMAT_VERSION = 1
CONFIG_FILE = 'config.json'
PARAMS_FILE = 'model.params'
VOCAB_FILE = 'vocab.json'
TOKENIZER_FILE = 'tokenizer.model'

MODEL_KIND = 'model'


def _is_legacy_model_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / CONFIG_FILE).read_text(encoding='utf-8')).get('format') == FORMAT
    except (OSError, ValueError):
        return False


register_folder_kind(FolderKind(MODEL_KIND, 'model', (CONFIG_FILE, PARAMS_FILE, VOCAB_FILE, TOKENIZER_FILE,
                                                      'MODEL_CARD.md'), legacy=_is_legacy_model_folder))

# Task heads (classifier, regressor ...) register how to rebuild themselves around a loaded BERT.
_TASK_LOADERS: Dict[str, Callable] = {}


def register_task_loader(kind: str, loader: Callable) -> None:
    """``loader(bert, task_config) -> block`` rebuilds a task model of ``kind`` (its params loaded after)."""
    _TASK_LOADERS[kind] = loader


def is_model_folder(path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def read_config(folder) -> Dict[str, Any]:
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError('{} is not a kobert-gluon model folder: it has no {}'.format(folder, CONFIG_FILE))
    verify_folder(folder, MODEL_KIND, names=[CONFIG_FILE])
    try:
        config = json.loads(path.read_text(encoding='utf-8'))
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError('{} is not valid JSON ({}); restore it from a copy of the model folder'
                         .format(path, err)) from None
    if not isinstance(config, dict) or config.get('format') != FORMAT:
        raise InputError('{} is not a kobert-gluon model config (format is {!r}, expected {!r})'
                         .format(path, config.get('format') if isinstance(config, dict) else None, FORMAT))
    if config.get('format_version', 0) > FORMAT_VERSION:
        raise InputError('{} was written by a newer kobert-gluon (format version {}); upgrade kobert-gluon'
                         .format(path, config.get('format_version')))
    for section in ('bert', 'heads'):
        if not isinstance(config.get(section), dict):
            raise InputError('{} has no {!r} section, so the model cannot be rebuilt; restore the file from a copy '
                             'of the model folder'.format(path, section))
    for name in (PARAMS_FILE, VOCAB_FILE, TOKENIZER_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError('model folder {} is incomplete: {} is missing'.format(folder, name))
    return config


def verify_model_folder(folder, names=None) -> bool:
    """Check the files of a model folder (all, or ``names``) against their recorded SHA-256s; False for a folder
    without checksums (written by kobert-gluon 0.1), which loads unchecked."""
    return verify_folder(folder, MODEL_KIND, names=names) is not None


def _bert_of(model):
    """The BERTModel inside ``model`` (itself, or the ``bert`` of a task model)."""
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


def save_model(model, vocab, folder, tokenizer_path, config: Optional[BertConfig] = None,
               task: Optional[Dict[str, Any]] = None, extra: Optional[Dict[str, Any]] = None,
               param_dtype='float32', overwrite=False) -> Path:
    """Save ``model`` (a BERTModel or a task model with a ``.bert``), its vocab and tokenizer to ``folder``."""
    bert = _bert_of(model)
    if task is None and hasattr(model, 'task_config'):
        task = model.task_config()
    config = config or getattr(bert, 'kobert_config', None)
    if config is None:
        raise InputError('the model carries no BertConfig (it was not built by kobert_gluon); pass config=')
    if config.vocab_size != len(vocab):
        raise InputError('the vocabulary has {} tokens but the model expects {}'.format(len(vocab), config.vocab_size))
    if param_dtype not in ('float32', 'float16'):
        raise InputError("param_dtype must be 'float32' or 'float16', got {!r}".format(param_dtype))
    if not Path(tokenizer_path).is_file():
        raise FileNotFoundError('SentencePiece model {} does not exist'.format(tokenizer_path))
    document = {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'bert': config.to_dict(),
        'heads': {'use_pooler': bool(bert._use_pooler), 'use_decoder': bool(bert._use_decoder),
                  'use_classifier': bool(bert._use_classifier)},
        'task': task,
        'param_dtype': param_dtype,
    }
    document.update(extra or {})

    def write(tmp: Path):
        save_parameters(model, tmp / PARAMS_FILE, param_dtype)
        vocab_to_json_file(vocab, tmp / VOCAB_FILE)
        shutil.copyfile(tokenizer_path, tmp / TOKENIZER_FILE)
        (tmp / CONFIG_FILE).write_text(json.dumps(document, ensure_ascii=False, indent=2) + '\n', encoding='utf-8')

    return write_folder_atomically(folder, MODEL_KIND, write, overwrite=overwrite)


def load_model(folder, ctx=None, use_pooler=None, use_decoder=None, use_classifier=None, pretrained=True,
               **overrides):
    """Rebuild the model saved in ``folder``; returns ``(model, vocab)``.

    ``use_*`` default to the heads that were saved; asking for a head whose weights the folder does not have
    is an error. ``overrides`` may change non-shape options such as ``dropout``. ``pretrained=False`` builds
    the folder's architecture with its vocabulary but random weights (then shapes may be overridden too).
    """
    folder = Path(folder)
    document = read_config(folder)
    if pretrained:
        verify_model_folder(folder)
    ctx = ctx or mx.cpu(0)
    try:
        config = BertConfig.from_dict(document['bert'])
    except (TypeError, ValueError) as err:
        raise InputError('the model section of {} is not a valid BERT config ({}); restore the file from a copy'
                         .format(folder / CONFIG_FILE, err)) from None
    if overrides:
        from .bert import SHAPE_FIELDS
        changed = [k for k in overrides if k in SHAPE_FIELDS and overrides[k] != getattr(config, k)]
        if changed and pretrained:
            raise InputError('cannot change {} of a saved model: its weights have fixed shapes (pass '
                             'pretrained=False to train such a model from scratch)'.format(', '.join(changed)))
        config = config.replace(**overrides)
    saved = document['heads']
    heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder, 'use_classifier': use_classifier}
    for head, wanted in heads.items():
        if wanted is None:
            heads[head] = saved[head]
        elif wanted and not saved[head] and pretrained:
            raise InputError('{} was saved without the {} head, so {}=True cannot be loaded; pass {}=False'
                             .format(folder, head[4:], head, head))
    bert = build_bert(config, **heads)
    vocab = load_vocab(folder / VOCAB_FILE)
    task = document.get('task')
    model = bert
    if task:
        kind = task.get('kind')
        if kind not in _TASK_LOADERS:
            raise InputError('{} holds a {!r} task model, which this kobert-gluon does not know how to load'
                             .format(folder, kind))
        model = _TASK_LOADERS[kind](bert, task)
    if not pretrained:
        from .zoo import initialize_random
        initialize_random(model, ctx)
        return model, vocab
    try:
        model.load_parameters(str(folder / PARAMS_FILE), ctx=ctx, ignore_extra=True, cast_dtype=True,
                              dtype_source='current')
    except AssertionError as err:  # mxnet reports missing/mismatched parameters with bare asserts
        raise InputError('the weights in {} do not fit the model described by its config: {}'
                         .format(folder / PARAMS_FILE, err)) from err
    except mx.base.MXNetError as err:  # truncated, empty or not an MXNet parameter file at all
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        reason = lines[-1] if lines else type(err).__name__  # MXNet's C++ trace ends with the actual check
        raise InputError('cannot read the weights in {}: the file is damaged or not an MXNet parameter file ({}); '
                         'restore it from a copy of the model folder'.format(folder / PARAMS_FILE, reason[:200])) \
            from None
    model.kobert_folder = str(folder)
    return model, vocab
