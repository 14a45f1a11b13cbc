"""Folders the package owns: which files it wrote there, what may be replaced, and whether they are intact.

Every folder the package creates (a model folder, a run folder, a vocabulary, pretraining data, a training
checkpoint) carries a marker file, ``kobert-gluon-folder.json``, naming the folder's *kind* and the entries
the package wrote there. For folders that are written once and then only read (models, vocabularies,
pretraining data, checkpoints) the marker also records the SHA-256 of every file, and readers verify them:
a file changed or damaged on disk is refused with its name, instead of silently giving wrong answers.

The rules every writer follows (this module is their one implementation):

* a non-empty folder is only replaced when asked to (``overwrite``), only if it is of the same kind, and
  only if it holds nothing but what the package wrote there: other files are named and nothing is removed;
* a folder given as an input of the same command (a corpus inside the output folder) is never replaced;
* write-once folders are written to a temporary sibling, checksummed, and swapped into place under a lock,
  so readers see the old folder or the new one, never a mixture.

Folders written by kobert-gluon 0.1 have no marker; each kind registers how to recognise them
(:func:`register_folder_kind`), and they are read without checksums.
"""
import contextlib
import fnmatch
import glob
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .atomic_files import ordinary_file_modes, ordinary_folder_mode
from .documents import read_document, write_json
from .errors import FolderOwnershipError, IntegrityError, InputError
from .locks import LOCK_FILE, exclusive_lock, holds_lock, remove_unheld_lock

__all__ = ['MARKER_FILE', 'FolderKind', 'register_folder_kind', 'read_marker', 'folder_kind', 'write_marker',
           'record_checksums', 'verify_folder', 'folder_problems', 'WRITE_ONCE_KINDS', 'check_replaceable',
           'write_folder_atomically', 'remove_stale_temporaries', 'sha256_of', 'TEMPORARY_PATTERNS',
           'check_inputs_apart', 'input_on_disk', 'owning_folder', 'check_outside_owned_folders',
           'check_not_interrupted']

log = logging.getLogger(__name__)

MARKER_FILE = 'kobert-gluon-folder.json'
MARKER_FORMAT = 'kobert-gluon-folder'
MARKER_VERSION = 1
# Names of the package's own temporary entries (atomic_files and this module make them): never a user's file,
# and stale once no process holds the folder's lock.
TEMPORARY_PATTERNS = ('.*.tmp', '.*.tmp-*', '.*.old-*', '.*.part', '.*.lock', LOCK_FILE)
_CHUNK = 1 << 22
# Kinds whose files are written once and then only read: their markers record SHA-256s.
WRITE_ONCE_KINDS = ('model', 'vocabulary', 'pretraining-data', 'checkpoint')


@dataclass(frozen=True)
class FolderKind:
    """A kind of folder: ``entries`` are the names it may hold (fnmatch patterns); ``legacy`` recognises a
    folder of this kind written before markers existed; ``label`` names the kind in messages; ``advice`` (with
    ``{folder}``) says what to do with such a folder where another kind was expected; ``interrupted(folder)`` says,
    in words, what an operation stopped half-way left in the folder and the command that finishes or undoes it
    (None when the folder is whole), so that every reader refuses such a folder with that advice."""
    name: str
    label: str
    entries: Tuple[str, ...]
    legacy: Optional[Callable[[Path], bool]] = None
    advice: Optional[str] = None
    interrupted: Optional[Callable[[Path], Optional[str]]] = None


_KINDS: Dict[str, FolderKind] = {}


def register_folder_kind(kind: FolderKind) -> FolderKind:
    _KINDS[kind.name] = kind
    return kind


def _kind(name: str) -> FolderKind:
    if name not in _KINDS:
        raise KeyError('unknown folder kind {!r}; known: {}'.format(name, ', '.join(sorted(_KINDS))))
    return _KINDS[name]


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


# ----- the marker ------------------------------------------------------------------------------------------
def read_marker(folder) -> Optional[dict]:
    """The folder's marker, or None when it has none (not the package's, or written before markers)."""
    path = Path(folder) / MARKER_FILE
    if not path.is_file():
        return None
    return read_document(path, MARKER_FORMAT, MARKER_VERSION, 'kobert-gluon folder marker',
                         advice='the folder cannot be checked. Restore it from a copy, or delete the folder and '
                                'write it again', error=IntegrityError)


