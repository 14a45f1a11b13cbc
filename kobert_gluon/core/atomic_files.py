"""Writing files so that they are never seen half-written: a temporary sibling, then ``os.replace``.

Every writer in the package (downloads, checkpoints, run JSON, ONNX files, model folders) goes through here,
so they all agree on two things: the temporary file lives next to its target (same file system, so the
rename is atomic), and the result gets the permissions a plain ``open()`` / ``mkdir()`` would give it rather
than ``mkstemp``'s owner-only 0600.
"""
import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ['current_umask', 'temporary_sibling', 'atomic_write_bytes', 'atomic_write_text', 'ordinary_folder_mode',
           'ordinary_file_modes']


def current_umask() -> int:
    mask = os.umask(0)  # the only portable way to read the umask is to set it and put it back
    os.umask(mask)
    return mask


def ordinary_folder_mode(path) -> None:
    """Give a folder made by ``mkdtemp`` (0700) the mode ``mkdir`` would have given it."""
    os.chmod(path, 0o777 & ~current_umask())


def ordinary_file_modes(folder) -> None:
    """Give every file and folder under ``folder`` the mode ``open``/``mkdir`` would give it under the umask: some
    writers (safetensors' ``save_file``) create their files 0600 through a private temporary file."""
    mask = current_umask()
    for root, dirs, files in os.walk(str(folder)):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777 & ~mask)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o666 & ~mask)


@contextlib.contextmanager
def temporary_sibling(path, suffix='.tmp'):
    """A fresh hidden file next to ``path``, with ordinary permissions; removed unless moved into place."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix='.{}.'.format(path.name), suffix=suffix, dir=str(path.parent))
    os.close(fd)
    os.chmod(name, 0o666 & ~current_umask())
    try:
        yield Path(name)
    finally:
        if os.path.exists(name):
            os.unlink(name)


def atomic_write_bytes(path, data: bytes) -> None:
    """Replace ``path`` by ``data``; a crash at any moment leaves either the old file or the new one."""
    with temporary_sibling(path) as tmp:
        with open(tmp, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode('utf-8'))
