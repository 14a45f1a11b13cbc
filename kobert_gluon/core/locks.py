"""Advisory locks, so that two processes never write the same run folder, output file or cache entry.

A lock is ``fcntl.flock`` on a small lock file. The kernel drops it when its process ends, however it ends
(``kill -9`` included), so a lock left behind by a dead process never blocks anyone: there is no stale-lock
cleanup to get wrong. The lock file records who holds it (pid, command, start time) so that a refused second
writer can say which process is in the way.

Locks are non-blocking: a second writer is refused at once with :class:`~.errors.InUseError` rather than
waiting behind a training run that may take hours. ``remove=True`` deletes the lock file on release (for
lock files next to a user's output file); the holder re-checks after locking that the file it locked is still
the one at the path, so removal cannot let two processes hold "the same" lock.
"""
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from .errors import InUseError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, writes stay atomic
    fcntl = None

__all__ = ['exclusive_lock', 'lock_holder', 'holds_lock', 'remove_unheld_lock', 'LOCK_FILE']

LOCK_FILE = '.kobert-gluon.lock'
# The lock files this process holds now (real paths): a writer asks whether a folder is its own command's
# (a run writing its checkpoint inside the run folder it locked) before it writes inside a folder the package owns.
_HELD = set()


def holds_lock(path) -> bool:
    """Whether this process holds the lock file ``path`` now."""
    return os.path.realpath(str(path)) in _HELD


def _describe_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding='utf-8'))
        started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['started']))
        return 'process {} ({}, started {})'.format(holder['pid'], holder['command'], started)
    except (OSError, ValueError, KeyError, TypeError):
        return 'another process'


def lock_holder(path) -> str:
    """Who holds the lock file ``path``, in words (for messages)."""
    return _describe_holder(Path(path))


@contextlib.contextmanager
def exclusive_lock(path, what: str, remove: bool = False, wait_s: float = 0.0):
    """Hold an exclusive lock on the lock file ``path`` while the block runs.

    ``what`` names the locked thing in the refusal, e.g. ``'run folder runs/nsmc'``. Raises
    :class:`~.errors.InUseError` when another live process holds it: at once, or after waiting up to
    ``wait_s`` seconds for it (for short critical sections, such as another process fetching the same file).
    """
    path = Path(path)
    if fcntl is None:
        yield
        return
    deadline = time.monotonic() + wait_s
    while True:
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise InUseError('{} is in use by {}; wait for it to finish or stop it, or choose another path'
                             .format(what, _describe_holder(path))) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(str(path)).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder before us removed the file after we opened it: lock the new one
    try:
        command = next((arg for arg in sys.argv[1:] if not arg.startswith('-')), '')  # the subcommand
        record = {'pid': os.getpid(), 'command': 'kobert-gluon {}'.format(command).strip(), 'started': time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode('utf-8'), 0)
        held = os.path.realpath(str(path))
        _HELD.add(held)
        yield
    finally:
        _HELD.discard(os.path.realpath(str(path)))
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(path))
        os.close(fd)  # releases the lock


def remove_unheld_lock(path) -> bool:
    """Delete the lock file ``path`` if no live process holds it (one a killed process left, as ``kill -9`` during a
    checkpoint leaves ``.checkpoint.lock``): harmless, but clutter in a folder that is meant to be restored whole.
    Safe against a process locking it meanwhile: :func:`exclusive_lock` re-checks after locking that the file it
    locked is still the one at the path. Returns whether it was deleted."""
    if fcntl is None:
        return False
    try:
        fd = os.open(str(path), os.O_RDWR)
    except (FileNotFoundError, IsADirectoryError):
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live process holds it
        try:
            if os.fstat(fd).st_ino != os.stat(str(path)).st_ino:
                return False
            os.unlink(str(path))
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)
