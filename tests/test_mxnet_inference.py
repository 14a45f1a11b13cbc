"""MXNet's own fast inference: the oneDNN-fused graph (the default wherever a model predicts), bfloat16, and int8
calibrated on the task's rows (``--runtime mxnet --precision bf16|int8``).

The fused graph must give the plain graph's outputs (1e-5) for every family and every head; bf16 and int8 are
checked against float32 on real reviews (the shipped NSMC model): the same labels, probabilities close.
"""
import numpy as np
import pytest

from kobert_gluon.core.machine import cpu_has_bf16
from kobert_gluon.models.architecture_registry import get_architecture
from kobert_gluon.models.building import initialize_random
from kobert_gluon.models.inference import fuse, fusion_available

from .conftest import error_line, run_cli, require_shared

mx = pytest.importorskip('mxnet')
MODEL = 'kobert-mini-nsmc'
TINY = {
    'bert': dict(vocab_size=300, num_layers=2, units=32, hidden_size=64, num_heads=2, embed_size=32, dropout=0.0,
                 embed_dropout=0.0),
    'distilbert': dict(vocab_size=300, num_layers=2, units=32, hidden_size=64, num_heads=2, dropout=0.0),
    'electra': dict(vocab_size=300, num_layers=2, units=32, hidden_size=64, num_heads=2, embed_size=16, dropout=0.0),
    'xlm-roberta': dict(vocab_size=300, num_layers=2, units=32, hidden_size=64, num_heads=2, dropout=0.0),
}
REVIEWS = ['정말 재밌어요 또 보고 싶다', '최악의 영화 시간 낭비', '배우들 연기가 좋았다', '지루하고 뻔한 이야기',
           '음악이 아름다운 영화', '돈이 아깝다', '감동적이었어요', '그냥 그랬다']


def _backbone(family, seed=0, **heads):
    architecture = get_architecture(family)
    config = architecture.config_class.from_dict(TINY[family])
    options = {'use_pooler': True, **{h: False for h in architecture.optional_heads if h != 'use_pooler'}, **heads}
    model = architecture.build(config, **{k: v for k, v in options.items() if k in architecture.optional_heads})
    return model


def _heads(family):
    """Every head a family's model predicts with: the backbone itself (encode), the sentence heads, the heads over
    every position, and the family's own per-token head (ELECTRA's replaced-token discriminator)."""
    from kobert_gluon.heads.sequence import SequenceClassifier, SequenceRegressor
    from kobert_gluon.heads.token import SpanExtractor, TokenClassifier
    made = {'backbone': _backbone(family),
            'classifier': SequenceClassifier(_backbone(family), num_classes=3, labels=['a', 'b', 'c']),
            'regressor': SequenceRegressor(_backbone(family)),
            'token_classifier': TokenClassifier(_backbone(family, use_pooler=False), num_labels=5,
                                                labels=['O', 'B-PS', 'I-PS', 'B-LC', 'I-LC']),
            'span_extractor': SpanExtractor(_backbone(family, use_pooler=False))}
    if family == 'electra':
        made['discriminator'] = _backbone(family, use_pooler=False, use_discriminator=True)
    if 'use_decoder' in get_architecture(family).optional_heads:
        made['masked_lm'] = _backbone(family, use_pooler=False, use_decoder=True)
    return made


def _batches(seed=0):
    rng = np.random.RandomState(seed)
    shapes = [(1, 1), (3, 17), (8, 64), (2, 128)]
    return [(mx.nd.array(rng.randint(4, 300, shape)), mx.nd.array(rng.randint(0, 2, shape)),
             mx.nd.array(rng.randint(1, shape[1] + 1, shape[:1]))) for shape in shapes]


def _masked(batches):
    """The batches with a masked-LM's fourth input: two masked positions per row."""
    return [batch + (mx.nd.array(np.tile([0, batch[0].shape[1] - 1], (batch[0].shape[0], 1))),)
            for batch in batches]


def _outputs(block, batches):
    results = []
    for batch in batches:
        out = block(*batch)
        out = out if isinstance(out, (list, tuple)) else [out]
        results.append([o.asnumpy() for o in out])
    return results


@pytest.mark.skipif(not fusion_available(mx.cpu()), reason='this MXNet build has no oneDNN backend')
@pytest.mark.parametrize('family', sorted(TINY))
def test_the_fused_graph_gives_the_plain_graphs_outputs_for_every_head(family):
    for name, block in _heads(family).items():
        batches = _masked(_batches()) if name == 'masked_lm' else _batches()
        initialize_random(block, seed=1)
        block.hybridize(static_alloc=True)
        plain = _outputs(block, batches)
        assert fuse(block, mx.cpu(), example_inputs=batches[1]) == 'oneDNN-fused graph'
        fused = _outputs(block, batches)
        for batch_plain, batch_fused in zip(plain, fused):
            assert len(batch_plain) == len(batch_fused)
            for a, b in zip(batch_plain, batch_fused):
                assert a.shape == b.shape
                assert np.abs(a - b).max() <= 1e-5 * max(1.0, np.abs(a).max()), (family, name)


