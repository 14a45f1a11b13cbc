"""The original KoBERT API and the registry: architecture, outputs, and loading verified weights."""
import hashlib

import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon import KOBERT_BASE_CONFIG, get_kobert_model, get_model, get_mxnet_kobert_model, list_models
from kobert_gluon.hub import artifact_store
from kobert_gluon.hub.artifact_store import Artifact
from kobert_gluon.hub import catalogue
from kobert_gluon.hub.catalogue import ModelSpec, register_model
from kobert_gluon.tokenizers.sentencepiece import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE

from .conftest import random_kobert

TINY = dict(num_layers=2, units=64, hidden_size=128, num_heads=4, max_length=64)


def num_params(model):
    return sum(int(np.prod(p.shape)) for p in model.collect_params().values())


def readme_inputs():
    # The inputs of the original KoBERT README example.
    input_id = mx.nd.array([[31, 51, 99], [15, 5, 0]])
    input_mask = mx.nd.array([[1, 1, 1], [1, 1, 0]])
    token_type_ids = mx.nd.array([[0, 0, 1], [0, 1, 0]])
    return input_id, input_mask, token_type_ids


def test_original_readme_snippet_with_random_weights(kobert_store):
    input_id, input_mask, token_type_ids = readme_inputs()
    model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False, pretrained=False)
    encoded_layers, pooled_output = model(input_id, token_type_ids)
    assert pooled_output.shape == (2, 768)
    assert encoded_layers.shape == (2, 3, 768)
    assert len(vocab) == 8002
    assert num_params(model) == 92186880 == KOBERT_BASE_CONFIG.num_parameters()
    # With valid_length the padded position cannot influence the others.
    seq, pooled = model(input_id, token_type_ids, input_mask.sum(axis=1))
    changed = mx.nd.array([[31, 51, 99], [15, 5, 77]])
    seq2, pooled2 = model(changed, token_type_ids, input_mask.sum(axis=1))
    np.testing.assert_allclose(seq[1, :2].asnumpy(), seq2[1, :2].asnumpy(), atol=1e-5)
    np.testing.assert_allclose(pooled.asnumpy(), pooled2.asnumpy(), atol=1e-5)


def test_predefined_args_are_kobert_base():
    c = KOBERT_BASE_CONFIG
    assert (c.attention_cell, c.num_layers, c.units, c.hidden_size, c.max_length, c.num_heads) == \
        ('multi_head', 12, 768, 3072, 512, 12)
    assert (c.scaled, c.dropout, c.use_residual, c.embed_size, c.embed_dropout, c.token_type_vocab_size) == \
        (True, 0.1, True, 768, 0.1, 2)
    assert (c.activation, c.layer_norm_eps, c.vocab_size) == ('gelu', 1e-12, 8002)


def test_kobert_base_shape_needs_no_download_with_random_weights():
    model, vocab = random_kobert(use_decoder=False, use_classifier=False)
    input_id, input_mask, token_type_ids = readme_inputs()
    encoded_layers, pooled_output = model(input_id, token_type_ids)
    assert pooled_output.shape == (2, 768) and encoded_layers.shape == (2, 3, 768) and len(vocab) == 8002
    assert num_params(model) == 92186880 == KOBERT_BASE_CONFIG.num_parameters()


def test_all_heads_outputs():
    model, vocab = random_kobert(**TINY)
    input_id, _, token_type_ids = readme_inputs()
    seq, pooled, nsp, mlm = model(input_id, token_type_ids, mx.nd.array([3, 2]), mx.nd.array([[0, 1], [1, 0]]))
    assert seq.shape == (2, 3, 64) and pooled.shape == (2, 64) and nsp.shape == (2, 2)
    assert mlm.shape == (2, 2, len(vocab))


def test_registry():
    assert list_models()[0] == 'kobert-base'
    assert list_models('kobert-*')[0] == 'kobert-base'
    assert list_models('nothing-*') == []
    with pytest.raises(ValueError, match='unknown model'):
        get_model('kobert-huge')


def test_bad_overrides_are_explained():
    with pytest.raises(ValueError, match='cannot change num_layers of pretrained'):
        get_model('kobert-base', pretrained=True, num_layers=2)
    with pytest.raises(TypeError, match='unknown model option'):
        get_model('kobert-base', pretrained=False, num_layer=2)
    with pytest.raises(ValueError, match='divisible'):
        get_model('kobert-base', pretrained=False, units=100, num_heads=12)
    with pytest.raises(ValueError, match='use_pooler'):
        random_kobert(use_pooler=False, use_classifier=True)