def folder_kind(folder) -> Optional[str]:
    """The kind of an existing folder by its marker, or by the legacy rules; None if it is not the package's."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is not None:
        return marker.get('kind')
    for kind in _KINDS.values():
        if kind.legacy is not None and kind.legacy(folder):
            return kind.name
    return None


def write_marker(folder, kind: str, files: Optional[Dict[str, str]] = None, **extra) -> None:
    """Write the marker of ``folder``: its kind, and the SHA-256 of its files when ``files`` is given."""
    _kind(kind)
    document = {'format': MARKER_FORMAT, 'version': MARKER_VERSION, 'kind': kind}
    if files is not None:
        document['sha256'] = dict(sorted(files.items()))
    document.update(extra)
    write_json(Path(folder) / MARKER_FILE, document, indent=1)


def _regular_files(folder: Path) -> List[str]:
    """Relative paths of the files under ``folder`` (subfolders included), marker and temporaries left out."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_temporary(d))
        for name in sorted(files):
            if name == MARKER_FILE or _is_temporary(name):
                continue
            names.append(os.path.relpath(os.path.join(root, name), folder))
    return names


def record_checksums(folder, kind: str) -> Dict[str, str]:
    """Record the SHA-256 of every file of ``folder`` in its marker (for write-once kinds)."""
    folder = Path(folder)
    files = {name: sha256_of(folder / name) for name in _regular_files(folder)}
    write_marker(folder, kind, files)
    return files


# Verified files, by (path, size, mtime): a process that opens the same folder twice hashes it once.
_VERIFIED: Dict[Tuple[str, int, int], str] = {}


def verify_folder(folder, kind: Optional[str] = None, names: Optional[Iterable[str]] = None) -> Optional[dict]:
    """Check the files of ``folder`` against the SHA-256s its marker records; returns the marker.

    ``names`` limits the check to those files (e.g. only the tokenizer of a model folder). Returns None for a
    folder without a marker (written by kobert-gluon 0.1: nothing to check against). Raises
    :class:`~.errors.IntegrityError` naming the first changed or missing file.
    """
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is None:
        return None
    if kind is not None and marker.get('kind') != kind:
        found = _KINDS.get(marker.get('kind'))
        advice = '; ' + found.advice.format(folder=folder) if found is not None and found.advice else ''
        raise InputError('{} is a {} folder, not a {} folder{}'.format(
            folder, _label(marker.get('kind')), _label(kind), advice))
    recorded = marker.get('sha256')
    if recorded is None:
        return marker
    wanted = recorded if names is None else {n: recorded[n] for n in names if n in recorded}
    for name, expected in wanted.items():
        path = folder / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise IntegrityError('{} is missing from {}; the folder is incomplete. Restore the file, or write '
                                 'the folder again'.format(name, folder)) from None
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if _VERIFIED.get(key) == expected:
            continue
        actual = sha256_of(path)
        if actual != expected:
            raise IntegrityError(
                '{} has changed since it was written (SHA-256 {}..., recorded {}... in {}); the file is damaged or '
                'was edited. Restore it from a copy, or if you changed it on purpose, accept the change with: '
                'kobert-gluon verify {} --record'.format(path, actual[:12], expected[:12], MARKER_FILE, folder))
        _VERIFIED[key] = expected
    return marker


def folder_problems(folder) -> List[str]:
    """Every file of ``folder`` that differs from its recorded SHA-256, is missing, or is not recorded, in words
    (empty when the folder is intact). For a report; loading uses :func:`verify_folder`."""
    folder = Path(folder)
    marker = read_marker(folder)
    recorded = (marker or {}).get('sha256')
    if recorded is None:
        return []
    problems = []
    for name, expected in recorded.items():
        path = folder / name
        if not path.is_file():
            problems.append('{}: missing'.format(name))
        elif sha256_of(path) != expected:
            problems.append('{}: changed (SHA-256 differs from the one recorded)'.format(name))
    problems.extend('{}: not recorded (added after the folder was written)'.format(name)
                    for name in _regular_files(folder) if name not in recorded)
    return problems


def _label(kind: Optional[str]) -> str:
    return _KINDS[kind].label if kind in _KINDS else str(kind)


# ----- replacing -------------------------------------------------------------------------------------------
def _is_temporary(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMPORARY_PATTERNS)