def test_a_model_predicts_with_the_fused_graph_by_default_and_says_so(capsys):
    from kobert_gluon.tasks.finetuning import FineTunedModel
    model = FineTunedModel.load(MODEL)
    assert model.graph == ('oneDNN-fused graph' if fusion_available(mx.cpu()) else model.graph)
    code, out, err = run_cli(capsys, '--debug', 'predict', '--model', MODEL, '정말 재밌어요')
    assert code == 0 and 'computes with: oneDNN-fused graph' in err


def _predictions(capsys, *options):
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, *options, *REVIEWS)
    assert code == 0, err
    rows = [line.split('\t') for line in out.splitlines()[1:]]
    return [row[1] for row in rows], np.array([[float(p) for p in row[2:]] for row in rows])


@pytest.mark.skipif(not cpu_has_bf16(), reason='this CPU has no bfloat16 instructions')
def test_bf16_keeps_the_labels_of_float32(capsys):
    labels, probabilities = _predictions(capsys)
    bf16_labels, bf16_probabilities = _predictions(capsys, '--precision', 'bf16')
    assert bf16_labels == labels
    assert np.abs(bf16_probabilities - probabilities).max() < 0.02
    assert not np.array_equal(bf16_probabilities, probabilities)  # it did compute in bfloat16


def _calibration_file(tmp_path):
    """Rows of NSMC's training file where the data is there, else reviews written here (same columns)."""
    target = tmp_path / 'calibration.tsv'
    try:
        source = require_shared('nsmc', 'ratings_train.txt')
        lines = source.read_text(encoding='utf-8').splitlines()[:301]
    except pytest.skip.Exception:
        words = ['좋다', '싫다', '재밌다', '지루하다', '최고', '최악', '연기', '음악', '감동', '별로']
        rng = np.random.RandomState(0)
        lines = ['id\tdocument\tlabel'] + ['{}\t{}\t{}'.format(i, ' '.join(rng.choice(words, rng.randint(1, 12))),
                                                                i % 2) for i in range(300)]
    target.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return target


@pytest.mark.skipif(not fusion_available(mx.cpu()), reason='this MXNet build has no oneDNN backend')
def test_int8_is_calibrated_on_the_tasks_rows_once_and_keeps_the_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'home'))
    calibration = _calibration_file(tmp_path)
    labels, probabilities = _predictions(capsys)
    int8_labels, int8_probabilities = _predictions(capsys, '--precision', 'int8', '--calibration', calibration)
    assert int8_labels == labels
    assert np.abs(int8_probabilities - probabilities).max() < 0.05
    assert not np.array_equal(int8_probabilities, probabilities)
    graphs = list((tmp_path / 'home' / 'mxnet-int8').rglob('*.npz'))
    assert len(graphs) == 1  # one calibrated graph, kept in the cache and verified by its record
    assert graphs[0].with_name(graphs[0].name + '.sha256.json').is_file()
    stamp = graphs[0].stat().st_mtime_ns
    again_labels, again = _predictions(capsys, '--precision', 'int8', '--calibration', calibration)
    assert graphs[0].stat().st_mtime_ns == stamp and np.array_equal(again, int8_probabilities)
    # a damaged cached graph is moved aside and made again, never used
    data = bytearray(graphs[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    graphs[0].write_bytes(bytes(data))
    _, rebuilt = _predictions(capsys, '--precision', 'int8', '--calibration', calibration)
    assert np.array_equal(rebuilt, int8_probabilities)
    assert list(graphs[0].parent.glob('*.corrupt-*'))


def test_mxnet_precisions_are_refused_in_one_line_where_they_cannot_run(tmp_path, capsys):
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'int8', '좋다')
    assert code == 2 and 'pass --calibration FILE' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'int8', '--calibration',
                           tmp_path / 'missing.tsv', '좋다')
    assert code == 2 and 'no such file' in error_line(err, 'predict')
    header_only = tmp_path / 'header.tsv'
    header_only.write_text('id\tdocument\tlabel\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'int8', '--calibration', header_only,
                           '좋다')
    assert code == 2 and '--calibration {} has no rows'.format(header_only) in error_line(err, 'predict')
    utf16 = tmp_path / 'utf16.tsv'
    utf16.write_bytes('id\tdocument\tlabel\n1\t좋다\t1\n'.encode('utf-16'))
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'int8', '--calibration', utf16, '좋다')
    line = error_line(err, 'predict')
    assert code == 2 and 'UTF-16' in line and str(utf16) in line  # the user's file, not a copy of its first rows
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'int8', '--calibration', tmp_path,
                           '좋다')
    assert code == 2 and 'a folder' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--runtime', 'onnxruntime', '--precision', 'int8',
                           '--calibration', tmp_path / 'x.tsv', '좋다')
    assert code == 2 and '--calibration applies to --runtime mxnet --precision int8' in error_line(err, 'predict')
    if not cpu_has_bf16():
        code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--precision', 'bf16', '좋다')
        assert code == 2 and 'bfloat16 instructions' in error_line(err, 'predict')
