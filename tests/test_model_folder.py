"""Saving a model to a folder and loading it back: bit-identical outputs, heads, safety of existing files."""
import json
import os

import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model, load_model, save_model

from .conftest import random_kobert, shipped_tokenizer_path
from kobert_gluon.heads.sequence import SequenceClassifier

TINY = dict(num_layers=2, units=64, hidden_size=128, num_heads=4, max_length=64)


def batch():
    ids = mx.nd.array([[2, 4958, 6855, 2046, 3, 1], [2, 7088, 1050, 7843, 54, 3]])
    types = mx.nd.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1]])
    return ids, types, mx.nd.array([5, 6])


def test_round_trip_is_bit_identical(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    ids, types, lengths = batch()
    seq, pooled = model(ids, types, lengths)
    folder = save_model(model, vocab, tmp_path / 'tiny', shipped_tokenizer_path())
    assert sorted(p.name for p in folder.iterdir()) == ['config.json', 'kobert-gluon-folder.json', 'model.params',
                                                       'tokenizer.model', 'vocab.json']
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask  # like a folder made by mkdir, not mkdtemp's 0700
    loaded, loaded_vocab = get_model(str(folder))
    seq2, pooled2 = loaded(ids, types, lengths)
    np.testing.assert_array_equal(seq.asnumpy(), seq2.asnumpy())
    np.testing.assert_array_equal(pooled.asnumpy(), pooled2.asnumpy())
    assert loaded_vocab.idx_to_token == vocab.idx_to_token
    assert json.loads((folder / 'config.json').read_text())['bert']['num_layers'] == 2


def test_decoder_weights_tied_and_saved_once(tmp_path):
    model, vocab = random_kobert(**TINY)
    ids, types, lengths = batch()
    out = model(ids, types, lengths, mx.nd.array([[1, 2], [3, 4]]))
    loaded, _ = load_model(save_model(model, vocab, tmp_path / 'mlm', shipped_tokenizer_path()))
    out2 = loaded(ids, types, lengths, mx.nd.array([[1, 2], [3, 4]]))
    for a, b in zip(out, out2):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    assert loaded.decoder[3].weight is loaded.word_embed[0].weight
    names = mx.nd.load(str(tmp_path / 'mlm' / 'model.params')).keys()
    assert 'word_embed.0.weight' in names and 'decoder.3.weight' not in names


def test_classifier_folder_round_trip(tmp_path):
    bert, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    head = SequenceClassifier(bert, num_classes=3, labels=['none', 'offensive', 'hate'])
    head.output.initialize(mx.init.Normal(0.02))
    ids, types, lengths = batch()
    scores = head(ids, types, lengths)
    folder = save_model(head, vocab, tmp_path / 'clf', shipped_tokenizer_path())
    loaded, _ = get_model(str(folder))
    assert isinstance(loaded, SequenceClassifier) and loaded.labels == ['none', 'offensive', 'hate']
    np.testing.assert_array_equal(loaded(ids, types, lengths).asnumpy(), scores.asnumpy())


def test_float16_storage_halves_the_file(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    ids, types, lengths = batch()
    _, pooled = model(ids, types, lengths)
    full = save_model(model, vocab, tmp_path / 'fp32', shipped_tokenizer_path())
    half = save_model(model, vocab, tmp_path / 'fp16', shipped_tokenizer_path(), param_dtype='float16')
    ratio = (half / 'model.params').stat().st_size / (full / 'model.params').stat().st_size
    assert 0.45 < ratio < 0.55
    loaded, _ = get_model(str(half))
    assert loaded.pooler.weight.data().dtype == np.float32
    _, pooled16 = loaded(ids, types, lengths)
    np.testing.assert_allclose(pooled16.asnumpy(), pooled.asnumpy(), atol=5e-3)


def test_existing_folder_is_never_silently_replaced(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    model(*batch())
    target = tmp_path / 'run'
    target.mkdir()
    (target / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='pass --overwrite'):
        save_model(model, vocab, target, shipped_tokenizer_path())
    assert (target / 'notes.txt').read_text() == 'keep me'
    # overwrite never takes a user's files
    with pytest.raises(FileExistsError, match='was not written by kobert-gluon'):
        save_model(model, vocab, target, shipped_tokenizer_path(), overwrite=True)
    assert (target / 'notes.txt').read_text() == 'keep me'
    (target / 'notes.txt').unlink()
    save_model(model, vocab, target, shipped_tokenizer_path())
    save_model(model, vocab, target, shipped_tokenizer_path(), overwrite=True)
    assert (target / 'model.params').is_file()
    assert [p.name for p in tmp_path.iterdir()] == ['run']  # no temporary folders left behind


def test_failed_save_leaves_nothing(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    # Shapes are deferred until a forward pass, so there is nothing to save yet.
    with pytest.raises(ValueError, match='not initialised'):
        save_model(model, vocab, tmp_path / 'early', shipped_tokenizer_path())
    assert list(tmp_path.iterdir()) == []


def test_loading_problems_are_explained(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    model(*batch())
    folder = save_model(model, vocab, tmp_path / 'enc', shipped_tokenizer_path())
    with pytest.raises(ValueError, match='without the decoder head'):
        get_model(str(folder), use_decoder=True)
    with pytest.raises(ValueError, match='cannot change num_layers'):
        get_model(str(folder), num_layers=3)
    loaded, _ = get_model(str(folder), dropout=0.0)  # non-shape options may change
    assert loaded.kobert_config.dropout == 0.0
    (folder / 'vocab.json').unlink()
    with pytest.raises(FileNotFoundError, match='vocab.json is missing'):
        get_model(str(folder))
    with pytest.raises(FileNotFoundError, match='nothing-here: no such model folder'):
        get_model(str(tmp_path / 'nothing-here'))


def test_folder_architecture_with_random_weights(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    ids, types, lengths = batch()
    _, pooled = model(ids, types, lengths)
    folder = save_model(model, vocab, tmp_path / 'enc', shipped_tokenizer_path())
    fresh, fresh_vocab = get_model(str(folder), pretrained=False)
    _, fresh_pooled = fresh(ids, types, lengths)
    assert fresh.kobert_config == model.kobert_config and fresh_vocab.idx_to_token == vocab.idx_to_token
    assert np.abs(fresh_pooled.asnumpy() - pooled.asnumpy()).max() > 1e-3  # new weights, not the saved ones
    bigger, _ = get_model(str(folder), pretrained=False, num_layers=3)  # shapes may change from scratch
    assert len(bigger.encoder.transformer_cells) == 3
