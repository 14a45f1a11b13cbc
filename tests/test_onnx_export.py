"""ONNX export: graph shape and names, parity with MXNet, the original KoBERT signature, cache, bad input."""
import os

import mxnet as mx
import numpy as np
import onnx
import onnxruntime
import pytest

import kobert_gluon
from kobert_gluon import OnnxExportError, export_onnx, get_model, get_onnx_kobert_model, verify_onnx
from kobert_gluon.models.bert import build_bert
from kobert_gluon.heads.sequence import SequenceClassifier, SequenceRegressor
from kobert_gluon.export.onnx_parity import DEFAULT_PARITY_SHAPES

from .conftest import KOBERT_FILES, random_kobert, shipped_tokenizer_path

# A 2-layer KoBERT with an 8,002-token vocabulary: every code path of the full model, at a fraction of the cost.
SMALL = dict(num_layers=2, units=64, hidden_size=128, num_heads=4, max_length=512, embed_size=64)
TOLERANCE = 1e-4


def small_bert(**heads):
    heads = {'use_pooler': True, 'use_decoder': False, 'use_classifier': False, **heads}
    model, _ = random_kobert(**heads, **SMALL)
    model.hybridize(static_alloc=True)
    return model


def session(path):
    return onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def assert_parity(report, outputs):
    assert report.outputs == outputs
    tested = {(row.batch, row.length) for row in report.rows}
    assert {(1, 1), (1, 512), (16, 1), (2, 512)} <= tested
    for name in outputs:
        assert report.max_abs(name) <= TOLERANCE, report.format_table()
    assert report.passed


def test_export_has_named_dynamic_inputs_and_no_stray_weights(tmp_path):
    bert = small_bert()
    path = export_onnx(bert, tmp_path / 'bert.onnx')
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    graph = model.graph
    assert [(v.name, dims(v)) for v in graph.input] == [
        ('input_ids', ['batch', 'sequence']), ('token_type_ids', ['batch', 'sequence']), ('valid_length', ['batch'])]
    assert all(v.type.tensor_type.elem_type == onnx.TensorProto.INT64 for v in graph.input)
    assert [(v.name, dims(v)) for v in graph.output] == [
        ('sequence_output', ['batch', 'sequence', 64]), ('pooled_output', ['batch', 64])]
    assert [(op.domain, op.version) for op in model.opset_import] == [('', 13)]
    weights = {t.name for t in graph.initializer}
    assert not weights & {v.name for v in graph.input}
    read = {name for node in graph.node for name in node.input}
    assert weights <= read
    # Every weight is in the file, once: beyond the parameters there are only a few small constants.
    params = {p.name: p.data().size for p in bert.collect_params().values()}
    assert set(params) <= weights
    stored = sum(int(np.prod(t.dims)) for t in graph.initializer)
    assert sum(params.values()) <= stored < sum(params.values()) + 1000

    sess = session(path)
    for batch, length in ((1, 3), (4, 19)):  # one file, any batch and length
        ids = np.full((batch, length), 5, dtype=np.int64)
        sequence, pooled = sess.run(None, {'input_ids': ids, 'token_type_ids': np.zeros_like(ids),
                                           'valid_length': np.full(batch, length, dtype=np.int64)})
        assert sequence.shape == (batch, length, 64) and pooled.shape == (batch, 64)


def test_base_model_parity_over_all_default_shapes(tmp_path):
    model = small_bert()
    path = export_onnx(model, tmp_path / 'bert.onnx')
    report = verify_onnx(model, path)
    assert_parity(report, ['sequence_output', 'pooled_output'])
    assert len(report.rows) == 2 * len(DEFAULT_PARITY_SHAPES)


