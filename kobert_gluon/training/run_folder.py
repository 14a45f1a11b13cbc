"""The run folder that fine-tuning and pretraining share: owning it, locking it, replacing it, resuming it.

A run folder holds ``run.json`` (the run's settings as plain data, plus what the run found in its data), what
the :class:`~.trainer.Trainer` writes (``checkpoint/``, ``metrics.json``, ``training.png``, ``best/``) and the
package's marker (``kobert-gluon-folder.json``, kind ``run``). :class:`RunFolder` owns the rules every kind
of run follows:

* one writer at a time: the folder is locked (``.kobert-gluon.lock``) for the whole run, and a second run
  into it (or an ``--overwrite`` while it trains) is refused naming the process that holds it;
* a new run never writes into a non-empty folder unless asked to (``overwrite``); ``overwrite`` is refused
  unless the folder is a run folder holding only what the package wrote there, and it is only carried out
  after the command has checked all its inputs (:meth:`RunFolder.start`);
* the replaced run is moved into ``.replaced-run`` and kept whole until the new run has a ``best/`` of its own;
  a new run that fails, or is stopped or killed before its first checkpoint, gets the old one back (at once, or
  at the next start in that folder). A new run stopped between its first checkpoint and its first ``best/``
  leaves both: ``--resume`` continues it, :func:`restore_replaced_run` (``kobert-gluon restore-run``) brings
  the old one back, and every command that reads the folder says so (the run kind's ``interrupted`` hook);
* temporary files of a killed write are removed when the next run takes the lock;
* ``resume`` needs ``run.json`` and a checkpoint, and refuses settings that differ from the saved ones
  (except those that cannot change the result, such as the progress bar).
"""
import logging
import os
import shutil
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from ..core.documents import read_json
from ..core.errors import InputError
from ..core.locks import LOCK_FILE, exclusive_lock
from ..core.owned_folders import (MARKER_FILE, check_inputs_apart, check_replaceable, folder_kind,
                                  remove_stale_temporaries, write_marker)
from .run_layout import (BEST_FOLDER, CHECKPOINT_FOLDER, LEGACY_CHECKPOINT_FILE, REPLACED_FOLDER, RUN_ENTRIES,
                         RUN_FILE, RUN_KIND, replacement_state)

__all__ = ['RUN_FILE', 'RunFolder', 'read_run_settings', 'settings_differences', 'RunResult', 'replacement_state',
           'restore_replaced_run']

log = logging.getLogger(__name__)

def restore_replaced_run(out) -> Path:
    """Undo an unfinished ``--overwrite``: the new run's entries are removed and the previous run, kept in
    ``.replaced-run``, is put back (under the folder's lock: not while a run is writing it). Returns ``out``."""
    out = Path(out)
    kind = folder_kind(out)
    if kind != RUN_KIND:
        raise InputError('{} is {}, not a run folder; restore-run brings back a run that an interrupted --overwrite '
                         'replaced'.format(out, 'a {} folder'.format(kind) if kind else 'not a kobert-gluon folder'))
    if not (out / REPLACED_FOLDER).is_dir():
        raise InputError('{} holds no replaced run (no {}); there is nothing to restore'.format(out, REPLACED_FOLDER))
    if (out / BEST_FOLDER).is_dir():
        raise InputError('{}: the run that replaced the previous one has its own best model, so the replacement is '
                         'finished; there is nothing to restore'.format(out))
    with exclusive_lock(out / LOCK_FILE, 'run folder {}'.format(out), remove=True):
        remove_stale_temporaries(out)
        RunFolder._move_entries(out, None)
        RunFolder._move_entries(out / REPLACED_FOLDER, out)
        shutil.rmtree(out / REPLACED_FOLDER, ignore_errors=True)
        write_marker(out, RUN_KIND)
    log.warning('%s: restored the previous run', out)
    return out


