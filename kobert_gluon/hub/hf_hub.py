"""Hugging Face hub repositories as verified snapshots in the artifact store.

A snapshot is the files of one repository at one commit, each checked against the checksum the hub itself publishes
for it: the SHA-256 of files stored with Git LFS (weights), git's object id (``git-blob-sha1``) of the others
(``config.json``, ``vocab.txt``). The hub's file list for a revision (``/api/models/REPO/revision/REV?blobs=true``,
the call ``huggingface_hub.HfApi.model_info(files_metadata=True)`` makes) gives the commit and those checksums; every
download is then pinned to that commit (``/REPO/resolve/COMMIT/FILE``), so a branch moving on between two files
cannot mix two versions. Files go through :func:`artifact_store.fetch` (cache, mirror, locks, corrupt files moved
aside) under ``huggingface/REPO/COMMIT/FILE``.

The list is saved next to the snapshot (``huggingface/REPO/listings/COMMIT.json``, and the commit a revision named in
``refs/REV``), so a snapshot fetched once is found again offline (``KOBERT_GLUON_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``)
and still verified file by file. ``HF_ENDPOINT`` points at another hub, as it does for huggingface_hub.
"""
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

from ..core.atomic_files import temporary_sibling
from ..core.errors import InputError
from ..core.progress import counted
from . import artifact_store
from .artifact_store import Artifact, ArtifactNotFoundError

__all__ = ['snapshot', 'is_repo_id', 'endpoint', 'SNAPSHOTS_FOLDER']

ENV_ENDPOINT = 'HF_ENDPOINT'
ENV_HF_OFFLINE = 'HF_HUB_OFFLINE'
DEFAULT_ENDPOINT = 'https://huggingface.co'
SNAPSHOTS_FOLDER = 'huggingface'
_REPO_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$')
_COMMIT = re.compile(r'^[0-9a-f]{40}$')
_TIMEOUT_S = 30

log = logging.getLogger(__name__)


def endpoint() -> str:
    return (os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT).rstrip('/')


def is_repo_id(text) -> bool:
    """``owner/name`` and not a local path: a hub repository id."""
    text = str(text)
    return bool(_REPO_ID.match(text)) and not Path(text).exists()


def _offline() -> bool:
    hub_offline = os.environ.get(ENV_HF_OFFLINE, '').strip().lower() in ('1', 'true', 'yes', 'on')
    return artifact_store.is_offline() or hub_offline


def _download_hint(repo_id: str, revision: str) -> str:
    return ('download it where a network is available (hf download {} --revision {} --local-dir DIR) '
            'and pass DIR instead'.format(repo_id, revision))


def _repo_dir(root: Path, repo_id: str) -> Path:
    return root / SNAPSHOTS_FOLDER / repo_id


def _saved_listing(repo_dir: Path, revision: str) -> Optional[Dict]:
    commit = revision if _COMMIT.match(revision) else None
    if commit is None:
        ref = repo_dir / 'refs' / revision
        if not ref.is_file():
            return None
        commit = ref.read_text(encoding='utf-8').strip()
    path = repo_dir / 'listings' / '{}.json'.format(commit)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding='utf-8'))


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_sibling(path) as tmp:
        tmp.write_text(text, encoding='utf-8')
        os.replace(tmp, path)


def _check_listing(listing, repo_id: str, revision: str) -> Dict:
    if not isinstance(listing, dict) or not _COMMIT.match(str(listing.get('sha', ''))) \
            or not isinstance(listing.get('siblings'), list):
        raise ArtifactNotFoundError('the hub\'s file list of {} at {} is not what was expected (no commit or no '
                                    'files); {}'.format(repo_id, revision, _download_hint(repo_id, revision)))
    return listing


