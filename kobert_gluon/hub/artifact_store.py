"""The artifact store: every file that is not code.

It owns the manifest of official KoBERT files (name, checksum, where they come from), the cache folder,
the local mirror, downloads and checksum verification. Models and tokenizers ask this module for a path
and never touch the network themselves.

Resolution order for a file ``NAME``:

1. ``<cache root>/NAME`` if it is there and its checksum verifies;
2. the mirror (``KOBERT_GLUON_MIRROR`` or the ``mirror`` argument): a folder, or a URL prefix, looked up
   by file name;
3. the official URLs from the manifest (skipped when ``KOBERT_GLUON_OFFLINE=1``).

A file is written to a temporary name first and renamed into place only after its checksum verifies. A
cached file whose checksum fails is never used: it is moved aside (``NAME.corrupt-<time>``) with a
message and fetched again once.

``NAME`` may hold slashes (``huggingface/skt/kobert-base-v1/<commit>/config.json``): the file then lives in that
sub-folder of the cache and of a mirror. An artifact with an ``archive_member`` is published inside a zip (GluonNLP's
model zoo): its URLs give the zip, the member is taken out and verified; a mirror holds the member itself.
"""
import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..core.atomic_files import temporary_sibling
from ..core.cache_entries import move_aside
from ..core.locks import exclusive_lock
from ..core.errors import InputError, KobertGluonError
from ..core.progress import steps

__all__ = [
    'Artifact', 'ArtifactError', 'ArtifactNotFoundError', 'ChecksumMismatchError', 'MANIFEST',
    'cache_root', 'checksum_of', 'fetch', 'fetch_first', 'artifact_status', 'register_artifact',
    'download_url',
]

ENV_HOME = 'KOBERT_GLUON_HOME'
ENV_MIRROR = 'KOBERT_GLUON_MIRROR'
ENV_OFFLINE = 'KOBERT_GLUON_OFFLINE'
DEFAULT_CACHE = Path('~/.cache/kobert_gluon')
_CHUNK = 1 << 20
_TIMEOUT_S = 30
# How long a process waits for another that is fetching the same file (a 350 MB download on a slow line).
_LOCK_WAIT_S = 1800
# Git's object id of a file (what the Hugging Face hub publishes for files not stored with LFS)
GIT_BLOB_SHA1 = 'git-blob-sha1'

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Artifact:
    """One official file: its name in the cache, its checksum and where it can be downloaded.

    ``checksum`` may be a full hex digest or a prefix of one: the original KoBERT project published
    10-hex-digit md5 prefixes for its files, and those are all that is known for some of them. ``algorithm`` is a
    hashlib name or ``git-blob-sha1`` (git's object id of the file).
    """
    name: str
    algorithm: str
    checksum: str
    urls: Tuple[str, ...] = ()
    description: str = ''
    archive_member: Optional[str] = None

    def __post_init__(self):
        if self.algorithm not in hashlib.algorithms_guaranteed and self.algorithm != GIT_BLOB_SHA1:
            raise ValueError('unknown checksum algorithm {!r} for {}'.format(self.algorithm, self.name))
        if len(self.checksum) < 8 or any(c not in '0123456789abcdef' for c in self.checksum):
            raise ValueError('checksum of {} must be at least 8 lowercase hex digits, got {!r}'
                             .format(self.name, self.checksum))

    @property
    def checksum_text(self) -> str:
        full = 40 if self.algorithm == GIT_BLOB_SHA1 else hashlib.new(self.algorithm).digest_size * 2
        kind = 'prefix' if len(self.checksum) < full else ''
        return '{} {}{}'.format(self.algorithm, self.checksum, ' (' + kind + ')' if kind else '')

    def matches(self, digest: str) -> bool:
        return digest.startswith(self.checksum)


_HF_LEGACY = 'https://huggingface.co/skt/kobert-base-v1/resolve/main/legacy/'
_GLUON_MODELS = 'https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/gluon/models/'
_EAGLE = ('https://raw.githubusercontent.com/eagle705/pytorch-bert-crf-ner/'
          '9170e8113bef9b74d879177fd2a457ed556ee1c0/ptr_lm_model/')

MANIFEST: Dict[str, Artifact] = {}


