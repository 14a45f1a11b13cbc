"""A run folder's layout, and how a reader tells that a run folder is unfinished: plain names, no MXNet.

The names of what a run folder holds (``run.json``, ``checkpoint/``, ``best/``, ...) and the run folder kind's
registration live here, below the trainer and :mod:`.run_folder`, so that importing :mod:`kobert_gluon` registers
the kind (with its ``interrupted`` hook) for every reader: ``predict --model runs/x`` on a folder left half-way
through ``--overwrite`` says what happened and which command restores it, without loading the trainer.
"""
from pathlib import Path
from typing import Optional

from ..core.locks import LOCK_FILE, holds_lock
from ..core.owned_folders import FolderKind, register_folder_kind
from ..hub.catalogue import BEST_MODEL_FOLDER

__all__ = ['RUN_FILE', 'CHECKPOINT_FOLDER', 'METRICS_FILE', 'PLOT_FILE', 'BEST_FOLDER', 'LEGACY_CHECKPOINT_FILE',
           'REPLACED_FOLDER', 'RUN_ENTRIES', 'RUN_KIND', 'replacement_state']

CHECKPOINT_FOLDER = 'checkpoint'
# kobert-gluon 0.1 pickled its checkpoints into one file; they are recognised only to refuse them clearly.
LEGACY_CHECKPOINT_FILE = 'checkpoint.pkl'
METRICS_FILE = 'metrics.json'
PLOT_FILE = 'training.png'
BEST_FOLDER = BEST_MODEL_FOLDER  # what the catalogue's lookup reads a run folder's model from
RUN_FILE = 'run.json'
REPLACED_FOLDER = '.replaced-run'
RUN_ENTRIES = (RUN_FILE, CHECKPOINT_FOLDER, METRICS_FILE, PLOT_FILE, BEST_FOLDER, LEGACY_CHECKPOINT_FILE)


def replacement_state(out) -> Optional[str]:
    """In words, a run folder whose replacement by a new run is unfinished (the previous run still waits in
    ``.replaced-run``), with the commands that finish or undo it; None for a whole run folder."""
    out = Path(out)
    if not (out / REPLACED_FOLDER).is_dir():
        return None
    if holds_lock(out / LOCK_FILE):
        return None  # this process is the run replacing it
    if (out / BEST_FOLDER).is_dir():
        return None  # the new run has its best/: the old one is dropped at the next start in the folder
    new_run = 'that run stopped before its first checkpoint' if not (out / CHECKPOINT_FOLDER).is_dir() else \
        'that run stopped before it wrote a best model; continue it with --resume (same command and options)'
    return ('{} is a run folder left half-way through --overwrite: a new run replaced the previous one, and {}. The '
            'previous run is kept whole in {}; bring it back with: kobert-gluon restore-run {}'
            .format(out, new_run, out / REPLACED_FOLDER, out))


RUN_KIND = register_folder_kind(FolderKind(
    'run', 'run', RUN_ENTRIES + (REPLACED_FOLDER,), legacy=lambda folder: (folder / RUN_FILE).is_file(),
    interrupted=replacement_state)).name
