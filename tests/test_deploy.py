"""Deployment runtimes: every runtime and precision against MXNet on real NSMC text, shape buckets, the ONNX cache,
the CLI options and their errors, and the default thread setting."""
import json
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.deploy.predictor import cached_onnx, load_predictor
from kobert_gluon.deploy.runtime import InferenceModel
from kobert_gluon.export.onnx_export import export_onnx
from kobert_gluon.tasks.finetuning import FineTunedModel

from .conftest import REPO, error_line, require_shared, run_cli

HAVE_OPENVINO = True
try:
    import openvino  # noqa: F401
except ImportError:
    HAVE_OPENVINO = False
needs_openvino = pytest.mark.skipif(not HAVE_OPENVINO, reason='needs openvino (in the test extra)')

# (runtime, precision): largest probability difference from MXNet fp32 and the share of labels that must agree
TOLERANCES = {
    ('onnxruntime', 'fp32'): (1e-5, 1.0),
    ('openvino', 'fp32'): (1e-5, 1.0),
    ('onnxruntime', 'int8'): (0.1, 0.98),
    ('openvino', 'int8'): (0.1, 0.98),
    ('openvino', 'bf16'): (0.05, 0.98),
}


def _nsmc_reviews(count=300):
    path = require_shared('nsmc', 'ratings_train.txt')
    lines = path.read_text(encoding='utf-8').splitlines()[1:count + 1]
    return [line.split('\t')[1] for line in lines if line.split('\t')[1].strip()]


@pytest.fixture(scope='module')
def mxnet_reference():
    texts = _nsmc_reviews()
    return texts, FineTunedModel.load('kobert-mini-nsmc').predict(texts)


@pytest.mark.parametrize('runtime,precision', sorted(TOLERANCES))
def test_every_runtime_agrees_with_mxnet_on_nsmc_reviews(runtime, precision, mxnet_reference):
    if runtime == 'openvino' and not HAVE_OPENVINO:
        pytest.skip('needs openvino (in the test extra)')
    texts, reference = mxnet_reference
    got = load_predictor('kobert-mini-nsmc', runtime=runtime, precision=precision, threads=2).predict(texts)
    tolerance, agreement = TOLERANCES[runtime, precision]
    assert got.shape == reference.shape
    assert float(np.abs(got - reference).max()) < tolerance
    assert float((got.argmax(1) == reference.argmax(1)).mean()) >= agreement
    np.testing.assert_allclose(got.sum(1), 1.0, rtol=1e-4)


def _mini_backbone(tmp_path):
    bert, _ = get_model('kobert-mini', use_decoder=False, use_classifier=False)
    path = export_onnx(bert, tmp_path / 'mini.onnx')
    return bert, path


@needs_openvino
def test_openvino_pads_to_shape_buckets_and_returns_exactly_the_rows_and_positions_asked(tmp_path):
    bert, path = _mini_backbone(tmp_path)
    model = InferenceModel(path, runtime='openvino', precision='fp32', threads=1)
    rng = np.random.RandomState(0)
    for batch, length in ((3, 5), (2, 7), (4, 12), (3, 16)):
        ids = rng.randint(5, 8000, size=(batch, length))
        types = np.zeros_like(ids)
        valid = np.array([length] + [max(2, length - 2)] * (batch - 1))
        out = model(ids, types, valid)
        seq, pooled = bert(mx.nd.array(ids), mx.nd.array(types), mx.nd.array(valid))
        assert out['sequence_output'].shape == (batch, length, seq.shape[2]) and out['pooled_output'].shape == (
            batch, pooled.shape[1])
        for row, n in enumerate(valid):  # padded positions are undefined in either framework
            np.testing.assert_allclose(out['sequence_output'][row, :n], seq.asnumpy()[row, :n], atol=1e-4)
        np.testing.assert_allclose(out['pooled_output'], pooled.asnumpy(), atol=1e-4)
    assert model.compiled_shapes == [(2, 16), (4, 16)]  # four calls, two compilations


