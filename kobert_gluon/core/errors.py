"""The package's error types: which failures a user can fix, and which are bugs.

Anything derived from :class:`KobertGluonError` (and ``OSError``s that name a file: missing, exists,
permission denied, is a directory) is a problem with what the user gave or has on disk: the command line
prints its message as one line (continuation lines, if any, indented below) and exits with status 2. Every
other exception is a bug in this package or a library and keeps its traceback. So library code raises these
types for deliberate, user-facing checks, and lets anything unexpected propagate untouched.

``InputError`` also derives from ``ValueError`` so that code catching ``ValueError`` around the package's
input checks keeps working.
"""

__all__ = ['KobertGluonError', 'InputError', 'IntegrityError', 'InUseError', 'FolderOwnershipError',
           'is_library_panic']


class KobertGluonError(Exception):
    """A problem the user can fix: bad input, a damaged or missing file, a folder in use."""


class InputError(KobertGluonError, ValueError):
    """A value, option or file content that cannot be used as given (the message says why and what to do)."""


class IntegrityError(InputError):
    """A saved file no longer matches the SHA-256 recorded when it was written (changed or damaged on disk)."""


class InUseError(KobertGluonError):
    """A folder or file is being written by another process (it holds the lock)."""


class MissingDependencyError(KobertGluonError, ImportError):
    """A package this feature needs is not installed (the message names the command that installs it)."""


class FolderOwnershipError(KobertGluonError, FileExistsError):
    """A folder holds files this package did not write, so it will not remove or replace them."""


def is_library_panic(err: BaseException) -> bool:
    """Whether ``err`` is a Rust library's panic surfacing in Python (pyo3's ``PanicException``: the ``tokenizers``
    and ``safetensors`` readers panic on some damaged files). It derives from ``BaseException``, so ``except
    Exception`` misses it; a reader of a foreign file turns it into an :class:`InputError` naming the file."""
    return type(err).__name__ == 'PanicException' and type(err).__module__ == 'pyo3_runtime'
