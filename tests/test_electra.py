"""The electra architecture (KoELECTRA): what every family passes (tests/family_tests.py), its shape, conversion
both ways without the embedding projection and of its discriminator (models transformers itself creates, every tensor
random), and the ``electra`` pretraining objective: its loss against a hand computation, a run that learns and
resumes exactly."""
import json

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.cli import main
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.hub.artifact_store import ArtifactNotFoundError
from kobert_gluon.deploy.runtime import InferenceModel
from kobert_gluon.export.onnx_export import export_onnx
from kobert_gluon.models.electra import KOELECTRA_SMALL_V3_CONFIG, ElectraConfig, build_electra
from kobert_gluon.pretraining.electra import ElectraPretrainingTask, build_electra_pretraining_model
from kobert_gluon.pretraining.pretrain import PretrainSettings, pretrain, pretraining_training_config

from .conftest import error_line
from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: F401
from .family_checks import ELECTRA, IDS, LENGTHS, TOLERANCE, TYPES, max_error, same_params, valid
from .family_checks import quiet_transformers  # noqa: F401  (autouse)
from .family_tests import FamilyTests
from .test_pretraining import data  # noqa: F401  (the module's pretraining-data fixture)
from .training_checks import assert_resumed_exactly

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

TINY = dict(num_layers=1, units=32, hidden_size=64, num_heads=2, max_length=48, embed_size=16)
SMALL = ELECTRA.small  # KoBERT's vocabulary size; embeddings narrower than the encoder
_hf_model, _torch_outputs, _gluon_inputs = ELECTRA.hf_model, ELECTRA.torch_outputs, ELECTRA.gluon_inputs


def test_koelectra_small_has_the_published_shape():
    """koelectra-small-v3's config builds the model transformers builds from KoELECTRA-Small-v3's config.json."""
    published = transformers.ElectraConfig(vocab_size=35000, embedding_size=128, hidden_size=256, num_hidden_layers=12,
                                           num_attention_heads=4, intermediate_size=1024, max_position_embeddings=512)
    expected = transformers.ElectraModel(published).num_parameters()
    assert expected > 14_000_000  # "14M parameters", as KoELECTRA publishes it
    assert KOELECTRA_SMALL_V3_CONFIG.num_parameters() == expected
    model = build_electra(KOELECTRA_SMALL_V3_CONFIG, use_pooler=False)
    model.initialize()
    ids = mx.nd.array([[2, 100, 3]])
    assert model(ids, mx.nd.zeros_like(ids), mx.nd.array([3])).shape == (1, 3, 256)
    assert sum(p.data().size for p in model.collect_params().values()) == expected
    with pytest.raises(ArtifactNotFoundError, match='(?s)working offline.*hf download '
                                                    'monologg/koelectra-small-v3-discriminator.*import-hf DIR'):
        get_model('koelectra-small-v3')  # converted on first use; offline, never fetched: where to get it


class TestElectra(FamilyTests):
    family = ELECTRA  # embeddings narrower than the encoder: the projection converts too

    def test_config_and_tokenizer_kind(self, base):
        config = json.loads((base.folder / 'config.json').read_text())
        assert config['electra']['embed_size'] == 24 and config['electra']['units'] == 48
        assert config['tokenizer']['kind'] == 'sentencepiece-transformers'  # a transformers folder's SentencePiece

    def test_without_the_embedding_projection(self, tmp_path, capsys):
        folder, _, expected = ELECTRA.check_base_model(tmp_path, capsys, embedding_size=48)  # as base models are
        assert json.loads((tmp_path / 'gluon' / 'config.json').read_text())['electra']['embed_size'] == 48
        back, _ = ELECTRA.check_export(folder, tmp_path / 'gluon', 'ElectraModel', tmp_path, expected,
                                       'last_hidden_state')
        import_hf(back, tmp_path / 'gluon2')
        assert same_params(tmp_path / 'gluon', tmp_path / 'gluon2')