@needs_openvino
def test_a_server_compiles_every_shape_bucket_before_its_first_request(tmp_path):
    """FineTunedModel.prepare (the server's warm-up) compiles each (batch, length) bucket a batch of up to
    max_batch_size rows uses, so that predictions afterwards compile nothing."""
    from kobert_gluon import load_predictor
    model = load_predictor('kobert-mini-nsmc', runtime='openvino', precision='fp32', threads=1,
                           cachedir=tmp_path / 'cache')
    inference = model.model.inference
    lengths = list(range(16, model.max_seq_length + 1, 16))
    expected = [(batch, length) for batch in (1, 2, 4) for length in lengths]
    assert model.shapes_to_prepare(3) == len(expected)
    assert model.prepare(3) == len(expected) and inference.compiled_shapes == sorted(expected)
    assert model.shapes_to_prepare(3) == 0 and model.prepare(3) == 0
    texts = [('정말 재밌어요',), ('최악의 영화 ' * 30,), ('그냥 그랬다',)]
    before = model.predict(texts)
    assert inference.compiled_shapes == sorted(expected)  # nothing compiled on the way
    np.testing.assert_allclose(before, load_predictor('kobert-mini-nsmc').predict(texts), atol=1e-4)


def test_integer_inputs_reach_the_embeddings_without_a_float_round_trip(tmp_path):
    import onnx
    _, path = _mini_backbone(tmp_path)
    graph = onnx.load(str(path)).graph
    gathers = [node for node in graph.node if node.op_type == 'Gather']
    assert {'input_ids', 'token_type_ids'} <= {name for node in gathers for name in node.input}


def test_the_onnx_file_is_exported_once_per_model(tmp_path):
    first = cached_onnx(FineTunedModel.load('kobert-mini-nsmc'))
    stamp = first.stat().st_mtime_ns
    second = cached_onnx(FineTunedModel.load('kobert-mini-nsmc'))
    assert first == second and second.stat().st_mtime_ns == stamp


def test_cli_runtime_options(capsys, tmp_path):
    texts = ['정말 재밌어요', '최악의 영화', '', '배우들 연기가 좋았다']
    code, expected, err = run_cli(capsys, 'predict', '--model', 'kobert-mini-nsmc', *texts)
    assert code == 0, err
    code, out, err = run_cli(capsys, 'predict', '--model', 'kobert-mini-nsmc', '--runtime', 'onnxruntime',
                             '--precision', 'int8', *texts)
    assert code == 0, err
    rows, reference = out.splitlines(), expected.splitlines()
    assert len(rows) == len(reference) == 5
    assert [r.split('\t')[1] for r in rows] == [r.split('\t')[1] for r in reference]
    labeled = tmp_path / 'labeled.tsv'
    labeled.write_text('id\tdocument\tlabel\n1\t정말 재밌어요\t1\n2\t최악의 영화\t0\n', encoding='utf-8')
    results = []
    for runtime in ('mxnet', 'onnxruntime'):
        code, out, err = run_cli(capsys, 'evaluate', '--model', 'kobert-mini-nsmc', '--data', labeled,
                                 '--runtime', runtime, '--json')
        assert code == 0, err
        results.append(json.loads(out))
    assert results[0]['examples'] == results[1]['examples'] == 2
    assert results[0]['accuracy'] == results[1]['accuracy']

    code, _, err = run_cli(capsys, 'predict', '--model', 'kobert-mini-nsmc', '--precision', 'int8', '좋다')
    assert code == 2 and 'pass --calibration FILE' in error_line(err, 'predict')  # MXNet's int8 is calibrated
    code, _, err = run_cli(capsys, 'predict', '--model', 'kobert-mini-nsmc', '--runtime', 'onnxruntime',
                           '--precision', 'bf16', '좋다')
    assert code == 2 and 'no bf16 kernels' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', 'kobert-mini-nsmc', '--runtime', 'onnxruntime',
                           '--threads', '0', '좋다')
    assert code == 2 and 'at least 1' in error_line(err, 'predict')


def test_inference_model_refuses_bad_input(tmp_path):
    _, path = _mini_backbone(tmp_path)
    model = InferenceModel(path, threads=1)
    with pytest.raises(Exception, match='batch x length'):
        model(np.zeros((2, 3)), np.zeros((2, 4)), np.array([3, 3]))
    with pytest.raises(Exception, match='unknown runtime'):
        InferenceModel(path, runtime='tensorrt')
    with pytest.raises(FileNotFoundError):
        InferenceModel(tmp_path / 'missing.onnx')


def _omp_threads(env_value):
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    if env_value is not None:
        env['OMP_NUM_THREADS'] = env_value
    code = 'import os, kobert_gluon.models.bert.model; print(os.environ["OMP_NUM_THREADS"])'
    return subprocess.run([sys.executable, '-c', code], cwd=str(REPO), env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_mxnet_threads_default_to_the_cpus_available_and_the_users_setting_wins():
    assert _omp_threads(None) == str(len(os.sched_getaffinity(0)))
    assert _omp_threads('1') == '1'
