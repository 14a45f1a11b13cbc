"""What a path given as a model argument actually is, and what to do with it: the one diagnosis of a model argument
that is not a model folder.

:func:`path_kind` recognises what is on disk (a kobert-gluon model, run, vocabulary, pretraining-data or checkpoint
folder by its marker or its files; a transformers checkpoint; a TensorFlow checkpoint; an empty folder; a file;
nothing at all). :func:`model_path_problem` turns it into the one line a user needs where a kobert-gluon model was
expected (``--model``, ``get_model``: :func:`kobert_gluon.hub.catalogue.lookup` and
:func:`kobert_gluon.models.resolution.resolve_model` ask it), :func:`checkpoint_path_problem` where a transformers
checkpoint was (``import-hf``). A missing path is answered with the closest existing sibling (``runs/nsmcc/best``:
did you mean ``runs/nsmc/best``?). A new kind of folder is one more rule in :func:`path_kind` and its sentence in
:data:`_INSTEAD`.

The folder kinds are named here as their owners write them in their markers (``core.owned_folders``); this layer
cannot import the owners (training, pretraining, tokenizers), so their file names are repeated below.
"""
import difflib
import json
from pathlib import Path
from typing import Optional

from ..core.errors import InputError
from ..core.owned_folders import MARKER_FILE, read_marker

__all__ = ['path_kind', 'model_path_problem', 'checkpoint_path_problem', 'check_model_path',
           'check_checkpoint_path', 'closest_existing', 'NotAModelError']


class NotAModelError(InputError, FileNotFoundError):
    """A path given as a model (or a checkpoint to import) is not one: an :class:`InputError` (one line, exit 2),
    and a ``FileNotFoundError`` as a missing model folder always was for callers that catch that."""

MISSING, FILE, EMPTY, MODEL, RUN, UNFINISHED_RUN, CHECKPOINT, VOCABULARY, PRETRAINING_DATA, TRANSFORMERS, \
    TENSORFLOW, OTHER = ('missing', 'file', 'empty', 'model', 'run', 'unfinished-run', 'checkpoint', 'vocabulary',
                         'pretraining-data', 'transformers', 'tensorflow', 'other')

CONFIG_FILE = 'config.json'                    # a model folder's (models/folder.py) and a transformers checkpoint's
MODEL_FORMAT = 'kobert-gluon-model'            # the format field of a model folder's config.json
BEST_FOLDER = 'best'                           # a run folder's best model (training)
RUN_FILE = 'run.json'                          # a run folder's settings (training/run_folder.py)
BUILD_INFO_FILE = 'build_info.json'            # a vocabulary folder's (tokenizers/vocab_builder.py)
MANIFEST_FILE = 'manifest.json'                # pretraining data's (pretraining/data.py)
CHECKPOINT_STATE = 'state.json'                # a training checkpoint's (training/trainer.py)
TRANSFORMERS_WEIGHTS = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'tf_model.h5')
_MARKER_KINDS = {'model': MODEL, 'run': RUN, 'checkpoint': CHECKPOINT, 'vocabulary': VOCABULARY,
                 'pretraining-data': PRETRAINING_DATA, 'hf-export': TRANSFORMERS}


def _read_json(path: Path) -> Optional[dict]:
    try:
        document = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _tensorflow_prefix(path: Path) -> Optional[Path]:
    """The checkpoint prefix ``path`` names (the prefix itself, its ``.index`` file, or a folder holding one)."""
    if path.name.endswith('.index') and path.is_file():
        return path.with_name(path.name[:-len('.index')])
    if not path.is_dir() and path.with_name(path.name + '.index').is_file():
        return path
    if path.is_dir():
        indexes = sorted(path.glob('*.index'))
        if indexes:
            return indexes[-1].with_name(indexes[-1].name[:-len('.index')])
    return None