def test_discriminator_in_and_out(tmp_path):
    hf, folder = _hf_model('ElectraForPreTraining', tmp_path)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    _, logits = model(*_gluon_inputs())
    expected = _torch_outputs(hf).logits.numpy()
    assert logits.shape == expected.shape == IDS.shape
    assert max_error(valid(logits.asnumpy()), valid(expected)) < TOLERANCE
    # the discriminator exports to ONNX with its replaced-token logits (here with every layer's output too)
    path = export_onnx(model, tmp_path / 'discriminator.onnx', all_layers=True)
    outputs = InferenceModel(path, threads=1)(IDS, TYPES, LENGTHS)
    assert set(outputs) == {'encoder_layer_1', 'encoder_layer_2', 'replaced_token_logits'}
    assert max_error(valid(outputs['replaced_token_logits']), valid(expected)) < TOLERANCE
    assert max_error(valid(outputs['encoder_layer_2']),
                     valid(_torch_outputs(transformers.ElectraModel.from_pretrained(folder).eval())
                            .last_hidden_state.numpy())) < TOLERANCE
    ELECTRA.check_export(folder, tmp_path / 'gluon', 'ElectraForPreTraining', tmp_path, expected)


def test_generator_shares_the_embeddings():
    config = ElectraConfig(vocab_size=50, num_layers=2, units=32, hidden_size=64, num_heads=4, embed_size=16,
                           max_length=16)
    assert config.generator(0.25) == config.replace(units=8, num_heads=1, hidden_size=16)
    model = build_electra_pretraining_model(config, 0.25, seed=3)
    discriminator, generator = model.discriminator, model.generator
    assert generator.word_embed[0].weight is discriminator.word_embed[0].weight
    assert generator.encoder.embedding.position_weight is discriminator.encoder.embedding.position_weight
    assert generator.decoder[3].weight is discriminator.word_embed[0].weight  # the MLM output layer is tied
    assert generator.kobert_config.units == 8 and generator.encoder.transformer_cells[0].ffn.ffn_1.weight.shape[0] == 16
    with pytest.raises(InputError, match='fraction'):
        config.generator(1.5)


def test_rtd_loss_against_numpy(nsmc_vocab):  # noqa: F811
    """The replacements, labels and both loss terms of one batch, recomputed in numpy from the same outputs."""
    config = ElectraConfig(vocab_size=len(nsmc_vocab.tokenizer().vocab), **TINY)
    model = build_electra_pretraining_model(config, 0.5, seed=0)
    task = ElectraPretrainingTask(None, None, rtd_weight=50.0)
    ids = np.array([[2, 10, 4, 12, 3, 1], [2, 20, 21, 4, 23, 3]], dtype=np.int32)  # 4 is [MASK]
    positions = np.array([[2, 0], [3, 1]], dtype=np.int32)
    originals = np.array([[11, 0], [22, 20]], dtype=np.int32)
    weights = np.array([[1, 0], [1, 1]], dtype=np.float32)  # the first row's second prediction is padding
    batch = [mx.nd.array(x, dtype=x.dtype) for x in (ids, np.zeros_like(ids), np.array([5, 6], dtype=np.int32),
                                                      positions, originals, weights, np.zeros(2, dtype=np.int32))]
    mx.random.seed(7)
    mlm_ce, mlm_logits, _, _, rtd_ce, rtd_logits, labels, real = task._forward(model, batch)
    mx.random.seed(7)
    total, sequences, sums, _ = task.loss(model, batch)
    # the discriminator's input, rebuilt: originals back in place, then what the generator sampled (same seed)
    labels, real = labels.asnumpy(), real.asnumpy()
    np.testing.assert_array_equal(real, [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]])
    assert labels[0, 0] == labels[0, 1] == labels[1, 2] == 0  # never predicted, never replaced
    logits = rtd_logits.asnumpy().astype(np.float64)
    bce = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    rtd = (bce * real).sum() / real.sum()
    scores = mlm_logits.asnumpy().astype(np.float64).reshape(-1, config.vocab_size)
    log_probs = scores - np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - scores.max(1, keepdims=True)
    mlm = -(log_probs[np.arange(4), originals.reshape(-1)] * weights.reshape(-1)).sum() / weights.sum()
    assert sequences == 2
    assert float(total.asscalar()) == pytest.approx(mlm + 50 * rtd, rel=1e-4)
    assert float(sums['rtd_loss'][0].asscalar()) / float(sums['rtd_loss'][1].asscalar()) == pytest.approx(rtd, rel=1e-4)
    assert float(sums['replaced_fraction'][1].asscalar()) == 11  # real tokens


def _settings(data, nsmc_vocab, **training):  # noqa: F811
    options = dict(max_steps=6, eval_every=3, checkpoint_every=2, log_every=1, learning_rate=5e-3,
                   warmup_ratio=0.0, progress=False)
    options.update(training)
    return PretrainSettings(data=str(data.folder), model='koelectra-small-v3', from_scratch=True,
                            vocab=str(nsmc_vocab.folder), model_overrides=TINY, objective='electra',
                            generator_size=0.5, batch_size=16, max_dev_instances=64,
                            training=pretraining_training_config(**options))