def _save_original_style_params(model, path):
    """Write weights the way the original KoBERT file was written: every head, Gluon's own format."""
    model.save_parameters(str(path))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_registered_model_loads_verified_weights(kobert_store, tmp_path, monkeypatch):
    source, _ = get_model('kobert-base', pretrained=False, **TINY)
    input_id, _, token_type_ids = readme_inputs()
    expected = source(input_id, token_type_ids, mx.nd.array([3, 2]), mx.nd.array([[0], [1]]))
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    for name in (KOBERT_VOCAB_FILE, KOBERT_TOKENIZER_FILES[1]):
        (mirror / name).write_bytes((kobert_store / name).read_bytes())
    digest = _save_original_style_params(source, mirror / 'tiny_weights.params')
    monkeypatch.setitem(artifact_store.MANIFEST, 'tiny_weights.params',
                        Artifact('tiny_weights.params', 'md5', digest, (), 'test weights'))
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(mirror))
    spec = ModelSpec('test-tiny', KOBERT_BASE_CONFIG.replace(**TINY), 'test', params_files=('tiny_weights.params',),
                     vocab_file=KOBERT_VOCAB_FILE, tokenizer_files=KOBERT_TOKENIZER_FILES)
    monkeypatch.setattr(catalogue, '_REGISTRY', catalogue._REGISTRY.copy())  # the test's entry goes with it
    register_model(spec)

    loaded, vocab = get_model('test-tiny')
    got = loaded(input_id, token_type_ids, mx.nd.array([3, 2]), mx.nd.array([[0], [1]]))
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    encoder_only, _ = get_model('test-tiny', use_decoder=False, use_classifier=False)
    seq, pooled = encoder_only(input_id, token_type_ids, mx.nd.array([3, 2]))
    np.testing.assert_array_equal(pooled.asnumpy(), expected[1].asnumpy())

    # A weights file that does not verify is refused, never loaded.
    (artifact_store.cache_root() / 'tiny_weights.params').write_bytes(b'corrupt')
    (mirror / 'tiny_weights.params').write_bytes(b'also corrupt')
    with pytest.raises(kobert_gluon.ArtifactNotFoundError, match='checksum mismatch'):
        get_model('test-tiny')


def test_get_mxnet_kobert_model_loads_the_verified_params_file(kobert_store, tmp_path, monkeypatch):
    """The full original API path with a KoBERT-base-shaped file standing in for the real (unavailable) weights."""
    source, _ = get_mxnet_kobert_model(pretrained=False)
    input_id, _, token_type_ids = readme_inputs()
    masked = mx.nd.array([[1], [2]])
    expected = source(input_id, token_type_ids, mx.nd.array([3, 2]), masked)
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    for name in (KOBERT_VOCAB_FILE, KOBERT_TOKENIZER_FILES[1]):
        (mirror / name).write_bytes((kobert_store / name).read_bytes())
    name = 'mxnet_kobert_45b6957552.params'
    digest = _save_original_style_params(source, mirror / name)
    official = artifact_store.MANIFEST[name]
    monkeypatch.setitem(artifact_store.MANIFEST, name, Artifact(name, 'md5', digest, official.urls))
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(mirror))

    model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
    encoded_layers, pooled_output = model(input_id, token_type_ids)
    reference = source(input_id, token_type_ids, None, masked)
    np.testing.assert_array_equal(pooled_output.asnumpy(), reference[1].asnumpy())
    np.testing.assert_array_equal(encoded_layers.asnumpy(), reference[0].asnumpy())

    full, _ = get_mxnet_kobert_model(ctx=mx.cpu(0))
    for a, b in zip(expected, full(input_id, token_type_ids, mx.nd.array([3, 2]), masked)):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())

    # The original explicit-files function reads the same file.
    direct, direct_vocab = get_kobert_model(str(mirror / name), str(mirror / KOBERT_VOCAB_FILE),
                                            use_decoder=False, use_classifier=False)
    np.testing.assert_array_equal(direct(input_id, token_type_ids)[1].asnumpy(), pooled_output.asnumpy())
    assert direct_vocab.idx_to_token == vocab.idx_to_token