def path_kind(path) -> str:
    """What ``path`` is: ``model``, ``run`` (with a ``best/`` model), ``unfinished-run`` (no ``best/`` yet),
    ``checkpoint``, ``vocabulary``, ``pretraining-data``, ``transformers``, ``tensorflow``, ``empty`` (a folder),
    ``file``, ``missing`` or ``other`` (a folder of something else)."""
    path = Path(path)
    if _tensorflow_prefix(path) is not None and not (path.is_dir() and (path / CONFIG_FILE).is_file()):
        return TENSORFLOW
    if not path.exists():
        return MISSING
    if not path.is_dir():
        return FILE
    try:
        marker = read_marker(path)
    except InputError:  # a damaged marker: judge the folder by its files
        marker = None
    kind = _MARKER_KINDS.get((marker or {}).get('kind'))
    config = _read_json(path / CONFIG_FILE) if (path / CONFIG_FILE).is_file() else None
    if kind is None:
        if config is not None and config.get('format') == MODEL_FORMAT:
            kind = MODEL  # written before markers existed (0.1)
        elif config is not None and 'model_type' in config or any((path / w).is_file() for w in TRANSFORMERS_WEIGHTS):
            kind = TRANSFORMERS
        elif (path / RUN_FILE).is_file():
            kind = RUN
        elif (path / BUILD_INFO_FILE).is_file():
            kind = VOCABULARY
        elif (path / MANIFEST_FILE).is_file() and any(path.glob('*.npz')):
            kind = PRETRAINING_DATA
        elif (path / CHECKPOINT_STATE).is_file() and any(path.glob('*.params')):
            kind = CHECKPOINT
        elif (path / CONFIG_FILE).is_file():
            kind = MODEL  # a config.json of neither kind: a damaged model folder, which reading it reports
    if kind == RUN and not (path / BEST_FOLDER / CONFIG_FILE).is_file():
        return UNFINISHED_RUN
    if kind is not None:
        return kind
    entries = [entry for entry in path.iterdir() if not entry.name.startswith('.') and entry.name != MARKER_FILE]
    return EMPTY if not entries else OTHER


def closest_existing(path) -> Optional[Path]:
    """The existing path that a missing ``path`` most likely meant: the first missing part replaced by its closest
    sibling name (``runs/nsmcc/best`` -> ``runs/nsmc/best``), or None."""
    path = Path(path)
    parts = path.parts
    for depth in range(len(parts), 0, -1):
        parent = Path(*parts[:depth - 1]) if depth > 1 else Path('.')
        if not parent.is_dir():
            continue
        try:
            siblings = sorted(entry.name for entry in parent.iterdir() if not entry.name.startswith('.'))
        except OSError:
            return None
        match = difflib.get_close_matches(parts[depth - 1], siblings, n=1, cutoff=0.6)
        if not match:
            return None
        guess = parent / match[0] if depth > 1 or path.is_absolute() else Path(match[0])
        guess = guess.joinpath(*parts[depth:])
        return guess if guess.exists() else (parent / match[0] if depth > 1 else Path(match[0]))
    return None


def _missing(path: Path, what: str) -> str:
    guess = closest_existing(path)
    hint = '; did you mean {}?'.format(guess) if guess is not None else ''
    return '{}: no such {}{}'.format(path, what, hint)