def test_all_layers_export_ends_with_the_sequence_output(tmp_path):
    model = small_bert()
    every = export_onnx(model, tmp_path / 'layers.onnx', all_layers=True)
    last = export_onnx(model, tmp_path / 'last.onnx')
    assert [v.name for v in session(every).get_outputs()] == ['encoder_layer_1', 'encoder_layer_2', 'pooled_output']
    assert_parity(verify_onnx(model, every), ['encoder_layer_1', 'encoder_layer_2', 'pooled_output'])
    feed = {'input_ids': np.array([[2, 500, 600, 3, 1]]), 'token_type_ids': np.zeros((1, 5), dtype=np.int64),
            'valid_length': np.array([4])}
    layer_1, layer_2, pooled = session(every).run(None, feed)
    sequence, pooled_last = session(last).run(None, feed)
    np.testing.assert_allclose(layer_2, sequence, atol=1e-6)
    np.testing.assert_allclose(pooled, pooled_last, atol=1e-6)
    assert np.abs(layer_1 - layer_2).max() > 1e-2  # really two different layers


def test_original_kobert_signature_runs_the_readme_call(tmp_path):
    model = small_bert()
    path = export_onnx(model, tmp_path / 'kobert.onnx', signature='kobert-original')
    sess = session(path)
    assert [i.name for i in sess.get_inputs()] == ['input_ids', 'token_type_ids', 'input_mask', 'position_ids']
    # Exactly as the original KoBERT README drives its ONNX file.
    ids = np.array([[2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3], [2, 517, 6, 3, 1, 1, 1, 1, 1]], dtype=np.int64)
    mask = (ids != 1).astype(np.int64)
    types = np.array([[0] * 5 + [1] * 4, [0] * 9], dtype=np.int64)
    length = ids.shape[1]
    outputs = sess.run(None, {'input_ids': ids, 'token_type_ids': types, 'input_mask': mask,
                              'position_ids': np.array(range(length))})
    assert outputs[-2].shape == (2, length, 64) and outputs[-1].shape == (2, 64)
    sequence, pooled = model(mx.nd.array(ids), mx.nd.array(types), mx.nd.array(mask.sum(axis=1)))
    np.testing.assert_allclose(outputs[-2], sequence.asnumpy(), atol=TOLERANCE)
    np.testing.assert_allclose(outputs[-1], pooled.asnumpy(), atol=TOLERANCE)
    assert_parity(verify_onnx(model, path), ['sequence_output', 'pooled_output'])


def _train_a_few_steps(classifier, steps=3):
    rng = np.random.RandomState(1)
    trainer = mx.gluon.Trainer(classifier.collect_params(), 'adam', {'learning_rate': 1e-2})
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    for _ in range(steps):
        ids = mx.nd.array(rng.randint(5, 8002, size=(4, 12)))
        labels = mx.nd.array(rng.randint(0, 3, size=4))
        with mx.autograd.record():
            loss = loss_fn(classifier(ids, mx.nd.zeros((4, 12)), mx.nd.array([12, 7, 3, 12])), labels)
        loss.backward()
        trainer.step(4)


def test_finetuned_classifier_folder_exports_in_one_command(tmp_path, capsys):
    from kobert_gluon.cli import main
    classifier = SequenceClassifier(small_bert(), num_classes=3, labels=['neg', 'neu', 'pos'])
    classifier.output.initialize(mx.init.Normal(0.02))
    classifier(mx.nd.ones((1, 4)), mx.nd.zeros((1, 4)), mx.nd.array([4]))
    before = classifier.output.weight.data().asnumpy().copy()
    _train_a_few_steps(classifier)
    assert np.abs(classifier.output.weight.data().asnumpy() - before).max() > 1e-3
    folder = kobert_gluon.save_model(classifier, random_kobert(**SMALL)[1], tmp_path / 'nsmc',
                                     shipped_tokenizer_path())

    out = tmp_path / 'nsmc.onnx'
    assert main(['export-onnx', '--model', str(folder), '--out', str(out), '--verify']) == 0
    printed = capsys.readouterr().out
    assert 'outputs: logits(batch, 3)' in printed and 'all within 1e-04' in printed

    reloaded, _ = get_model(str(folder))
    report = verify_onnx(reloaded, out, shapes=((1, 1), (1, 512), (16, 1), (2, 512), (9, 33)))
    assert_parity(report, ['logits'])
    # The file holds the trained weights: its logits are those of the trained model, not the untrained one.
    feed = {'input_ids': np.array([[2, 700, 3]]), 'token_type_ids': np.zeros((1, 3), dtype=np.int64),
            'valid_length': np.array([3])}
    (logits,) = session(out).run(None, feed)
    np.testing.assert_allclose(logits, classifier(mx.nd.array([[2, 700, 3]]), mx.nd.zeros((1, 3)),
                                                  mx.nd.array([3])).asnumpy(), atol=TOLERANCE)


