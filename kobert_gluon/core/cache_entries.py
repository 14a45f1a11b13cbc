"""Derived files the package caches (ONNX exports, their int8 versions): built once, recorded, verified when used.

A cache entry is one file that can always be made again from its source (a model folder, another entry). The
rules every such entry follows (this module is their one implementation):

* it is built by one process at a time, under the entry's own lock, into a private temporary folder beside it, so
  concurrent builders (and whatever files a third-party writer puts beside its input or output) never share a
  temporary file; it appears under its name in one rename;
* its SHA-256 (and its source's, when it is made from another file) is recorded beside it in ``NAME.sha256.json``;
* every use checks the file against the record (once per process and file version): a damaged, truncated or
  unrecorded file, or one made from another source, is moved aside (``NAME.corrupt-<time>``) and built again,
  with a warning that says so. A damaged cache never gives an answer.
"""
import contextlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Type

from .atomic_files import ordinary_file_modes
from .documents import read_json, write_json
from .errors import KobertGluonError
from .locks import exclusive_lock
from .owned_folders import sha256_of

__all__ = ['cached_file', 'move_aside', 'record_path', 'CacheEntryError']

log = logging.getLogger(__name__)

RECORD_SUFFIX = '.sha256.json'
BUILD_WAIT_S = 600  # another process building the same entry: wait for it (an export of KoBERT-base takes ~15 s)


class CacheEntryError(KobertGluonError):
    """A cache entry that can be neither used nor moved aside (a read-only cache)."""


def record_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + RECORD_SUFFIX)


def move_aside(path: Path, reason: str, next_step: str, error: Type[KobertGluonError] = CacheEntryError) -> Path:
    """Rename a damaged cached file to ``NAME.corrupt-<time>`` (kept for inspection), warning with ``reason`` and
    ``next_step``; a file that cannot be moved is ``error`` naming it."""
    stamp = time.strftime('%Y%m%d-%H%M%S')
    aside = path.with_name('{}.corrupt-{}'.format(path.name, stamp))
    n = 1
    while aside.exists():
        aside = path.with_name('{}.corrupt-{}-{}'.format(path.name, stamp, n))
        n += 1
    try:
        os.replace(path, aside)
    except OSError as err:
        raise error('{}: {}, and it cannot be moved aside ({}); remove it or make the cache writable'
                    .format(path, reason, err.strerror or err)) from None
    log.warning('%s: %s; moved aside to %s, %s', path, reason, aside.name, next_step)
    return aside


# Files checked in this process, by (path, size, mtime) -> SHA-256: a command that uses an entry twice hashes it once.
_CHECKED: Dict[Tuple[str, int, int], str] = {}


def _problem(path: Path, source_sha256: Optional[str]) -> Optional[str]:
    """Why the entry at ``path`` cannot be used, or None when it matches its record."""
    record_file = record_path(path)
    if not record_file.is_file():
        return 'it has no checksum record (an interrupted build, or a cache from before records were kept)'
    try:
        record = read_json(record_file)
    except KobertGluonError:
        return 'its checksum record {} is damaged'.format(record_file.name)
    if not isinstance(record, dict) or not isinstance(record.get('sha256'), str):
        return 'its checksum record {} is damaged'.format(record_file.name)
    if source_sha256 is not None and record.get('source_sha256') != source_sha256:
        return 'it was made from another version of its source'
    try:
        stat = path.stat()
    except FileNotFoundError:
        return 'it is missing'
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _CHECKED.get(key) == record['sha256']:
        return None
    actual = sha256_of(path)
    if actual != record['sha256']:
        return 'its SHA-256 {}... differs from the one recorded when it was built ({}...): the file is damaged'.format(
            actual[:12], record['sha256'][:12])
    _CHECKED[key] = actual
    return None


def _usable(path: Path, source_sha256: Optional[str]) -> bool:
    """Whether ``path`` can be used as it is; a damaged entry is moved aside (with its record). Call it holding the
    entry's lock: then no builder is between its two renames and no other process moves the same file."""
    if not path.is_file():
        return False
    problem = _problem(path, source_sha256)
    if problem is None:
        return True
    move_aside(path, problem, 'building it again')
    with contextlib.suppress(FileNotFoundError):
        record_path(path).unlink()
    return False


def _sha256(path: Path) -> str:
    """SHA-256 of ``path``, hashed once per process and file version."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        _CHECKED[key] = sha256_of(path)
    return _CHECKED[key]


def cached_file(path, build: Callable[[Path], None], what: str, source: Optional[Path] = None) -> Path:
    """The cache entry ``path``, verified; built first when missing or damaged.

    ``build(target)`` writes the file at ``target`` (a path inside a private temporary folder beside ``path``; it
    may leave other files there, which are removed). ``what`` names the build in lock messages. ``source``: the
    cached file this entry is made from (an int8 file from its ONNX export): the entry is rebuilt when the source
    changes. Concurrent callers wait for one builder (up to ten minutes).
    """
    path = Path(path)
    source_sha256 = _sha256(Path(source)) if source is not None else None
    if path.is_file() and _problem(path, source_sha256) is None:  # the common case: no lock needed to read
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(path.with_name('.{}.lock'.format(path.name)), what, remove=True, wait_s=BUILD_WAIT_S):
        if _usable(path, source_sha256):  # another process built it while this one waited
            return path
        workdir = Path(tempfile.mkdtemp(prefix='.{}.tmp-'.format(path.name), dir=str(path.parent)))
        try:
            target = workdir / path.name
            build(target)
            ordinary_file_modes(workdir)
            digest = sha256_of(target)
            document = {'sha256': digest}
            if source_sha256 is not None:
                document['source'], document['source_sha256'] = Path(source).name, source_sha256
            # the record first, then the file: a reader that finds the file also finds its record (one that finds
            # the record alone sees no file, and waits for this lock)
            write_json(record_path(path), document)
            os.replace(target, path)
            stat = path.stat()
            _CHECKED[(str(path.resolve()), stat.st_size, stat.st_mtime_ns)] = digest
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return path
