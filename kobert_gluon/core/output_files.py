"""Files a command writes where the user said (``predict --output``): never over an input, never half-written,
never by two processes at once."""
import os
from pathlib import Path
from typing import Iterable, Optional

from .atomic_files import atomic_write_text
from .errors import InputError
from .locks import exclusive_lock
from .owned_folders import check_inputs_apart

__all__ = ['check_output_path', 'write_output_text']


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # same device and inode: hard links and symlinks included
    except OSError:
        return False


def check_output_path(path, inputs: Iterable[Optional[os.PathLike]] = (), what: str = '--output') -> Path:
    """Refuse an output path that is one of ``inputs`` (links included) or inside an input folder, a folder, or
    not writable."""
    path = Path(path)
    inputs = list(inputs)
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise InputError('{} {} is the input file {}: writing it would destroy the input; choose another '
                             'output file'.format(what, path, source))
    check_inputs_apart(path, inputs, what)
    if path.is_dir():
        raise IsADirectoryError('{} {} is a folder; give a file name'.format(what, path))
    if not path.parent.is_dir():
        raise FileNotFoundError('{} {}: the folder {} does not exist'.format(what, path, path.parent))
    if not os.access(str(path.parent), os.W_OK):
        raise PermissionError('{} {}: cannot write in {} (permission denied)'.format(what, path, path.parent))
    return path


def write_output_text(path, text: str, inputs: Iterable[Optional[os.PathLike]] = (), what: str = '--output'):
    """Write ``text`` (UTF-8) to ``path`` atomically, under a lock; refused as :func:`check_output_path` says."""
    path = check_output_path(path, inputs, what)
    lock = path.with_name('.{}.lock'.format(path.name))
    with exclusive_lock(lock, 'output file {}'.format(path), remove=True):
        check_output_path(path, inputs, what)
        atomic_write_text(path, text)
    return path