def test_regressor_exports_a_score_per_sequence(tmp_path):
    regressor = SequenceRegressor(small_bert())
    regressor.output.initialize(mx.init.Normal(0.5))
    path = export_onnx(regressor, tmp_path / 'sts.onnx')
    assert [(v.name, dims(v)) for v in onnx.load(str(path)).graph.output] == [('score', ['batch'])]
    assert_parity(verify_onnx(regressor, path), ['score'])


def test_get_onnx_kobert_model_exports_once_and_reuses_the_file(kobert_store, tmp_path, monkeypatch):
    from kobert_gluon.export import onnx_export
    exports = []
    real_export = onnx_export.export_onnx
    monkeypatch.setattr(onnx_export, 'export_onnx', lambda *a, **k: exports.append(a[1]) or real_export(*a, **k))

    first = get_onnx_kobert_model(cachedir=tmp_path, pretrained=False, **SMALL)
    again = get_onnx_kobert_model(cachedir=tmp_path, pretrained=False, **SMALL)
    other = get_onnx_kobert_model(cachedir=tmp_path, pretrained=False, seed=1, **SMALL)
    assert first == again != other
    assert len(exports) == 2
    assert os.path.dirname(first) == str(kobert_gluon.hub.artifact_store.cache_root(tmp_path))
    assert os.path.basename(first).startswith('onnx_kobert_')

    model = small_bert()
    explicit = get_onnx_kobert_model(cachedir=tmp_path, model=model)
    assert explicit not in (first, other) and len(exports) == 3
    assert get_onnx_kobert_model(cachedir=tmp_path, model=model) == explicit and len(exports) == 3
    sess = session(explicit)
    ids = np.array([[2, 10, 3]])
    outputs = sess.run(None, {'input_ids': ids, 'token_type_ids': np.zeros_like(ids), 'input_mask': np.ones_like(ids),
                              'position_ids': np.array(range(3))})
    assert outputs[-2].shape == (1, 3, 64) and outputs[-1].shape == (1, 64)


def test_get_onnx_kobert_model_without_weights_says_where_to_put_them(tmp_path):
    with pytest.raises(kobert_gluon.ArtifactNotFoundError, match='mxnet_kobert_45b6957552.params'):
        get_onnx_kobert_model(cachedir=tmp_path)


def test_full_kobert_base_shape_parity(tmp_path):
    model, _ = random_kobert(use_decoder=False, use_classifier=False)
    model.hybridize(static_alloc=True)
    path = export_onnx(model, tmp_path / 'kobert-base.onnx')
    assert os.path.getsize(path) > 350e6  # ~92 M float32 weights, each stored once
    assert [(v.name, dims(v)) for v in onnx.load(str(path), load_external_data=False).graph.output] == [
        ('sequence_output', ['batch', 'sequence', 768]), ('pooled_output', ['batch', 768])]
    report = verify_onnx(model, path, shapes=((1, 1), (1, 512), (3, 40)))
    assert report.max_abs('sequence_output') <= TOLERANCE and report.max_abs('pooled_output') <= TOLERANCE, \
        report.format_table()


# --- bad input -------------------------------------------------------------------------------------------------

def test_uninitialised_model_is_refused_and_nothing_is_written(tmp_path):
    from kobert_gluon import KOBERT_BASE_CONFIG
    bert = build_bert(KOBERT_BASE_CONFIG.replace(**SMALL), use_decoder=False, use_classifier=False)
    with pytest.raises(OnnxExportError, match='not initialised.*initialize'):
        export_onnx(bert, tmp_path / 'model.onnx')
    assert os.listdir(tmp_path) == []