def _fetch_listing(repo_id: str, revision: str, repo_dir: Path) -> Dict:
    """The hub's file list for ``revision`` (saved for offline use), or the saved one when offline."""
    saved = _saved_listing(repo_dir, revision)
    if _offline():
        if saved is None:
            raise ArtifactNotFoundError('cannot get hub repo {} at {}: working offline and it was never fetched into '
                                        'this cache; {}'.format(repo_id, revision, _download_hint(repo_id, revision)))
        return saved
    url = '{}/api/models/{}/revision/{}?blobs=true'.format(endpoint(), repo_id, urllib.parse.quote(revision, safe=''))
    request = urllib.request.Request(url, headers={'User-Agent': 'kobert-gluon'})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            listing = json.loads(response.read().decode('utf-8'))
    except urllib.error.HTTPError as err:
        if err.code in (401, 404):
            raise InputError('hub repo {} at revision {} was not found ({}: HTTP {}); check the name and revision '
                             '(a private repo: log in with hf auth login, download it with hf download and pass '
                             'the folder)'
                             .format(repo_id, revision, url, err.code)) from None
        problem = 'HTTP {} {}'.format(err.code, err.reason)
    except (urllib.error.URLError, OSError, ValueError) as err:
        problem = str(getattr(err, 'reason', None) or err)
    else:
        listing = _check_listing(listing, repo_id, revision)
        commit = listing['sha']
        _write_text(repo_dir / 'listings' / '{}.json'.format(commit), json.dumps(listing, indent=1))
        if revision != commit:
            _write_text(repo_dir / 'refs' / revision, commit + '\n')
        return listing
    if saved is not None:
        log.warning('cannot reach the hub for %s (%s); using the file list fetched earlier '
                                   '(commit %s)', repo_id, problem, saved['sha'])
        return saved
    raise ArtifactNotFoundError('cannot get the file list of hub repo {} at {} ({}: {}); {}'.format(
        repo_id, revision, url, problem, _download_hint(repo_id, revision)))


def _artifact(repo_id: str, commit: str, sibling: Dict) -> Artifact:
    name = sibling['rfilename']
    if name.startswith('/') or '..' in name.split('/'):
        raise ArtifactNotFoundError('hub repo {} lists a file named {!r}; refused'.format(repo_id, name))
    lfs = sibling.get('lfs')
    if lfs and lfs.get('sha256'):
        algorithm, checksum = 'sha256', lfs['sha256']
    elif sibling.get('blobId'):
        algorithm, checksum = artifact_store.GIT_BLOB_SHA1, sibling['blobId']
    else:
        raise ArtifactNotFoundError('the hub publishes no checksum for {} of {}; it cannot be verified'
                                    .format(name, repo_id))
    url = '{}/{}/resolve/{}/{}'.format(endpoint(), repo_id, commit, urllib.parse.quote(name))
    return Artifact('{}/{}/{}/{}'.format(SNAPSHOTS_FOLDER, repo_id, commit, name), algorithm, checksum.lower(),
                    (url,), '{} of hub repo {} at commit {}'.format(name, repo_id, commit[:10]))


def snapshot(repo_id: str, revision: str = 'main', select: Optional[Callable[[List[str]], Iterable[str]]] = None,
             cachedir=None, mirror=None) -> Path:
    """The local folder holding hub repository ``repo_id`` at ``revision`` (a branch, tag or commit): every file, or
    the ones ``select`` picks from the list of file names, each verified against the hub's checksum.

    Raises :class:`ArtifactNotFoundError` (saying how to download the repository by hand) when the hub cannot be
    reached and the snapshot was never fetched, and ``InputError`` for a repository or revision that does not exist.
    """
    if not _REPO_ID.match(str(repo_id)):
        raise InputError('{!r} is not a hub repo id (owner/name)'.format(repo_id))
    root = artifact_store.cache_root(cachedir)
    repo_dir = _repo_dir(root, repo_id)
    listing = _fetch_listing(repo_id, revision, repo_dir)
    commit = listing['sha']
    siblings = {sibling['rfilename']: sibling for sibling in listing['siblings']}
    names = list(select(list(siblings))) if select is not None else list(siblings)
    # (each file's own download shows its bytes wherever the command line does not turn progress off)
    for name in counted(names, desc='fetching and verifying {} at {}'.format(repo_id, commit[:12]), unit='files'):
        artifact = _artifact(repo_id, commit, siblings[name])
        artifact_store.MANIFEST.pop(artifact.name, None)  # the listing just read is the authority for this name
        artifact_store.register_artifact(artifact)
        artifact_store.fetch(artifact.name, cachedir=cachedir, mirror=mirror)
    return repo_dir / commit
