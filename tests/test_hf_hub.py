"""Hub repo ids as verified snapshots, GluonNLP's zipped model-zoo file, and the original get_mxnet_kobert_model
falling back to KoBERT's transformers checkpoint. A small HTTP server on this machine plays the hub; the file lists it
serves are checked against huggingface_hub's own reading of them (ModelInfo, git_hash), so the test does not rest on
this package's reading of the hub's format alone."""
import dataclasses
import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path
from urllib.parse import unquote

import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon.convert.huggingface import import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.hub import artifact_store, hf_hub
from kobert_gluon.hub.artifact_store import Artifact, ArtifactNotFoundError
from kobert_gluon.hub import catalogue

from .conftest import error_line, run_cli

LFS_SUFFIXES = ('.safetensors', '.bin', '.model', '.h5')


class FakeHub:
    """Serves repositories (folders) the way the hub's API and resolve URLs do; ``tamper`` replaces a file's bytes
    on the wire; ``requests`` counts what was asked."""

    def __init__(self):
        self.repos = {}
        self.tamper = {}
        self.requests = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.requests.append(self.path)
                status, body = hub.answer(unquote(self.path.split('?')[0]))
                self.send_response(status)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:{}'.format(self.server.server_address[1])

    def add(self, repo_id, folder):
        commit = hashlib.sha1(repo_id.encode() + b''.join(p.read_bytes() for p in sorted(folder.iterdir()))).hexdigest()
        self.repos[repo_id] = (commit, Path(folder))
        return commit

    def listing(self, repo_id):
        from huggingface_hub.utils.sha import git_hash
        commit, folder = self.repos[repo_id]
        siblings = []
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            sibling = {'rfilename': path.name, 'size': len(data), 'blobId': git_hash(data)}
            if path.name.endswith(LFS_SUFFIXES):
                sibling['blobId'] = hashlib.sha1(path.name.encode()).hexdigest()  # the pointer's id, not the file's
                sibling['lfs'] = {'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data), 'pointerSize': 134}
            siblings.append(sibling)
        return {'id': repo_id, 'modelId': repo_id, 'sha': commit, 'private': False, 'siblings': siblings}

    def answer(self, path):
        for repo_id, (commit, folder) in self.repos.items():
            api = '/api/models/{}/revision/'.format(repo_id)
            if path.startswith(api) and path[len(api):] in ('main', commit):
                return 200, json.dumps(self.listing(repo_id)).encode()
            resolve = '/{}/resolve/{}/'.format(repo_id, commit)
            if path.startswith(resolve) and (folder / path[len(resolve):]).is_file():
                name = path[len(resolve):]
                return 200, self.tamper.get(name, (folder / name).read_bytes())
        return 404, b'{"error": "not found"}'


@pytest.fixture
def fake_hub(monkeypatch):
    hub = FakeHub()
    monkeypatch.setenv('HF_ENDPOINT', hub.url)
    monkeypatch.delenv('KOBERT_GLUON_OFFLINE')
    monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    yield hub
    hub.server.shutdown()


def test_fake_hub_lists_what_huggingface_hub_reads():
    """The served list parses with huggingface_hub's ModelInfo, and its ids are git's (checked against a known
    object id: `git hash-object` of "hello\\n")."""
    pytest.importorskip('huggingface_hub', reason='needs huggingface_hub (comes with transformers, in the test extra)')
    from huggingface_hub.utils.sha import git_hash
    assert git_hash(b'hello\n') == 'ce013625030ba8dba906f756967f9e9ca394464a'
    assert artifact_store.Artifact('x', artifact_store.GIT_BLOB_SHA1, git_hash(b'hello\n')).matches(
        hashlib.sha1(b'blob 6\0hello\n').hexdigest())


def _small_repo(tmp_path, with_extra=True):
    transformers = pytest.importorskip('transformers', reason='needs transformers (in the test extra)')
    pytest.importorskip('torch', reason='needs torch (in the test extra)')
    config = transformers.BertConfig(vocab_size=8002, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=64, max_position_embeddings=64, pad_token_id=1)
    folder = tmp_path / 'repo'
    transformers.BertModel(config).save_pretrained(folder)
    if with_extra:
        (folder / 'README.md').write_text('# a model card\n', encoding='utf-8')
        (folder / 'tf_model.h5').write_bytes(b'not needed' * 100)
    return folder


def test_import_hf_from_a_repo_id_verified_and_then_offline(tmp_path, capsys, fake_hub, kobert_store, monkeypatch):
    from huggingface_hub.hf_api import ModelInfo
    folder = _small_repo(tmp_path)
    commit = fake_hub.add('org/tiny-kobert', folder)
    info = ModelInfo(**fake_hub.listing('org/tiny-kobert'))
    assert info.sha == commit and {s.rfilename for s in info.siblings} >= {'config.json', 'model.safetensors'}

    code, out, err = run_cli(capsys, 'import-hf', 'org/tiny-kobert', '--out', tmp_path / 'gluon', '--tokenizer',
                             'kobert-base')  # the repo has no tokenizer files
    assert code == 0, err
    snapshot = artifact_store.cache_root() / 'huggingface' / 'org/tiny-kobert' / commit
    # only what the conversion reads came down, pinned to the commit
    assert sorted(p.name for p in snapshot.iterdir() if not p.name.startswith('.')) == ['config.json',
                                                                                       'model.safetensors']
    assert not any('tf_model' in r or 'README' in r for r in fake_hub.requests)
    assert all('/resolve/{}/'.format(commit) in r for r in fake_hub.requests if '/resolve/' in r)
    config = json.loads((tmp_path / 'gluon' / 'config.json').read_text())
    assert config['converted_from']['source'] == 'org/tiny-kobert' and config['converted_from']['commit'] == commit
    from_folder = import_hf(folder, tmp_path / 'direct', tokenizer='kobert-base')
    a, _ = kobert_gluon.get_model(str(tmp_path / 'gluon'))
    b, _ = kobert_gluon.get_model(str(from_folder))
    ids = mx.nd.array([[2, 10, 20, 3]])
    types = mx.nd.zeros_like(ids)
    np.testing.assert_array_equal(a(ids, types)[1].asnumpy(), b(ids, types)[1].asnumpy())

    # offline, the snapshot fetched before is found again (and re-verified) without a single request
    monkeypatch.setenv('KOBERT_GLUON_OFFLINE', '1')
    before = len(fake_hub.requests)
    code, _, err = run_cli(capsys, 'import-hf', 'org/tiny-kobert', '--out', tmp_path / 'again', '--tokenizer',
                           'kobert-base')
    assert code == 0, err
    assert len(fake_hub.requests) == before
    (snapshot / 'model.safetensors').write_bytes(b'damaged')
    code, _, err = run_cli(capsys, 'import-hf', 'org/tiny-kobert', '--out', tmp_path / 'third', '--tokenizer',
                           'kobert-base')
    assert code == 2 and 'checksum mismatch' in err and not (tmp_path / 'third').exists()


def test_a_file_changed_on_the_way_is_refused(tmp_path, fake_hub, kobert_store):
    folder = _small_repo(tmp_path, with_extra=False)
    fake_hub.add('org/tiny-kobert', folder)
    fake_hub.tamper['model.safetensors'] = (folder / 'model.safetensors').read_bytes()[:-4] + b'\0\0\0\0'
    with pytest.raises(ArtifactNotFoundError, match='checksum mismatch .*sha256'):
        import_hf('org/tiny-kobert', tmp_path / 'gluon')
    assert not (tmp_path / 'gluon').exists()
    fake_hub.tamper = {'config.json': b'{"model_type": "bert"}'}
    with pytest.raises(ArtifactNotFoundError, match='checksum mismatch .*git-blob-sha1'):
        hf_hub.snapshot('org/tiny-kobert', select=lambda names: ['config.json'], cachedir=tmp_path / 'other-cache')


def test_unknown_repo_offline_and_unreachable_hub_are_one_line_errors(tmp_path, capsys, fake_hub, monkeypatch):
    code, _, err = run_cli(capsys, 'import-hf', 'org/no-such-model', '--out', tmp_path / 'x')
    assert 'was not found' in error_line(err, 'import-hf') and 'HTTP 404' in err
    assert 'log in with hf auth login, download it with hf download' in err  # the pinned hub installs `hf` only
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    code, _, err = run_cli(capsys, 'import-hf', 'org/no-such-model', '--out', tmp_path / 'x')
    assert code == 2 and 'working offline' in err and 'hf download org/no-such-model' in err
    monkeypatch.delenv('HF_HUB_OFFLINE')
    monkeypatch.setenv('HF_ENDPOINT', 'http://127.0.0.1:9')  # nothing listens there
    with pytest.raises(ArtifactNotFoundError, match='cannot get the file list of hub repo org/x'):
        hf_hub.snapshot('org/x')
    assert not (tmp_path / 'x').exists()


def test_gluonnlp_zoo_entry_matches_gluonnlp_and_zip_members_are_verified(tmp_path, monkeypatch):
    """The manifest's GluonNLP entry is the one GluonNLP 0.10 itself would fetch (its SHA-1 table and mxnet's URL
    scheme), and an artifact published inside a zip is taken out and verified."""
    from mxnet.gluon.model_zoo import model_store
    import gluonnlp  # noqa: F401  (importing it registers the BERT checksums in mxnet's model_store)
    name = 'bert_12_768_12_kobert_news_wiki_ko_cased'
    entry = artifact_store.MANIFEST['{}-{}.params'.format(name, model_store.short_hash(name))]
    assert entry.algorithm == 'sha1' and entry.checksum == model_store._model_sha1[name]
    file_name = '{}-{}'.format(name, model_store.short_hash(name))
    assert entry.urls == (model_store._url_format.format(repo_url=model_store.apache_repo_url, file_name=file_name),)
    assert entry.archive_member == file_name + '.params'

    payload = b'weights' * 1000
    with zipfile.ZipFile(tmp_path / 'w.zip', 'w') as zf:
        zf.writestr('w.params', payload)
    good = Artifact('zoo_w.params', 'sha1', hashlib.sha1(payload).hexdigest(), ((tmp_path / 'w.zip').as_uri(),),
                    archive_member='w.params')
    wrong = dataclasses.replace(good, name='zoo_x.params', archive_member='x.params')
    monkeypatch.delenv('KOBERT_GLUON_OFFLINE')
    for artifact in (good, wrong):
        monkeypatch.setitem(artifact_store.MANIFEST, artifact.name, artifact)
    assert artifact_store.fetch('zoo_w.params').read_bytes() == payload
    with pytest.raises(ArtifactNotFoundError, match='the archive has no x.params'):
        artifact_store.fetch('zoo_x.params')


SMALL_SHAPE = dict(vocab_size=8002, num_layers=2, units=32, hidden_size=64, num_heads=4, max_length=64, embed_size=32)


def test_get_mxnet_kobert_model_builds_kobert_from_its_transformers_checkpoint(tmp_path, fake_hub, kobert_store,
                                                                               monkeypatch):
    """No params file can be had (legacy and GluonNLP's both unreachable): the original entry point converts the
    transformers checkpoint of skt/kobert-base-v1 once and loads it (a KoBERT-shaped stand-in, small)."""
    transformers = pytest.importorskip('transformers', reason='needs transformers (in the test extra)')
    monkeypatch.setattr(catalogue, '_REGISTRY', catalogue._REGISTRY.copy())
    spec = catalogue.get_model_spec('kobert-base')
    catalogue._REGISTRY.replace('kobert-base', dataclasses.replace(spec, config={**spec.config, **SMALL_SHAPE}))
    for name in spec.params_files:  # the official sources answer 404 here
        monkeypatch.setitem(artifact_store.MANIFEST, name, dataclasses.replace(
            artifact_store.MANIFEST[name], urls=(fake_hub.url + '/gone/' + name,)))
    hf = transformers.BertModel(transformers.BertConfig(
        vocab_size=8002, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64, pad_token_id=1)).eval()
    hf.save_pretrained(tmp_path / 'repo')
    commit = fake_hub.add('skt/kobert-base-v1', tmp_path / 'repo')

    model, vocab = kobert_gluon.get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
    import torch
    ids = np.array([[2, 100, 200, 3]])
    with torch.no_grad():
        expected = hf(input_ids=torch.tensor(ids)).pooler_output.numpy()
    _, pooled = model(mx.nd.array(ids), mx.nd.zeros((1, 4)), mx.nd.array([4]))
    assert float(np.abs(pooled.asnumpy() - expected).max()) < 1e-5
    assert len(vocab) == 8002 and vocab['[PAD]'] == 1
    converted = artifact_store.cache_root() / 'converted' / 'skt--kobert-base-v1-{}'.format(commit)
    assert (converted / 'config.json').is_file()
    # the checkpoint has no MLM/NSP heads: the original defaults ask for them, and the error says what to pass
    with pytest.raises(InputError, match='use_decoder=False'):
        kobert_gluon.get_mxnet_kobert_model()
    # get_onnx_kobert_model falls back the same way (the original signature, the same numbers)
    onnxruntime = pytest.importorskip('onnxruntime')
    session = onnxruntime.InferenceSession(kobert_gluon.get_onnx_kobert_model())
    outputs = session.run(None, {'input_ids': ids, 'token_type_ids': np.zeros_like(ids),
                                 'input_mask': np.ones_like(ids), 'position_ids': np.arange(4)})
    assert float(np.abs(outputs[-1] - expected).max()) < 1e-4
    # a damaged conversion in the cache is moved aside and made again, not loaded
    (converted / 'model.params').write_bytes(b'damaged')
    again, _ = kobert_gluon.get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
    _, pooled = again(mx.nd.array(ids), mx.nd.zeros((1, 4)), mx.nd.array([4]))
    assert float(np.abs(pooled.asnumpy() - expected).max()) < 1e-5
    assert len(list(converted.parent.glob(converted.name + '.corrupt-*'))) == 1
    # offline, with nothing reachable, the message names both sources
    monkeypatch.setenv('KOBERT_GLUON_OFFLINE', '1')
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'empty-cache'))
    with pytest.raises(ArtifactNotFoundError, match='(?s)mxnet_kobert_45b6957552.params.*transformers checkpoint.*'
                                                    'hf download skt/kobert-base-v1'):
        kobert_gluon.get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