def register_artifact(artifact: Artifact) -> Artifact:
    """Add a file to the manifest (a model zoo entry that brings its own files calls this)."""
    existing = MANIFEST.get(artifact.name)
    if existing is not None and existing != artifact:
        raise ValueError('artifact {} is already registered with different metadata'.format(artifact.name))
    MANIFEST[artifact.name] = artifact
    return artifact


for _artifact in (
        Artifact('mxnet_kobert_45b6957552.params', 'md5', '45b6957552',
                 (_HF_LEGACY + 'mxnet_kobert_45b6957552.params',),
                 'KoBERT-base pretrained weights for MXNet/Gluon (about 350 MB)'),
        # GluonNLP 0.10's own model-zoo copy of KoBERT (bert_12_768_12, dataset kobert_news_wiki_ko_cased): the
        # full SHA-1 is the one in gluonnlp/model/bert.py; the zoo publishes the params file inside a zip named
        # after its first 8 digits, as mxnet's model_store fetches it.
        Artifact('bert_12_768_12_kobert_news_wiki_ko_cased-ccf0593e.params', 'sha1',
                 'ccf0593e03b91b73be90c191d885446df935eb64',
                 (_GLUON_MODELS + 'bert_12_768_12_kobert_news_wiki_ko_cased-ccf0593e.zip',),
                 'KoBERT-base pretrained weights from GluonNLP\'s model zoo (about 350 MB; same parameter names)',
                 archive_member='bert_12_768_12_kobert_news_wiki_ko_cased-ccf0593e.params'),
        Artifact('kobert_news_wiki_ko_cased-1087f8699e.spiece', 'md5', 'ae5711deb3',
                 (_HF_LEGACY + 'kobert_news_wiki_ko_cased-1087f8699e.spiece',),
                 'KoBERT SentencePiece model, as shipped with the original Gluon package'),
        Artifact('tokenizer_78b3253a26.model', 'md5', '78b3253a26b9e6937c25a1c1f33fbeba',
                 (_EAGLE + 'tokenizer_78b3253a26.model',),
                 'KoBERT SentencePiece model (8,000 pieces), same segmentation as the .spiece file'),
        Artifact('kobertvocab_f38b8a4d6d.json', 'md5', 'f38b8a4d6dcc3e684fc6df2673ec05bb',
                 (_EAGLE + 'kobertvocab_f38b8a4d6d.json',),
                 'the original KoBERT BERTVocab (8,002 tokens, [UNK]=0 [PAD]=1 [CLS]=2 [SEP]=3 [MASK]=4)'),
):
    register_artifact(_artifact)


class ArtifactError(KobertGluonError, RuntimeError):
    """Base class of the store's errors (a user can fix them: a missing, damaged or unreachable file)."""


class ChecksumMismatchError(ArtifactError):
    """A file's content does not match the manifest."""


class ArtifactNotFoundError(ArtifactError):
    """No source could provide a verified copy of a file."""


def cache_root(cachedir=None) -> Path:
    """The folder files are cached in: ``cachedir``, else ``$KOBERT_GLUON_HOME``, else ``~/.cache/kobert_gluon``."""
    root = cachedir if cachedir is not None else os.environ.get(ENV_HOME) or DEFAULT_CACHE
    return Path(root).expanduser()


def checksum_of(path, algorithm: str = 'md5') -> str:
    if algorithm == GIT_BLOB_SHA1:
        digest = hashlib.sha1(b'blob %d\0' % os.path.getsize(path))
    else:
        digest = hashlib.new(algorithm)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _lookup(name: str) -> Artifact:
    try:
        return MANIFEST[name]
    except KeyError:
        raise ArtifactError('unknown artifact {!r}; known files: {}'.format(name, ', '.join(sorted(MANIFEST))))


def is_offline() -> bool:
    return os.environ.get(ENV_OFFLINE, '').strip().lower() in ('1', 'true', 'yes', 'on')


