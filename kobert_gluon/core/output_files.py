"""Files a command writes where the user said (``predict --output``, ``export-onnx --out``): one rule for all.

* never over an input (the same file, a link to it, a file inside an input folder);
* never inside a folder the package owns (a model, run, vocabulary, export, checkpoint or pretraining-data folder):
  a file dropped there would change or break it (``predict --output m/other/config.json`` made a model unloadable).
  The one exception is the folder the writing command itself holds locked (a run writing its own files);
* an existing file is replaced only when asked to (``--overwrite`` / ``overwrite=True``) and only if it is what
  this command writes (an :class:`OutputKind` recognises it by its content: a predictions table, an ONNX export of
  this package), so ``--overwrite`` never turns a user's data file into predictions;
* never half-written (a temporary sibling renamed into place) and never by two processes at once (a lock).

Writers of folders follow the same rules through :mod:`.owned_folders`, which this module shares the "inside an
owned folder" check with (:func:`~.owned_folders.check_outside_owned_folders`).
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from .atomic_files import atomic_write_text
from .errors import FolderOwnershipError, InputError
from .locks import exclusive_lock
from .owned_folders import check_inputs_apart, check_outside_owned_folders

__all__ = ['OutputKind', 'check_output_file', 'write_output_text']


@dataclass(frozen=True)
class OutputKind:
    """What a command writes into a file of the user's choosing. ``label`` names it in messages (``'a predictions
    file'``); ``recognizes(path)`` says whether an existing file is one (it reads the file's content, never its
    name): only such a file may be replaced, and only with ``--overwrite``."""
    label: str
    recognizes: Callable[[Path], bool]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # same device and inode: hard links and symlinks included
    except OSError:
        return False


def check_output_file(path, kind: OutputKind, overwrite: bool = False, inputs: Iterable[Optional[os.PathLike]] = (),
                      what: str = '--output') -> Path:
    """Refuse, before anything is computed or written, an output file that breaks the module's rules: one of
    ``inputs`` (links included) or inside an input folder; inside a folder the package owns; a folder; an
    unwritable place; an existing file without ``overwrite``, or one that ``kind`` does not recognise.

    ``what`` names the option (``--output``, ``--out``) in messages. Returns the path."""
    path = Path(path)
    inputs = list(inputs)
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise InputError('{} {} is the input file {}: writing it would destroy the input; choose another '
                             'output file'.format(what, path, source))
    check_inputs_apart(path, inputs, what)
    check_outside_owned_folders(path, what)
    if path.is_dir():
        raise IsADirectoryError('{} {} is a folder; give a file name'.format(what, path))
    if not path.parent.is_dir():
        raise FileNotFoundError('{} {}: the folder {} does not exist'.format(what, path, path.parent))
    if not os.access(str(path.parent), os.W_OK):
        raise PermissionError('{} {}: cannot write in {} (permission denied)'.format(what, path, path.parent))
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise FileExistsError('{} {} already exists; pass --overwrite (overwrite=True) to replace it, or choose '
                                  'another file'.format(what, path))
        if path.is_symlink() or not path.is_file() or not kind.recognizes(path):
            raise FolderOwnershipError(
                '{} {} exists and is not {} written by kobert-gluon, so --overwrite will not replace it (it only '
                'replaces what this command writes); choose another file, or move that one away first'
                .format(what, path, kind.label))
    return path


def write_output_text(path, text: str, kind: OutputKind, overwrite: bool = False,
                      inputs: Iterable[Optional[os.PathLike]] = (), what: str = '--output') -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, under a lock; refused as :func:`check_output_file` says
    (checked again under the lock: another process may have written the path since the first check)."""
    inputs = list(inputs)
    path = check_output_file(path, kind, overwrite, inputs, what)
    lock = path.with_name('.{}.lock'.format(path.name))
    with exclusive_lock(lock, 'output file {}'.format(path), remove=True):
        check_output_file(path, kind, overwrite, inputs, what)
        atomic_write_text(path, text)
    return path