def test_pretraining_decoder_is_refused_with_what_to_do(tmp_path):
    model, _ = random_kobert(**SMALL)  # all heads, as the original API
    with pytest.raises(OnnxExportError, match='use_decoder=False'):
        export_onnx(model, tmp_path / 'model.onnx')


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / 'model.onnx'
    path.write_bytes(b'precious')
    with pytest.raises(FileExistsError, match='overwrite=True'):
        export_onnx(small_bert(), path)
    assert path.read_bytes() == b'precious'
    # overwrite=True replaces an export of the package's, never another file that happens to have the name
    with pytest.raises(FileExistsError, match='not an ONNX export written by kobert-gluon'):
        export_onnx(small_bert(), path, overwrite=True)
    assert path.read_bytes() == b'precious'
    path.unlink()
    export_onnx(small_bert(), path)
    first = path.read_bytes()
    export_onnx(small_bert(), path, overwrite=True)
    onnx.checker.check_model(onnx.load(str(path)))
    assert path.read_bytes() != first  # another random model, written in its place
    assert sorted(os.listdir(tmp_path)) == ['model.onnx']


def test_unwritable_destinations_are_clear_errors(tmp_path):
    blocker = tmp_path / 'not-a-folder'
    blocker.write_text('a file')
    with pytest.raises(OnnxExportError, match='cannot write .*not-a-folder'):
        export_onnx(small_bert(), blocker / 'model.onnx')
    with pytest.raises(OnnxExportError, match='is a folder'):
        export_onnx(small_bert(), tmp_path)


def test_failed_export_leaves_no_partial_file(tmp_path, monkeypatch):
    import mxnet.onnx

    def broken_exporter(*args, **kwargs):
        with open(kwargs['onnx_file_path'], 'wb') as f:
            f.write(b'half a model')
        raise KeyError('SomeOp')
    monkeypatch.setattr(mxnet.onnx, 'export_model', broken_exporter)
    with pytest.raises(OnnxExportError, match="exporter failed.*SomeOp"):
        export_onnx(small_bert(), tmp_path / 'model.onnx')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('version, message', [('1.19.0', 'onnx < 1.19'), ('1.7.0', 'too old')])
def test_unsupported_onnx_version_is_named(tmp_path, monkeypatch, version, message):
    monkeypatch.setattr(onnx, '__version__', version)
    with pytest.raises(OnnxExportError, match=message):
        export_onnx(small_bert(), tmp_path / 'model.onnx')
    assert os.listdir(tmp_path) == []


def test_old_onnxruntime_is_refused_by_verify(tmp_path, monkeypatch):
    model = small_bert()
    path = export_onnx(model, tmp_path / 'model.onnx')
    monkeypatch.setattr(onnxruntime, '__version__', '1.5.2')
    with pytest.raises(OnnxExportError, match='onnxruntime 1.5.2 is too old'):
        verify_onnx(model, path)


def test_verify_refuses_a_file_from_another_model(tmp_path):
    path = export_onnx(small_bert(), tmp_path / 'bert.onnx')
    regressor = SequenceRegressor(small_bert())
    regressor.output.initialize()
    with pytest.raises(OnnxExportError, match='exported from another model'):
        verify_onnx(regressor, path)


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    from kobert_gluon.cli import main
    taken = tmp_path / 'taken.onnx'
    taken.write_bytes(b'x')
    assert main(['export-onnx', '--random-weights', '--out', str(taken)]) == 2
    assert '--overwrite' in capsys.readouterr().err
    assert main(['export-onnx', '--out', str(tmp_path / 'kobert.onnx')]) == 2  # no pretrained weights here
    # the first file it cannot get: the weights, or on a fresh clone already KoBERT's tokenizer
    missing = 'mxnet_kobert_45b6957552.params' if KOBERT_FILES.exists() else 'tokenizer_78b3253a26.model'
    assert 'cannot get {}'.format(missing) in capsys.readouterr().err
    assert not (tmp_path / 'kobert.onnx').exists()