def _sources(artifact: Artifact, mirror) -> List[Tuple[str, Optional[str]]]:
    """Candidate locations (local paths or URLs), mirror first, each with the zip member to take out of it (None:
    the location is the file itself)."""
    sources = []
    mirror = mirror if mirror is not None else os.environ.get(ENV_MIRROR)
    if mirror:
        mirror = str(mirror)
        if '://' in mirror:
            sources.append((mirror.rstrip('/') + '/' + urllib.parse.quote(artifact.name), None))
        else:
            sources.append((str(Path(mirror).expanduser() / artifact.name), None))
    if not is_offline():
        sources.extend((url, artifact.archive_member) for url in artifact.urls)
    return sources


def _copy_into(source: str, target: Path, desc: str, member: Optional[str] = None) -> None:
    """Copy a local path or download a URL into ``target`` (which is a temporary file); with ``member``, the source
    is a zip and ``target`` gets that member of it."""
    if member is not None:
        with temporary_sibling(target, suffix='.zip') as archive:
            _copy_into(source, archive, desc)
            try:
                with zipfile.ZipFile(archive) as zf, zf.open(member) as inside, open(target, 'wb') as out:
                    shutil.copyfileobj(inside, out, _CHUNK)
            except KeyError:
                raise OSError('the archive has no {}'.format(member)) from None
            except zipfile.BadZipFile:
                raise OSError('not a zip archive') from None
        return
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ('http', 'https', 'ftp', 'file'):
        request = urllib.request.Request(source, headers={'User-Agent': 'kobert-gluon'})
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, open(target, 'wb') as out:
            length = response.headers.get('Content-Length')
            # shown unless the command line says not to (--no-progress, --quiet): a download can take minutes
            with steps(int(length) if length else None, desc, unit='B', default=True) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b''):
                    out.write(chunk)
                    bar.update(len(chunk))
    else:
        if not Path(source).is_file():
            raise FileNotFoundError(source)
        shutil.copyfile(source, target)


def _move_aside(path: Path, reason: str) -> Path:
    return move_aside(path, reason, 'fetching it again', error=ArtifactError)


def _verify(artifact: Artifact, path: Path) -> Optional[str]:
    """None when ``path`` verifies, else a sentence saying what is wrong."""
    digest = checksum_of(path, artifact.algorithm)
    if artifact.matches(digest):
        return None
    return 'checksum mismatch ({} is {}, expected {})'.format(artifact.algorithm, digest, artifact.checksum_text)


def _not_found_message(artifact: Artifact, root: Path, failures: Sequence[str]) -> str:
    lines = ['cannot get {} ({})'.format(artifact.name, artifact.description) if artifact.description
             else 'cannot get {}'.format(artifact.name),
             '  checksum: {}'.format(artifact.checksum_text)]
    if artifact.urls:
        lines.append('  official source: {}'.format(' or '.join(artifact.urls)))
    lines.append('  put the file at: {}'.format(root / artifact.name)
                 + (' (taken out of the zip)' if artifact.archive_member else ''))
    lines.append('  or point {} at a folder (or URL prefix) holding it, or run: '
                 'kobert-gluon fetch {} --from DIR'.format(ENV_MIRROR, artifact.name))
    if is_offline():
        lines.append('  ({} is set, so official URLs were not tried)'.format(ENV_OFFLINE))
    if failures:
        lines.append('  tried:')
        lines.extend('    ' + f for f in failures)
    return '\n'.join(lines)


def fetch(name: str, cachedir=None, mirror=None) -> Path:
    """Return the local path of the verified file ``name``, downloading or copying it when needed.

    Raises :class:`ArtifactNotFoundError` (naming the file, its checksum, its source and the folder to put
    it in) when no source provides a copy whose checksum verifies. Processes fetching the same file take turns
    (a lock per cache entry): the second finds the first one's verified copy instead of racing it.
    """
    artifact = _lookup(name)
    root = cache_root(cachedir)
    dest = root / artifact.name
    try:
        if _verify(artifact, dest) is None:
            return dest  # the common case: no lock, works in a read-only cache too
    except FileNotFoundError:  # not there, or moved aside by another process this very moment
        pass
    _require_writable_cache(dest.parent, artifact, dest)
    with exclusive_lock(dest.parent / '.{}.lock'.format(dest.name), 'cache entry {}'.format(dest), remove=True,
                        wait_s=_LOCK_WAIT_S):
        if dest.is_file():  # again, under the lock: another process may have fixed it meanwhile
            problem = _verify(artifact, dest)
            if problem is None:
                return dest
            _move_aside(dest, problem)
        failures = []
        for source, member in _sources(artifact, mirror):
            try:
                with temporary_sibling(dest, suffix='.part') as tmp:
                    _copy_into(source, tmp, artifact.name, member)
                    problem = _verify(artifact, tmp)
                    if problem is not None:
                        failures.append('{}: {}, not used'.format(source, problem))
                        continue
                    os.replace(tmp, dest)
                    return dest
            except FileNotFoundError:
                failures.append('{}: no such file'.format(source))
            except urllib.error.HTTPError as err:
                failures.append('{}: HTTP {} {}'.format(source, err.code, err.reason))
            except (urllib.error.URLError, OSError) as err:
                failures.append('{}: {}'.format(source, getattr(err, 'reason', None) or err))
        raise ArtifactNotFoundError(_not_found_message(artifact, root, failures))