class RunFolder:
    """The run folder ``out`` of one training command, held (locked) while the ``with`` block runs.

    ``label`` names the kind of run in messages (``'fine-tuning'``). ``inputs`` are every path the run reads
    (model, teacher, vocabulary, data files: the settings' ``input_paths()``): none may be the run folder, lie
    inside it (``--model runs/x/best --out runs/x`` would move the model aside and delete it at the first
    checkpoint) or hold it; this is checked before anything is created or moved, for new runs and resumed ones.
    Usage::

        with RunFolder(out, 'fine-tuning', resume, overwrite, settings.input_paths()) as run:
            ...check every input: read the data, build the model...
            run.start()                   # a new run: the old one moves aside (kept until the first checkpoint)
            Trainer(..., on_checkpoint=run.checkpoint_written).fit(...)
    """

    def __init__(self, out, label: str, resume: bool, overwrite: bool, inputs: Iterable):
        self.out = Path(out)
        self.inputs = tuple(inputs)
        self.label = label
        self.resume = resume
        self.overwrite = overwrite
        self._created = False
        self._started = False
        self._checkpointed = False
        self._lock = None

    # ----- entering: checks, lock, recovery ------------------------------------------------------------------
    def _check(self) -> None:
        check_inputs_apart(self.out, self.inputs, 'run folder')
        if self.resume:
            if self.out.exists() and not self.out.is_dir():
                raise FileExistsError('{} exists and is not a folder'.format(self.out))
            if not (self.out / RUN_FILE).is_file():
                raise FileNotFoundError('cannot resume: {} is missing (this is not a run folder, or the run stopped '
                                        'before it started); start a new run without --resume'
                                        .format(self.out / RUN_FILE))
            recoverable = (self.out / REPLACED_FOLDER).is_dir()  # __enter__ brings a replaced run back first
            if not (self.out / CHECKPOINT_FOLDER).is_dir() and not (self.out / LEGACY_CHECKPOINT_FILE).is_file() \
                    and not (recoverable and self._lock is None):
                raise FileNotFoundError('cannot resume: {} has no checkpoint yet (the run stopped before its first '
                                        'one); start again with --overwrite'.format(self.out))
            return
        check_replaceable(self.out, RUN_KIND, self.overwrite, option='--overwrite',
                          exists_hint='pass --overwrite to replace the run, --resume to continue it, or choose '
                                      'another --out' + _in_words(replacement_state(self.out)))

    def __enter__(self) -> 'RunFolder':
        self._check()  # before anything is created: a refused command leaves no trace
        if not self.out.exists():
            self.out.mkdir(parents=True)  # a read-only parent: PermissionError naming the folder
            self._created = True
        self._lock = exclusive_lock(self.out / LOCK_FILE, '{} run folder {}'.format(self.label, self.out),
                                    remove=True)
        try:
            self._lock.__enter__()
        except BaseException:
            self._lock = None
            self._remove_if_created()
            raise
        try:
            remove_stale_temporaries(self.out)
            self._recover_replaced_run()
            self._check()  # again, now that no other process can change the folder
        except BaseException as err:
            self.__exit__(type(err), err, err.__traceback__)
            raise
        return self

    def _recover_replaced_run(self) -> None:
        """A run replaced by one that never wrote a checkpoint (it was killed) comes back; one replaced by a run that
        wrote its ``best/`` goes; one replaced by a resumable run without a ``best/`` stays until that run has one."""
        replaced = self.out / REPLACED_FOLDER
        if not replaced.is_dir():
            return
        if (self.out / BEST_FOLDER).is_dir():
            shutil.rmtree(replaced, ignore_errors=True)
            return
        if (self.out / CHECKPOINT_FOLDER).is_dir():
            return
        self._move_entries(self.out, None)  # what the unfinished run wrote
        self._move_entries(replaced, self.out)
        shutil.rmtree(replaced, ignore_errors=True)
        log.warning('%s: restored the previous run (the run that replaced it stopped before its first checkpoint)',
                    self.out)

    @staticmethod
    def _move_entries(source: Path, target: Optional[Path]) -> None:
        """Move the run's own entries of ``source`` into ``target`` (None: delete them)."""
        for name in RUN_ENTRIES:
            path = source / name
            if not (path.exists() or path.is_symlink()):
                continue
            if target is not None:
                os.replace(path, target / name)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    # ----- the run -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin a new run (after its inputs were checked): move a replaced run aside, mark the folder."""
        if self.resume:
            write_marker(self.out, RUN_KIND)  # a legacy run folder gets its marker
            self._started = True
            return
        replaced = self.out / REPLACED_FOLDER
        if replaced.is_dir():
            self._move_entries(self.out, None)  # an unfinished replacement: the whole run before it stays kept
        elif any((self.out / name).exists() for name in RUN_ENTRIES):
            replaced.mkdir()
            self._move_entries(self.out, replaced)
        write_marker(self.out, RUN_KIND)
        self._started = True

    def checkpoint_written(self) -> None:
        """The new run can now be resumed on its own; once it has a ``best/`` (the old run's ``best/`` went into
        ``.replaced-run``, so any ``best/`` here is the new run's), the run it replaced is no longer needed."""
        self._checkpointed = True
        if (self.out / BEST_FOLDER).is_dir():
            shutil.rmtree(self.out / REPLACED_FOLDER, ignore_errors=True)

    # ----- leaving -----------------------------------------------------------------------------------------
    def _remove_if_created(self) -> None:
        """A folder this command created and left holding nothing but the package's files goes again."""
        if not self._created or not self.out.is_dir():
            return
        leftovers = [p.name for p in self.out.iterdir() if p.name not in (LOCK_FILE, MARKER_FILE, RUN_FILE)]
        if not leftovers and not self._checkpointed:
            shutil.rmtree(self.out, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            failed = exc_type is not None and not issubclass(exc_type, KeyboardInterrupt)
            replaced = (self.out / REPLACED_FOLDER).is_dir()
            if replaced and (self.out / BEST_FOLDER).is_dir() and self._started and exc_type is None:
                shutil.rmtree(self.out / REPLACED_FOLDER, ignore_errors=True)  # a finished run
            elif replaced and not (self.out / CHECKPOINT_FOLDER).is_dir():
                self._recover_replaced_run()  # nothing of the new run to continue: the old one comes back now
            elif replaced and self._started:
                log.warning('%s: this run has no best model yet, so the run it replaces is kept: continue this '
                            'run with --resume, or bring the previous one back with: kobert-gluon restore-run %s',
                            self.out, self.out)
            if failed and not self._checkpointed and not self.resume:
                self._remove_if_created()
        finally:
            if self._lock is not None:
                lock, self._lock = self._lock, None
                lock.__exit__(None, None, None)


def _in_words(problem: Optional[str]) -> str:
    return '' if problem is None else ' ({})'.format(problem)


def read_run_settings(out) -> Dict[str, Any]:
    """The ``settings`` section of ``out/run.json`` (what a resumed run must match)."""
    return read_run_document(out)['settings']


def read_run_document(out) -> Dict[str, Any]:
    """The whole ``out/run.json``: settings and what the run found in its data."""
    path = Path(out) / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError('{} has no {}; there is no run to continue'.format(out, RUN_FILE))
    advice = 'the run cannot be continued: start it again with --overwrite'
    document = read_json(path, advice)
    if not isinstance(document, dict) or not isinstance(document.get('settings'), dict):
        raise InputError('{} is damaged (it has no settings section); {}'.format(path, advice))
    return document


def _flatten(values: Dict[str, Any], keep_whole: Iterable[str], prefix='') -> Dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in keep_whole:
            flat.update(_flatten(value, keep_whole, prefix + key + '.'))
        else:
            flat[prefix + key] = value
    return flat


def check_resumed_settings(out, saved: Dict[str, Any], settings: Dict[str, Any],
                           result_neutral: Iterable[str] = ()) -> None:
    """A resumed run continues the run saved in ``out``: its settings document must be the ``saved`` one (as
    ``out``'s run.json holds it, or as its settings class reads it back) but for the ``result_neutral`` fields, or
    the resumption is refused naming every difference."""
    differences = settings_differences(saved, settings, result_neutral)
    if differences:
        raise InputError('cannot resume {} with other settings: {}'.format(out, '; '.join(differences)))


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

    def summary(self, unit: str) -> str:
        """The last line a training command prints: the best dev figure (at which ``unit``, ``'epoch'`` or
        ``'step'``) and the model folder."""
        best = self.best
        if best and best.get('metric'):
            return 'best dev {} {:.4f} at {} {}; model: {}'.format(best['metric'], best['value'], unit, best[unit],
                                                                 self.model_dir)
        return 'model: {}'.format(self.model_dir)