def test_electra_pretraining_runs_resumes_and_fine_tunes(data, nsmc_vocab, tmp_path):  # noqa: F811
    full = pretrain(_settings(data, nsmc_vocab), tmp_path / 'full', log=lambda line: None)
    steps = full.history['steps']
    assert len(steps) == 6 and steps[-1][1] < steps[0][1]  # the loss falls
    assert {'mlm_loss', 'mlm_accuracy', 'rtd_loss', 'rtd_accuracy', 'rtd_recall'} <= set(steps[0][4])
    dev = full.history['evaluations'][-1]['dev']
    assert 0.0 < dev['replaced_fraction'] < 0.2 and dev['loss'] == pytest.approx(dev['mlm_loss'] + 50 * dev['rtd_loss'])
    run = json.loads((tmp_path / 'full' / 'run.json').read_text())
    assert run['model']['architecture'] == 'electra' and run['model']['generator']['electra']['units'] == 16
    best, _ = get_model(str(full.model_dir))
    assert type(best).__name__ == 'ElectraModel' and best._use_discriminator and not best._use_pooler

    stopped = pretrain(_settings(data, nsmc_vocab), tmp_path / 'resumed', log=lambda line: None,
                       should_stop=lambda state: state['step'] >= 4)
    assert stopped.interrupted
    resumed = pretrain(_settings(data, nsmc_vocab), tmp_path / 'resumed', resume=True, log=lambda line: None)
    assert_resumed_exactly(full, resumed, steps)

    # the discriminator is a backbone: a classifier gets a new pooler over it; it exports as ElectraForPreTraining
    from kobert_gluon.tasks.datasets import get_task
    from kobert_gluon.tasks.finetuning import build_task_model
    head, _ = build_task_model(get_task('nsmc'), ['0', '1'], model=str(full.model_dir))
    assert head(mx.nd.array(IDS[:, :5]), mx.nd.zeros((2, 5)), mx.nd.array([5, 5])).shape == (2, 2)
    back = export_hf(full.model_dir, tmp_path / 'hf')
    assert json.loads((back / 'config.json').read_text())['architectures'] == ['ElectraForPreTraining']


def test_electra_objective_errors(data, nsmc_vocab, tmp_path, capsys):  # noqa: F811
    base = ['pretrain', '--data', data.folder, '--vocab', nsmc_vocab.folder, '--objective', 'electra',
            '--no-progress', '--max-steps', '1']
    code = main([str(a) for a in base + ['--model', 'kobert-base', '--from-scratch', '--out', tmp_path / 'a']])
    assert code == 2 and 'trains an ELECTRA' in capsys.readouterr().err
    code = main([str(a) for a in base + ['--model', 'koelectra-small-v3', '--out', tmp_path / 'b']])
    assert code == 2 and '--from-scratch' in capsys.readouterr().err
    code = main([str(a) for a in base + ['--model', 'koelectra-small-v3', '--from-scratch', '--generator-size', '0',
                                         '--out', tmp_path / 'c']])
    assert code == 2 and '--generator-size must be a number > 0' in capsys.readouterr().err
    code = main([str(a) for a in ['pretrain', '--data', data.folder, '--vocab', nsmc_vocab.folder, '--model',
                                  'koelectra-small-v3', '--from-scratch', '--out', tmp_path / 'd']])
    assert code == 2 and '--objective electra' in capsys.readouterr().err
    # MXNet's adam with weight decay collapsed a real run's weights (see training.trainer): refused up front
    code = main([str(a) for a in base + ['--model', 'koelectra-small-v3', '--from-scratch', '--optimizer', 'adam',
                                         '--out', tmp_path / 'e']])
    assert code == 2 and 'use bertadam' in error_line(capsys.readouterr().err, 'pretrain')
    assert not any((tmp_path / name).exists() for name in 'abcde')


def test_the_bert_objective_points_another_architecture_to_the_objective_that_trains_it():
    from kobert_gluon.pretraining.pretrain import build_pretraining_model
    with pytest.raises(InputError, match='trains a BERT, and koelectra-base-v1 is a electra model; pass --objective '
                                         'electra for it'):
        build_pretraining_model('koelectra-base-v1', from_scratch=True, vocab_folder='kobert-mini')
    with pytest.raises(InputError, match='distilkobert is a distilbert model; distill trains a distilbert student'):
        build_pretraining_model('distilkobert', from_scratch=True, vocab_folder='kobert-mini')
