"""The saved-model folder: one directory holding everything needed to rebuild a model.

Layout::

    config.json       format tag, BERT config, which heads were saved, optional task section
    model.params      parameters (float32, or float16 when saved with ``param_dtype='float16'``)
    vocab.json        the gluonnlp BERTVocab
    tokenizer.model   the SentencePiece model

Folders are written atomically (a temporary sibling renamed into place) and never replace an existing
folder unless ``overwrite=True``.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import mxnet as mx

from .atomic_files import ordinary_folder_mode
from .bert_config import BertConfig, build_bert
from .tokenization import load_vocab, vocab_to_json_file

__all__ = ['FORMAT', 'save_model', 'load_model', 'is_model_folder', 'read_config', 'register_task_loader',
           'write_folder_atomically']

FORMAT = 'kobert-gluon-model'
FORMAT_VERSION = 1
CONFIG_FILE = 'config.json'
PARAMS_FILE = 'model.params'
VOCAB_FILE = 'vocab.json'
TOKENIZER_FILE = 'tokenizer.model'

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
    try:
        config = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as err:
        raise ValueError('{} is not valid JSON: {}'.format(path, err)) from err
    if config.get('format') != FORMAT:
        raise ValueError('{} is not a kobert-gluon model config (format is {!r}, expected {!r})'
                         .format(path, config.get('format'), FORMAT))
    if config.get('format_version', 0) > FORMAT_VERSION:
        raise ValueError('{} was written by a newer kobert-gluon (format version {}); upgrade kobert-gluon'
                         .format(path, config.get('format_version')))
    for name in (PARAMS_FILE, VOCAB_FILE, TOKENIZER_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError('model folder {} is incomplete: {} is missing'.format(folder, name))
    return config


def write_folder_atomically(folder, write: Callable[[Path], None], overwrite=False) -> Path:
    """Call ``write(tmp_dir)`` and move the result to ``folder`` only once it has all been written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError('{} exists and is not a folder'.format(folder))
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError('{} already exists and is not empty; choose another folder or pass overwrite=True '
                              '(--overwrite)'.format(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='.{}.tmp-'.format(folder.name), dir=folder.parent))
    ordinary_folder_mode(tmp)
    try:
        write(tmp)
        if folder.is_dir():
            old = Path(tempfile.mkdtemp(prefix='.{}.old-'.format(folder.name), dir=folder.parent))
            os.replace(folder, old / 'previous')
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


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
        raise ValueError('the model carries no BertConfig (it was not built by kobert_gluon); pass config=')
    if config.vocab_size != len(vocab):
        raise ValueError('the vocabulary has {} tokens but the model expects {}'.format(len(vocab), config.vocab_size))
    if param_dtype not in ('float32', 'float16'):
        raise ValueError("param_dtype must be 'float32' or 'float16', got {!r}".format(param_dtype))
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

    return write_folder_atomically(folder, write, overwrite=overwrite)


def load_model(folder, ctx=None, use_pooler=None, use_decoder=None, use_classifier=None, pretrained=True,
               **overrides):
    """Rebuild the model saved in ``folder``; returns ``(model, vocab)``.

    ``use_*`` default to the heads that were saved; asking for a head whose weights the folder does not have
    is an error. ``overrides`` may change non-shape options such as ``dropout``. ``pretrained=False`` builds
    the folder's architecture with its vocabulary but random weights (then shapes may be overridden too).
    """
    folder = Path(folder)
    document = read_config(folder)
    ctx = ctx or mx.cpu(0)
    config = BertConfig.from_dict(document['bert'])
    if overrides:
        from .bert_config import SHAPE_FIELDS
        changed = [k for k in overrides if k in SHAPE_FIELDS and overrides[k] != getattr(config, k)]
        if changed and pretrained:
            raise ValueError('cannot change {} of a saved model: its weights have fixed shapes (pass '
                             'pretrained=False to train such a model from scratch)'.format(', '.join(changed)))
        config = config.replace(**overrides)
    saved = document['heads']
    heads = {'use_pooler': use_pooler, 'use_decoder': use_decoder, 'use_classifier': use_classifier}
    for head, wanted in heads.items():
        if wanted is None:
            heads[head] = saved[head]
        elif wanted and not saved[head] and pretrained:
            raise ValueError('{} was saved without the {} head, so {}=True cannot be loaded; pass {}=False'
                             .format(folder, head[4:], head, head))
    bert = build_bert(config, **heads)
    vocab = load_vocab(folder / VOCAB_FILE)
    task = document.get('task')
    model = bert
    if task:
        kind = task.get('kind')
        if kind not in _TASK_LOADERS:
            raise ValueError('{} holds a {!r} task model, which this kobert-gluon does not know how to load'
                             .format(folder, kind))
        model = _TASK_LOADERS[kind](bert, task)
    if not pretrained:
        from .model_zoo import initialize_random
        initialize_random(model, ctx)
        return model, vocab
    try:
        model.load_parameters(str(folder / PARAMS_FILE), ctx=ctx, ignore_extra=True, cast_dtype=True,
                              dtype_source='current')
    except AssertionError as err:  # mxnet reports missing/mismatched parameters with bare asserts
        raise ValueError('the weights in {} do not fit the model described by its config: {}'
                         .format(folder / PARAMS_FILE, err)) from err
    model.kobert_folder = str(folder)
    return model, vocab
