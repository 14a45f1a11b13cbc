"""The run folder that fine-tuning and pretraining share: creating it safely, its ``run.json``, resuming it.

A run folder holds ``run.json`` (the run's settings as plain data, plus what the run found in its data) and
what the :class:`~.trainer.Trainer` writes (``checkpoint.pkl``, ``metrics.json``, ``training.png``, ``best/``).
This module owns the rules every kind of run follows:

* a new run never writes into a non-empty folder unless asked to (``overwrite``), and ``overwrite`` only
  ever empties a folder that is a run folder (it has a ``run.json``), so a mistyped ``--out`` loses nothing;
* ``resume`` needs ``run.json`` and a checkpoint, and refuses settings that differ from the saved ones
  (except those that cannot change the result, such as the progress bar).
"""
import json
import shutil
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from .atomic_files import atomic_write_text
from .trainer import BEST_FOLDER, CHECKPOINT_FILE, METRICS_FILE, PLOT_FILE

__all__ = ['RUN_FILE', 'prepare_run_folder', 'write_json', 'read_run_settings', 'settings_differences']

RUN_FILE = 'run.json'
RUN_ENTRIES = (RUN_FILE, CHECKPOINT_FILE, METRICS_FILE, PLOT_FILE, BEST_FOLDER)


def prepare_run_folder(out: Path, resume: bool, overwrite: bool, kind: str = 'training') -> None:
    """Make ``out`` ready for a new run (or check it can be resumed); ``kind`` names the run in errors."""
    out = Path(out)
    if resume:
        for name in (RUN_FILE, CHECKPOINT_FILE):
            if not (out / name).is_file():
                raise FileNotFoundError('cannot resume: {} is missing (the run stopped before its first checkpoint, '
                                        'or this is not a run folder); start again with --overwrite'
                                        .format(out / name))
        return
    if out.exists() and not out.is_dir():
        raise FileExistsError('{} exists and is not a folder'.format(out))
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError('{} already exists and is not empty; pass --overwrite to replace the run, '
                                  '--resume to continue it, or choose another --out'.format(out))
        if not (out / RUN_FILE).is_file():
            raise FileExistsError('{} is not a {} run folder (no {}); --overwrite only replaces runs'
                                  .format(out, kind, RUN_FILE))
        for name in RUN_ENTRIES:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def write_json(path: Path, document) -> None:
    """Write ``document`` as indented UTF-8 JSON through a temporary file (never half-written)."""
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=2) + '\n')


def read_run_settings(out) -> Dict[str, Any]:
    """The ``settings`` section of ``out/run.json`` (what a resumed run must match)."""
    path = Path(out) / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError('{} has no {}; there is no run to continue'.format(out, RUN_FILE))
    return json.loads(path.read_text(encoding='utf-8'))['settings']


def _flatten(values: Dict[str, Any], keep_whole: Iterable[str], prefix='') -> Dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in keep_whole:
            flat.update(_flatten(value, keep_whole, prefix + key + '.'))
        else:
            flat[prefix + key] = value
    return flat


def settings_differences(old: Dict[str, Any], new: Dict[str, Any], result_neutral: Iterable[str] = (),
                         keep_whole: Iterable[str] = ('model_overrides',)) -> List[str]:
    """``'name: old -> new'`` for every differing setting of two settings documents (nested sections are
    compared field by field as ``section.field``), except the ``result_neutral`` field names."""
    a, b = _flatten(old, tuple(keep_whole)), _flatten(new, tuple(keep_whole))
    neutral = set(result_neutral)
    return ['{}: {!r} -> {!r}'.format(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and k.split('.')[-1] not in neutral]


@dataclass
class RunResult:
    """What a training run (fine-tuning or pretraining) left: its folder, its history, whether it was stopped."""
    out_dir: Path
    history: Dict[str, Any]
    interrupted: bool

    @property
    def best(self) -> Optional[Dict[str, Any]]:
        return self.history.get('best')

    @property
    def model_dir(self) -> Path:
        return self.out_dir / BEST_FOLDER