def _foreign_entries(folder: Path, kind: FolderKind) -> List[str]:
    allowed = kind.entries + (MARKER_FILE,)
    return sorted(entry.name for entry in folder.iterdir()
                  if not _is_temporary(entry.name)
                  and not any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in allowed))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def input_on_disk(path) -> Optional[Path]:
    """The file or folder on disk that an input argument names, or None (a registered model name, a hub repo id):
    ``FILE#train`` (a hash part of a file) names ``FILE``."""
    if path is None:
        return None
    path = Path(str(path))
    if path.exists() or path.is_symlink():
        return path
    text = str(path)
    if '#' in text:
        base = Path(text.rsplit('#', 1)[0])
        if base.exists():
            return base
    return None


def check_inputs_apart(output, inputs: Iterable, what: str = 'output folder') -> None:
    """Refuse, before anything is touched, an ``output`` that would overwrite or write into what the command
    reads: an input equal to the output, an input inside the output folder (a model inside the run folder that
    replaces it), or an output inside an input folder (a run written into the model it starts from).

    ``inputs`` are the command's input arguments as given (paths, ``FILE#part``s, names that are not paths:
    those are skipped). Every command that writes a file or folder calls this with every path it reads."""
    output = Path(output)
    for given in inputs:
        source = input_on_disk(given)
        if source is None:
            continue
        if _inside(source, output):
            relation = 'is' if source.resolve() == output.resolve() else 'is inside'
            raise InputError('{} {} the {} {}: the command would replace its own input; choose another {}'
                             .format(given, relation, what, output, what))
        if source.is_dir() and _inside(output, source):
            raise InputError('the {} {} is inside the input folder {}: the command would write into its own '
                             'input; choose another {}'.format(what, output, given, what))


def owning_folder(path) -> Optional[Tuple[Path, str]]:
    """The nearest folder above ``path`` that the package owns (by its marker or a legacy rule) and its kind, or
    None. ``path`` itself is not considered: it is what a writer is about to write."""
    path = Path(os.path.abspath(str(path)))
    for folder in path.parents:
        if not folder.is_dir():
            continue
        try:
            kind = folder_kind(folder)
        except (OSError, InputError):  # an unreadable or damaged marker still marks the folder as the package's
            kind = 'unknown'
        if kind is not None:
            return folder, kind
    return None


def check_outside_owned_folders(path, what: str = 'output') -> None:
    """Refuse an output ``path`` inside a folder the package owns (a model, run, vocabulary, export, checkpoint,
    pretraining-data folder): a file or folder written there changes what that folder is or breaks its checksums.
    Allowed only inside the folder that this process holds locked for the command it runs (a run writes its
    ``checkpoint/`` and ``best/`` inside its own run folder)."""
    found = owning_folder(path)
    if found is None:
        return
    owner, kind = found
    if holds_lock(owner / LOCK_FILE):
        return
    if not Path(path).is_absolute():
        owner = Path(os.path.relpath(str(owner)))  # named as the user named the output
    raise InputError('{} {} is inside {}, a kobert-gluon {} folder: writing there would change or break that {}; '
                     'choose a path outside it'.format(what, path, owner, _label(kind), _label(kind)))