# What each kind is, and what to do with it, where a kobert-gluon model was expected ({path}; {prefix}: TensorFlow's)
_INSTEAD = {
    FILE: '{path} is a file, not a model folder: a model is a registered name or a folder holding config.json and '
          'model.params',
    EMPTY: '{path} is an empty folder, not a model folder (a folder holding config.json and model.params)',
    UNFINISHED_RUN: '{path} is a run folder without a best model yet (best/ is written at the first evaluation); '
                    'let the run reach it, resume it with --resume, or give another model',
    CHECKPOINT: '{path} is a training checkpoint, not a model: the model of its run is the run folder\'s best/',
    VOCABULARY: '{path} is a vocabulary folder (build-vocab), not a model: give it to --vocab '
                '(create-pretraining-data, or pretrain / finetune with --from-scratch)',
    PRETRAINING_DATA: '{path} is pretraining data (create-pretraining-data), not a model: give it to pretrain --data',
    TRANSFORMERS: '{path} is a transformers checkpoint, not a kobert-gluon model folder: convert it with '
                  'kobert-gluon import-hf {path} --out DIR (kobert_gluon.import_hf) and use DIR',
    TENSORFLOW: '{path} holds a TensorFlow checkpoint, not a kobert-gluon model folder: convert it with '
                'kobert-gluon import-tf {prefix} --config CONFIG --vocab VOCAB --out DIR and use DIR',
    OTHER: '{path} is not a kobert-gluon model folder: it has no config.json (it holds {entries})',
}


def _entries(path: Path) -> str:
    names = sorted(entry.name + ('/' if entry.is_dir() else '') for entry in path.iterdir()
                   if not entry.name.startswith('.'))
    return ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')


def _say(kind: str, path: Path) -> str:
    if kind == FILE and (path.parent / CONFIG_FILE).is_file() and path_kind(path.parent) == MODEL:
        return '{} is a file of the model folder {}: give the folder itself'.format(path, path.parent)
    prefix = _tensorflow_prefix(path) if kind == TENSORFLOW else None
    return _INSTEAD[kind].format(path=path, prefix=prefix, entries=_entries(path) if kind == OTHER else '')


def model_path_problem(path, kinds=(MODEL, RUN)) -> Optional[str]:
    """None when ``path`` is one of ``kinds`` (by default a model folder, or a run folder meaning its ``best/``);
    else the one line that says what it is instead and what to do with it."""
    path = Path(path)
    kind = path_kind(path)
    if kind in kinds:
        return None
    if kind == MISSING:
        return _missing(path, 'model folder (a model is a registered name or a model folder)')
    return _say(kind, path)


def checkpoint_path_problem(path) -> Optional[str]:
    """None when ``path`` is a transformers checkpoint folder (what import-hf reads); else what it is instead."""
    path = Path(path)
    kind = path_kind(path)
    if kind == TRANSFORMERS:
        return None
    if kind == MISSING:
        return _missing(path, 'folder (give a transformers checkpoint folder or a hub repo id, owner/name)')
    if kind == MODEL:
        return ('{} is already a kobert-gluon model folder: use it directly (--model {}, get_model); '
                'export-hf turns it into a transformers checkpoint'.format(path, path))
    if kind == RUN:
        return ('{} is a kobert-gluon run folder: its best model ({}) is a model folder to use directly '
                '(--model {})'.format(path, path / BEST_FOLDER, path))
    if kind == TENSORFLOW:
        return _say(kind, path).replace('not a kobert-gluon model folder', 'not a transformers checkpoint')
    expected = ('a transformers checkpoint folder (config.json with model.safetensors, pytorch_model.bin or '
                'tf_model.h5)')
    if kind in (FILE, EMPTY, OTHER):
        found = {FILE: 'a file', EMPTY: 'an empty folder', OTHER: 'a folder without config.json'}[kind]
        held = ' (it holds {})'.format(_entries(path)) if kind == OTHER else ''
        return '{} is {}{}; import-hf reads {}'.format(path, found, held, expected)
    return '{}; import-hf reads {}'.format(_say(kind, path), expected)


def check_model_path(path, kinds=(MODEL, RUN)) -> None:
    """Raise the :func:`model_path_problem` of ``path`` as an :class:`InputError`, if it has one."""
    problem = model_path_problem(path, kinds)
    if problem is not None:
        raise NotAModelError(problem)


def check_checkpoint_path(path) -> None:
    """Raise the :func:`checkpoint_path_problem` of ``path`` as an :class:`InputError`, if it has one."""
    problem = checkpoint_path_problem(path)
    if problem is not None:
        raise NotAModelError(problem)
