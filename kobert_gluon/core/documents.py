"""The package's own JSON documents: one writer, one reader, one check of the format header.

Every JSON file the package writes for itself (a model folder's ``config.json``, a run's ``run.json``, a
checkpoint's ``state.json``, a pretraining data manifest, a vocabulary's build info, the folder marker) is
written by :func:`write_json`: UTF-8 (Korean stays readable), indented, through a temporary file so it is never
seen half-written. The versioned ones start with a header, ``{"format": NAME, "format_version": N, ...}``
(the marker and the checkpoint state say ``"version"``), which :func:`read_document` checks in one place: a
file of another kind, and a file from a newer release, are refused with a message that says what to do.
"""
import json
from pathlib import Path
from typing import Any, Dict, Type

from .atomic_files import atomic_write_text
from .errors import InputError, KobertGluonError

__all__ = ['write_json', 'read_json', 'read_document']


def write_json(path, document, indent: int = 2) -> None:
    """Write ``document`` as UTF-8 JSON through a temporary sibling (a crash leaves the old file or the new)."""
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=indent) + '\n')


def read_json(path, advice: str = 'restore it from a copy', error: Type[KobertGluonError] = InputError) -> Any:
    """The parsed JSON of ``path``; a file that is not valid UTF-8 JSON raises ``error`` naming it and ``advice``."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise error('{} is damaged or not JSON ({}); {}'.format(path, str(err).splitlines()[0][:120], advice)) \
            from None


def read_document(path, format: str, version: int, what: str, advice: str = 'restore it from a copy',
                  error: Type[KobertGluonError] = InputError) -> Dict[str, Any]:
    """Read a versioned document: it must be a JSON object whose ``format`` is ``format`` and whose
    ``format_version`` (or ``version``) is at most ``version`` (this release's)."""
    path = Path(path)
    document = read_json(path, advice, error)
    found = document.get('format') if isinstance(document, dict) else None
    if found != format:
        raise error('{} is not a {} (its format is {!r}, expected {!r}); {}'.format(path, what, found, format,
                                                                                   advice))
    written = document.get('format_version', document.get('version', 0))
    if not isinstance(written, int) or written > version:
        raise InputError('{} was written by a newer kobert-gluon ({} version {}; this release reads up to {}); '
                         'upgrade kobert-gluon'.format(path, what, written, version))
    return document


def rows_digest(*row_lists) -> str:
    """SHA-256 of lists of JSON-able rows (``None`` counts as no rows), each list ended by a separator: what a
    resumed run compares to be sure it trains on the data it started with."""
    import hashlib
    digest = hashlib.sha256()
    for rows in row_lists:
        digest.update(json.dumps([] if rows is None else rows, ensure_ascii=False).encode('utf-8'))
        digest.update(b'\0')
    return digest.hexdigest()