def check_not_interrupted(folder) -> None:
    """Refuse, naming what happened and the command that repairs it, a folder that an operation stopped half-way
    (its kind's ``interrupted`` hook says so): every command that reads such a folder says the same."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    try:
        kind = _KINDS.get(folder_kind(folder))
    except InputError:
        return  # a damaged marker is reported by whoever reads the folder
    problem = kind.interrupted(folder) if kind is not None and kind.interrupted is not None else None
    if problem:
        raise InputError(problem)


def check_replaceable(folder, kind: str, overwrite: bool, inputs: Sequence = (), option: str = '--overwrite',
                      exists_hint: Optional[str] = None):
    """Refuse (without touching anything) unless ``folder`` may receive a new folder of ``kind``.

    Returns True when there is an existing folder that will be replaced. ``inputs`` are the paths the command
    reads: none may be the folder, lie inside it, or hold it (:func:`check_inputs_apart`). ``option`` names the
    overwrite switch in messages; ``exists_hint`` replaces the advice given when the folder exists and
    ``overwrite`` is off.
    """
    folder = Path(folder)
    spec = _kind(kind)
    check_inputs_apart(folder, inputs)
    check_outside_owned_folders(folder, 'the output folder')
    if folder.exists() and not folder.is_dir():
        raise FileExistsError('{} exists and is not a folder; choose another output folder'.format(folder))
    if not folder.is_dir() or all(_is_temporary(entry.name) for entry in folder.iterdir()):
        return False  # empty, or only a lock or temporaries of the package's own
    if not overwrite:
        raise FileExistsError('{} already exists and is not empty; {}'.format(
            folder, exists_hint or 'pass {} to replace it, or choose another folder'.format(option)))
    existing = folder_kind(folder)
    if existing is None:
        raise FolderOwnershipError('{} was not written by kobert-gluon (it has no {}), so {} will not replace it; '
                                   'choose another folder'.format(folder, MARKER_FILE, option))
    if existing != kind:
        raise FolderOwnershipError('{} is a {} folder, not a {} folder; {} only replaces a folder of the same '
                                   'kind'.format(folder, _label(existing), spec.label, option))
    foreign = _foreign_entries(folder, spec)
    if foreign:
        raise FolderOwnershipError('{} holds files kobert-gluon did not write ({}{}); move them away first: {} '
                                   'never removes them'.format(folder, ', '.join(foreign[:5]),
                                                               ', ...' if len(foreign) > 5 else '', option))
    return True


def remove_stale_temporaries(folder) -> List[str]:
    """Remove the package's temporary entries left in ``folder`` by a killed write; call it holding the
    folder's lock (then no live writer owns them). A lock file of an entry goes only where no live process holds
    it. Returns the names removed."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.name == LOCK_FILE or not _is_temporary(entry.name):
            continue
        if entry.name.endswith('.lock'):
            if remove_unheld_lock(entry):
                removed.append(entry.name)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed.append(entry.name)
    if removed:
        log.info('%s: removed %d temporary file(s) of an interrupted write', folder, len(removed))
    return removed


def write_folder_atomically(folder, kind: str, write: Callable[[Path], None], overwrite: bool = False,
                            inputs: Sequence = ()) -> Path:
    """Write a write-once folder of ``kind``: ``write(tmp_dir)`` fills a temporary sibling, the SHA-256 of every
    file is recorded, and the result replaces ``folder`` in one rename, under a lock.

    An existing folder is replaced only under the rules of :func:`check_replaceable` (checked before
    ``write`` runs, so a refused command costs nothing).
    """
    folder = Path(folder)
    check_replaceable(folder, kind, overwrite, inputs)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError('cannot create {}: {}'.format(folder.parent, err.strerror or err)) from None
    lock = folder.parent / '.{}.lock'.format(folder.name)
    with exclusive_lock(lock, 'folder {}'.format(folder), remove=True):
        replacing = check_replaceable(folder, kind, overwrite, inputs)  # again: the first check held no lock
        _recover_interrupted_swap(folder)
        for stale in folder.parent.glob(glob.escape('.{}.'.format(folder.name)) + 'tmp-*'):
            shutil.rmtree(stale, ignore_errors=True)  # a killed earlier write of this folder
        tmp = Path(tempfile.mkdtemp(prefix='.{}.tmp-'.format(folder.name), dir=folder.parent))
        ordinary_folder_mode(tmp)
        try:
            write(tmp)
            ordinary_file_modes(tmp)  # whatever wrote them, the files get the umask's modes
            record_checksums(tmp, kind)
            if replacing:
                old = Path(tempfile.mkdtemp(prefix='.{}.old-'.format(folder.name), dir=folder.parent))
                os.replace(folder, old / 'previous')
                os.replace(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                if folder.is_dir():
                    folder.rmdir()  # an empty folder: os.replace cannot move a folder onto it otherwise
                os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _recover_interrupted_swap(folder: Path) -> None:
    """A write killed between its two renames left the old folder in ``.NAME.old-*/previous``: put it back."""
    for old in folder.parent.glob(glob.escape('.{}.'.format(folder.name)) + 'old-*'):
        previous = old / 'previous'
        if not folder.exists() and previous.is_dir():
            os.replace(previous, folder)
            log.warning('%s: restored the folder that an interrupted write had moved aside', folder)
        shutil.rmtree(old, ignore_errors=True)