def _require_writable_cache(root: Path, artifact: Artifact, dest: Path) -> None:
    """Say so at once when the cache cannot take the file (a read-only cache would otherwise fail every source
    and hide the cause under "put the file at ...")."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArtifactError('cannot create the cache folder {}: {}; set {} to a writable folder'
                            .format(root, err.strerror or err, ENV_HOME)) from None
    if not os.access(str(root), os.W_OK | os.X_OK):
        state = 'is damaged and cannot be replaced' if dest.exists() else 'is missing and cannot be stored'
        raise ArtifactError('{} {}: the cache folder {} is not writable; make it writable, or set {} to a writable '
                            'folder'.format(dest, state, root, ENV_HOME))


def fetch_first(names: Iterable[str], cachedir=None, mirror=None) -> Path:
    """Fetch the first of several interchangeable files that can be had, preferring any already cached."""
    names = list(names)
    root = cache_root(cachedir)
    for name in names:
        path = root / name
        if path.is_file() and _verify(_lookup(name), path) is None:
            return path
    errors = []
    for name in names:
        try:
            return fetch(name, cachedir=cachedir, mirror=mirror)
        except ArtifactNotFoundError as err:
            errors.append(str(err))
    raise ArtifactNotFoundError('cannot get any of {} (interchangeable copies of the same file):\n'
                                .format(', '.join(names)) + '\n'.join(errors))


@dataclass
class ArtifactState:
    artifact: Artifact
    path: Path
    state: str  # 'verified', 'missing' or 'corrupt'
    detail: str = field(default='')


def artifact_status(cachedir=None, names: Optional[Iterable[str]] = None) -> List[ArtifactState]:
    """What the cache holds for each manifest entry, verified against its checksum. Changes nothing."""
    root = cache_root(cachedir)
    states = []
    for name in (names if names is not None else MANIFEST):
        artifact = _lookup(name)
        path = root / name
        if not path.is_file():
            states.append(ArtifactState(artifact, path, 'missing'))
            continue
        problem = _verify(artifact, path)
        states.append(ArtifactState(artifact, path, 'verified' if problem is None else 'corrupt', problem or ''))
    return states


def download_url(url: str, filename: Optional[str] = None, chksum: Optional[str] = None, cachedir=None,
                 mirror=None) -> Path:
    """Fetch an arbitrary URL into the cache, verified by an md5 prefix when ``chksum`` is given.

    This backs the original KoBERT ``download(url, ...)`` helper. Files in the manifest go through
    :func:`fetch`; the mirror is consulted by file name first, as for every other file.
    """
    filename = filename or Path(urllib.parse.urlparse(url).path).name
    if not filename:
        raise InputError('cannot tell a file name from URL {!r}; pass filename='.format(url))
    known = MANIFEST.get(filename)
    if known is not None and (chksum is None or known.checksum.startswith(chksum) or chksum.startswith(known.checksum)):
        return fetch(filename, cachedir=cachedir, mirror=mirror)
    if chksum is None:
        raise InputError('{} is not in the manifest: pass chksum= (an md5 prefix) so the download can be verified'
                         .format(filename))
    artifact = Artifact(filename, 'md5', chksum.lower(), (url,))
    register_artifact(artifact)
    return fetch(filename, cachedir=cachedir, mirror=mirror)