# ----- every family: outputs named by what the model is, shapes declared as onnxruntime returns them -------------
def _tiny(architecture, **heads):
    """A tiny model of ``architecture`` with random weights, built by the family's own builder."""
    from kobert_gluon.models.building import get_architecture, initialize_random
    family = get_architecture(architecture)
    shape = dict(vocab_size=120, num_layers=1, units=16, hidden_size=32, num_heads=2, max_length=40)
    if architecture == 'electra':
        shape['embed_size'] = 8  # the embedding projection too
    elif architecture == 'bert':
        shape['embed_size'] = 16
    model = family.build(family.config_class(**shape), **heads)
    initialize_random(model, mx.cpu())
    model.hybridize(static_alloc=True)
    return model


FAMILY_OUTPUTS = [
    ('bert', dict(use_pooler=True, use_decoder=False, use_classifier=True),
     {'sequence_output': ['batch', 'sequence', 16], 'pooled_output': ['batch', 16],
      'next_sentence_logits': ['batch', 2]}),
    ('distilbert', dict(use_pooler=True, use_decoder=False),
     {'sequence_output': ['batch', 'sequence', 16], 'pooled_output': ['batch', 16]}),
    ('electra', dict(use_pooler=False, use_discriminator=True, use_decoder=False),
     {'sequence_output': ['batch', 'sequence', 16], 'replaced_token_logits': ['batch', 'sequence']}),
    ('electra', dict(use_pooler=False, use_discriminator=False, use_decoder=False),
     {'sequence_output': ['batch', 'sequence', 16]}),
    ('xlm-roberta', dict(use_pooler=False), {'sequence_output': ['batch', 'sequence', 16]}),
    ('xlm-roberta', dict(use_pooler=True),
     {'sequence_output': ['batch', 'sequence', 16], 'pooled_output': ['batch', 16]}),
]


@pytest.mark.parametrize('architecture, heads, declared', FAMILY_OUTPUTS)
def test_every_family_exports_and_verifies_with_the_shapes_onnxruntime_returns(tmp_path, architecture, heads,
                                                                                declared):
    model = _tiny(architecture, **heads)
    path = export_onnx(model, tmp_path / 'model.onnx')
    graph = onnx.load(str(path)).graph
    assert {value.name: dims(value) for value in graph.output} == declared
    assert [value.name for value in graph.output] == list(declared)  # in the order the model returns them
    report = verify_onnx(model, path, shapes=((1, 1), (2, 7), (3, 40)))
    assert report.outputs == list(declared) and report.passed, report.format_table()
    assert {(row.batch, row.length) for row in report.rows} == {(1, 1), (2, 7), (3, 40)}
    # what onnxruntime returns for a 3 x 11 batch is the declared shape with batch 3 and sequence 11
    feeds = {'input_ids': np.full((3, 11), 5, dtype=np.int64), 'token_type_ids': np.zeros((3, 11), dtype=np.int64),
             'valid_length': np.array([11, 4, 1], dtype=np.int64)}
    for value, got in zip(graph.output, session(path).run(None, feeds)):
        assert list(got.shape) == [{'batch': 3, 'sequence': 11}.get(d, d) for d in dims(value)], value.name


def test_verify_refuses_a_file_whose_declared_shape_is_wrong(tmp_path):
    model = _tiny('electra', use_pooler=False, use_discriminator=True, use_decoder=False)
    path = export_onnx(model, tmp_path / 'model.onnx')
    broken = onnx.load(str(path))
    logits = broken.graph.output[1]
    logits.type.tensor_type.shape.dim[1].ClearField('dim_param')
    logits.type.tensor_type.shape.dim[1].dim_value = 2  # the old export's (batch, 2)
    onnx.save(broken, str(path))
    with pytest.raises(OnnxExportError, match=r'replaced_token_logits is declared as \(batch, 2\)'):
        verify_onnx(model, path, shapes=((2, 7),))
