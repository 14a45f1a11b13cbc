"""The electra architecture (KoELECTRA): its shape, conversion both ways against models transformers itself creates
(every tensor random, with and without the embedding projection), ONNX, fine-tuning, and the ``electra``
pretraining objective: its loss against a hand computation, a run that learns and resumes exactly."""
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

from .conftest import error_line, run_cli
from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: F401
from .test_convert import IDS, LENGTHS, TOLERANCE, TYPES, _max_error, _params, _perturbed, _valid, \
    _with_tokenizer_files
from .test_pretraining import data  # noqa: F401  (the module's pretraining-data fixture)

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

# KoBERT's vocabulary size (the tokenizer files of kobert-mini go along); embeddings narrower than the encoder
SMALL = dict(vocab_size=8002, embedding_size=24, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=96, max_position_embeddings=64, pad_token_id=1)
TINY = dict(num_layers=1, units=32, hidden_size=64, num_heads=2, max_length=48, embed_size=16)


def _hf_model(architecture, tmp_path, **config):
    model = _perturbed(getattr(transformers, architecture)(transformers.ElectraConfig(**{**SMALL, **config})))
    folder = tmp_path / architecture
    model.save_pretrained(folder)
    _with_tokenizer_files(folder)
    return model, folder


def _torch_outputs(model):
    mask = (np.arange(IDS.shape[1])[None] < LENGTHS[:, None]).astype('int64')
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS), token_type_ids=torch.tensor(TYPES),
                     attention_mask=torch.tensor(mask))


def _gluon_inputs():
    return mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS)


def _same_tensors(original, exported) -> bool:
    from safetensors.numpy import load_file
    first, second = load_file(str(original / 'model.safetensors')), load_file(str(exported / 'model.safetensors'))
    return set(second) == set(first) and all(np.array_equal(first[name], second[name]) for name in second)


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


@pytest.mark.parametrize('embedding_size', [24, 48])  # with the projection, and without (base models)
def test_electra_model_in_and_out(tmp_path, capsys, embedding_size):
    hf, folder = _hf_model('ElectraModel', tmp_path, embedding_size=embedding_size)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'gluon')
    assert code == 0, err
    model, _ = get_model(str(tmp_path / 'gluon'))
    sequence = model(*_gluon_inputs())
    expected = _torch_outputs(hf).last_hidden_state.numpy()
    assert _max_error(_valid(sequence.asnumpy()), _valid(expected)) < TOLERANCE
    config = json.loads((tmp_path / 'gluon' / 'config.json').read_text())
    assert config['architecture'] == 'electra' and config['electra']['embed_size'] == embedding_size
    assert config['tokenizer']['kind'] == 'sentencepiece-transformers'  # a transformers folder's SentencePiece

    back = export_hf(tmp_path / 'gluon', tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.ElectraModel.from_pretrained(back).eval()
    assert _max_error(_torch_outputs(again).last_hidden_state.numpy(), expected) < 1e-6
    import_hf(back, tmp_path / 'gluon2')
    first, second = _params(tmp_path / 'gluon'), _params(tmp_path / 'gluon2')
    assert first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


def test_discriminator_in_and_out(tmp_path):
    hf, folder = _hf_model('ElectraForPreTraining', tmp_path)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    _, logits = model(*_gluon_inputs())
    expected = _torch_outputs(hf).logits.numpy()
    assert logits.shape == expected.shape == IDS.shape
    assert _max_error(_valid(logits.asnumpy()), _valid(expected)) < TOLERANCE
    # the discriminator exports to ONNX with its replaced-token logits (here with every layer's output too)
    path = export_onnx(model, tmp_path / 'discriminator.onnx', all_layers=True)
    outputs = InferenceModel(path, threads=1)(IDS, TYPES, LENGTHS)
    assert set(outputs) == {'encoder_layer_1', 'encoder_layer_2', 'replaced_token_logits'}
    assert _max_error(_valid(outputs['replaced_token_logits']), _valid(expected)) < TOLERANCE
    assert _max_error(_valid(outputs['encoder_layer_2']),
                      _valid(_torch_outputs(transformers.ElectraModel.from_pretrained(folder).eval())
                             .last_hidden_state.numpy())) < TOLERANCE
    back = export_hf(tmp_path / 'gluon', tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.ElectraForPreTraining.from_pretrained(back).eval()
    assert _max_error(_torch_outputs(again).logits.numpy(), expected) < 1e-6


@pytest.mark.parametrize('num_labels', [3, 1])
def test_sequence_classifier_and_regressor_in_and_out(tmp_path, capsys, num_labels):
    labels = {0: 'neg', 1: 'neutral', 2: 'pos'} if num_labels == 3 else {0: 'score'}
    hf, folder = _hf_model('ElectraForSequenceClassification', tmp_path, num_labels=num_labels, id2label=labels,
                           label2id={v: k for k, v in labels.items()})
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = get_model(str(out))
    got = model(*_gluon_inputs()).asnumpy()
    expected = _torch_outputs(hf).logits.numpy()
    assert _max_error(got.reshape(expected.shape), expected) < TOLERANCE
    if num_labels == 3:
        code, printed, err = run_cli(capsys, 'predict', '--model', out, '좋아요')
        assert code == 0 and printed.splitlines()[0].split('\t') == ['text', 'label', 'p_neg', 'p_neutral', 'p_pos']
        path = export_onnx(model, tmp_path / 'electra.onnx')
        by_onnx = InferenceModel(path, threads=1)(IDS, TYPES, LENGTHS)['logits']
        assert _max_error(by_onnx, got) < TOLERANCE
    back = export_hf(out, tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.ElectraForSequenceClassification.from_pretrained(back).eval()
    assert _max_error(_torch_outputs(again).logits.numpy(), expected) < 1e-6
    assert again.config.num_labels == num_labels


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
    assert [s[1] for s in resumed.history['steps']] == pytest.approx([s[1] for s in steps], rel=1e-5)
    first = mx.nd.load(str(full.model_dir / 'model.params'))
    second = mx.nd.load(str(resumed.model_dir / 'model.params'))
    for name in first:
        np.testing.assert_allclose(first[name].asnumpy(), second[name].asnumpy(), rtol=1e-5, atol=1e-6)

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
