"""Fetching, verifying and refusing files: cache, mirror, download, corruption, and the missing-file message."""
import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from kobert_gluon.hub import artifact_store
from kobert_gluon import download
from kobert_gluon.hub.artifact_store import Artifact, ArtifactNotFoundError, cache_root, fetch

TOKENIZER = 'tokenizer_78b3253a26.model'
VOCAB = 'kobertvocab_f38b8a4d6d.json'


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def http_folder(tmp_path):
    """A loopback HTTP server over a temporary folder: ``(folder, base_url)``."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, 'http://127.0.0.1:{}'.format(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def registered_md5(name):
    """The md5 the manifest holds for ``name``: KoBERT's own, or a stand-in's (see ``kobert_store``)."""
    return artifact_store.MANIFEST[name].checksum


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith('.') or p.suffix == '.part')


def test_manifest_holds_the_checksums_of_the_real_kobert_files(kobert_files):
    assert md5(kobert_files / TOKENIZER) == artifact_store.MANIFEST[TOKENIZER].checksum == \
        '78b3253a26b9e6937c25a1c1f33fbeba'
    assert md5(kobert_files / VOCAB) == artifact_store.MANIFEST[VOCAB].checksum == 'f38b8a4d6dcc3e684fc6df2673ec05bb'


def test_fetch_from_mirror_verifies_and_caches(kobert_store):
    path = fetch(TOKENIZER)
    assert path == cache_root() / TOKENIZER
    assert md5(path) == md5(kobert_store / TOKENIZER) == registered_md5(TOKENIZER)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600
    stamp = os.stat(path).st_mtime_ns
    assert fetch(TOKENIZER, mirror='/nonexistent') == path  # served from the cache, mirror not consulted
    assert os.stat(path).st_mtime_ns == stamp
    assert leftovers(path.parent) == []


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'env'))
    assert cache_root(tmp_path / 'arg') == tmp_path / 'arg'
    assert cache_root() == tmp_path / 'env'
    monkeypatch.delenv('KOBERT_GLUON_HOME')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert cache_root() == tmp_path / 'home' / '.cache' / 'kobert_gluon'


def test_corrupted_cache_file_is_moved_aside_and_fetched_again(kobert_store, caplog):
    path = fetch(VOCAB)
    path.write_bytes(b'{"truncated": ')
    again = fetch(VOCAB)
    assert md5(again) == registered_md5(VOCAB)
    aside = [p for p in path.parent.iterdir() if p.name.startswith(VOCAB + '.corrupt-')]
    assert len(aside) == 1 and aside[0].read_bytes() == b'{"truncated": '
    assert 'moved aside' in caplog.text  # a warning (the CLI shows warnings on stderr)


def test_mismatching_mirror_file_is_never_used(tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    (mirror / TOKENIZER).write_bytes(b'not a sentencepiece model')
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(mirror))
    with pytest.raises(ArtifactNotFoundError) as err:
        fetch(TOKENIZER)
    message = str(err.value)
    assert 'checksum mismatch' in message and 'not used' in message
    assert not (cache_root() / TOKENIZER).exists()
    assert leftovers(cache_root()) == []


def test_missing_file_message_says_what_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(tmp_path / 'empty-mirror'))
    with pytest.raises(ArtifactNotFoundError) as err:
        fetch('mxnet_kobert_45b6957552.params')
    message = str(err.value)
    assert 'mxnet_kobert_45b6957552.params' in message
    assert 'md5 45b6957552' in message
    assert 'https://huggingface.co/skt/kobert-base-v1/resolve/main/legacy/mxnet_kobert_45b6957552.params' in message
    assert str(cache_root() / 'mxnet_kobert_45b6957552.params') in message
    assert 'KOBERT_GLUON_MIRROR' in message


def test_unknown_artifact_is_an_error():
    with pytest.raises(artifact_store.ArtifactError, match='unknown artifact'):
        fetch('no-such-file.bin')


def test_mirror_as_url_prefix(kobert_store, http_folder, monkeypatch):
    folder, base = http_folder
    (folder / TOKENIZER).write_bytes((kobert_store / TOKENIZER).read_bytes())
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', base + '/')
    assert md5(fetch(TOKENIZER)) == registered_md5(TOKENIZER)


def test_official_url_download_when_online(http_folder, monkeypatch):
    folder, base = http_folder
    payload = os.urandom(3 * (1 << 20) + 17)  # several download chunks
    (folder / 'weights.bin').write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    artifact = Artifact('test-weights-{}.bin'.format(digest[:8]), 'sha256', digest, (base + '/weights.bin',))
    monkeypatch.setitem(artifact_store.MANIFEST, artifact.name, artifact)
    monkeypatch.delenv('KOBERT_GLUON_MIRROR')
    with pytest.raises(ArtifactNotFoundError, match='official URLs were not tried'):
        fetch(artifact.name)
    monkeypatch.delenv('KOBERT_GLUON_OFFLINE')
    assert fetch(artifact.name).read_bytes() == payload


def test_wrong_download_is_refused_and_cleaned_up(http_folder, monkeypatch):
    folder, base = http_folder
    (folder / 'weights.bin').write_bytes(b'tampered')
    artifact = Artifact('test-tampered.bin', 'md5', 'a' * 32, (base + '/weights.bin', base + '/missing.bin'))
    monkeypatch.setitem(artifact_store.MANIFEST, artifact.name, artifact)
    monkeypatch.delenv('KOBERT_GLUON_OFFLINE')
    with pytest.raises(ArtifactNotFoundError) as err:
        fetch(artifact.name)
    assert 'checksum mismatch' in str(err.value) and '404' in str(err.value)
    assert not (cache_root() / artifact.name).exists() and leftovers(cache_root()) == []


def test_legacy_download_helper(kobert_store, http_folder, monkeypatch):
    folder, base = http_folder
    (folder / 'extra.txt').write_bytes(b'hello kobert')
    monkeypatch.delenv('KOBERT_GLUON_OFFLINE')
    # download() registers the new file in the manifest; make monkeypatch remove it again afterwards.
    monkeypatch.setitem(artifact_store.MANIFEST, 'extra.txt', None)
    del artifact_store.MANIFEST['extra.txt']
    path = download(base + '/extra.txt', chksum=hashlib.md5(b'hello kobert').hexdigest()[:10])
    assert Path(path).read_bytes() == b'hello kobert'
    # A manifest file goes through the mirror by name, whatever URL the old code passes.
    path = download('https://example.invalid/models/' + TOKENIZER)
    assert md5(path) == registered_md5(TOKENIZER)
    with pytest.raises(ValueError, match='chksum'):
        download(base + '/unverifiable.bin')


def test_status_reports_each_state(kobert_store):
    fetch(TOKENIZER)
    (cache_root() / VOCAB).write_text('{}')
    states = {s.artifact.name: s.state for s in artifact_store.artifact_status()}
    assert states[TOKENIZER] == 'verified'
    assert states[VOCAB] == 'corrupt'
    assert states['mxnet_kobert_45b6957552.params'] == 'missing'
