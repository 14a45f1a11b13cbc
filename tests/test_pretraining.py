"""Pretraining on real NSMC instances with tiny models: loss, batching, dev hold-out, resume, the hand-off to
fine-tuning, and the ``pretrain`` command's errors."""
import json
import math
from pathlib import Path

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import (InstanceOptions, PretrainSettings, PretrainingBatches, PretrainingData, PretrainingTask,
                          TextSource, Trainer, TrainingConfig, create_pretraining_data, get_model, pretrain)
from kobert_gluon.cli import main
from kobert_gluon.pretraining.pretrain import build_pretraining_model, pretraining_training_config
from kobert_gluon.pretraining.batches import shard_files, split_dev_chunks

from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: F401

REVIEWS = 400
TINY = dict(num_layers=1, units=32, hidden_size=64, num_heads=2, max_length=48)
TINY_ARGS = ['--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64', '--num-heads', '2',
             '--max-length', '48', '--no-progress']


@pytest.fixture(scope='module')
def data(nsmc_train_slice, nsmc_vocab, tmp_path_factory):
    """~940 instances of the first 400 reviews: 4 chunks of 100 reviews, 2 shards each."""
    folder = tmp_path_factory.mktemp('pretraining')
    reviews = folder / 'reviews.txt'
    with open(nsmc_train_slice, encoding='utf-8') as source:
        reviews.write_text(''.join(source.readline() for _ in range(REVIEWS + 1)), encoding='utf-8')
    options = InstanceOptions(max_seq_length=48, max_predictions_per_seq=8, dupe_factor=2)
    return create_pretraining_data(TextSource([reviews], column='document'), folder / 'data',
                                   nsmc_vocab.tokenizer(), input_format='lines', options=options,
                                   chunk_documents=100, instances_per_shard=200)


def tiny_model(nsmc_vocab, seed=0):
    model, vocab, _ = build_pretraining_model('kobert-base', from_scratch=True, vocab_folder=nsmc_vocab.folder,
                                              model_overrides=TINY, dropout=0.0, seed=seed)
    return model, vocab


class RepeatedBatch:
    """The trainer's data protocol over one batch, ``steps`` times."""

    def __init__(self, batch, steps):
        self.batch, self.steps = batch, steps

    def num_batches(self, epoch):
        return self.steps

    def batches(self, epoch, start=0):
        return iter([self.batch] * (self.steps - start))

    def fingerprint(self, epoch):
        return 'repeated'


class HandBatches:
    def __init__(self, *batches):
        self._batches = batches

    def batches(self):
        return iter(self._batches)


def first_batch(data, size=16):
    train, _ = split_dev_chunks(data, 1)
    return next(PretrainingBatches(train, size, seed=0).batches(0))


def test_mlm_loss_falls_on_a_repeated_batch(data, nsmc_vocab):
    model, _ = tiny_model(nsmc_vocab)
    config = TrainingConfig(epochs=1, learning_rate=5e-3, warmup_ratio=0.0, progress=False)
    history = Trainer(model, PretrainingTask(), config, log=lambda line: None).fit(
        RepeatedBatch(first_batch(data), 40)).history
    mlm = [step[4]['mlm_loss'] for step in history['steps']]
    accuracy = [step[4]['mlm_accuracy'] for step in history['steps']]
    assert len(mlm) == 40
    assert mlm[0] == pytest.approx(math.log(2002), rel=0.05)  # random weights: about uniform over the vocab
    assert np.mean(mlm[-3:]) < 0.5 * np.mean(mlm[:3])
    assert accuracy[-1] > accuracy[0] + 0.3
    # the step loss is the sum of the two task losses
    assert history['steps'][-1][1] == pytest.approx(mlm[-1] + history['steps'][-1][4]['nsp_loss'], rel=1e-5)


def _with_extra_prediction(batch, position, token, weight):
    ids, types, length, positions, labels, weights, nsp = batch
    column = mx.nd.ones((positions.shape[0], 1), dtype='int32')
    return (ids, types, length, mx.nd.concat(positions, column * position, dim=1),
            mx.nd.concat(labels, column * token, dim=1),
            mx.nd.concat(weights, mx.nd.ones((positions.shape[0], 1)) * weight, dim=1), nsp)


def test_weight_zero_predictions_change_nothing(data, nsmc_vocab):
    model, _ = tiny_model(nsmc_vocab)
    task = PretrainingTask()
    batch = first_batch(data)
    loss, sequences, sums, _ = task.loss(model, batch)
    padded_loss, _, padded_sums, _ = task.loss(model, _with_extra_prediction(batch, 2, 7, 0.0))
    assert sequences == 16
    assert float(padded_loss.asscalar()) == pytest.approx(float(loss.asscalar()), rel=1e-6)
    for name in sums:
        assert float(padded_sums[name][0].asscalar()) == pytest.approx(float(sums[name][0].asscalar()), rel=1e-6)
    # ...while the same prediction with weight 1 does count
    _, _, counted_sums, _ = task.loss(model, _with_extra_prediction(batch, 2, 7, 1.0))
    # (its cross-entropy, about log(vocabulary size) for a random model, joins the summed MLM loss; the mean
    # may hardly move, since a random model's mean is about the same number)
    assert float(counted_sums['mlm_loss'][0].asscalar()) > float(sums['mlm_loss'][0].asscalar()) + 1.0
    assert float(counted_sums['mlm_loss'][1].asscalar()) == float(sums['mlm_loss'][1].asscalar()) + 16


def test_mlm_and_nsp_accuracy_and_loss_on_a_hand_made_batch(nsmc_vocab):
    model, _ = tiny_model(nsmc_vocab)
    token = 42
    ids = mx.nd.array([[2, 5, 6, 3, 9, 3], [2, 7, 3, 8, 3, 1], [2, 5, 3, 6, 3, 1], [2, 9, 3, 5, 3, 1]], dtype='int32')
    types = mx.nd.array([[0, 0, 0, 0, 1, 1]] * 4, dtype='int32')
    length = mx.nd.array([6, 5, 5, 5])
    positions = mx.nd.array([[1, 2], [1, 3], [1, 0], [3, 0]], dtype='int32')
    labels = mx.nd.array([[token, 11], [token, token], [12, token], [token, token]], dtype='int32')
    weights = mx.nd.array([[1, 1], [1, 1], [1, 0], [1, 0]])  # the two weight-0 slots hold the token: not counted
    nsp = mx.nd.array([0, 1, 1, 1], dtype='int32')
    batch = (ids, types, length, positions, labels, weights, nsp)
    model(ids, types, length, positions)  # completes deferred initialisation
    # The NSP head always says "B follows A" (logits [1, 0]); the MLM decoder always predicts `token`.
    model.classifier.weight.set_data(mx.nd.zeros(model.classifier.weight.shape))
    model.classifier.bias.set_data(mx.nd.array([1.0, 0.0]))
    bias = np.zeros(model.decoder[3].bias.shape, dtype='float32')
    bias[token] = 100.0
    model.decoder[3].bias.set_data(mx.nd.array(bias))
    metrics = PretrainingTask().evaluate(model, HandBatches(batch))
    assert metrics['mlm_accuracy'] == pytest.approx(4 / 6)  # weighted: 4 of the 6 real predictions are `token`
    assert metrics['nsp_accuracy'] == pytest.approx(1 / 4)
    assert metrics['nsp_loss'] == pytest.approx((math.log(1 + math.exp(-1)) + 3 * math.log(1 + math.e)) / 4,
                                                rel=1e-5)
    assert metrics['loss'] == pytest.approx(metrics['mlm_loss'] + metrics['nsp_loss'])
    assert metrics['mlm_loss'] == pytest.approx(100 * 2 / 6, rel=0.02)  # 2 of 6 real predictions miss by ~100


def test_batches_are_bucketed_complete_deterministic_and_shardable(data):
    train, _ = split_dev_chunks(data, 1)
    batches = PretrainingBatches(train, 16, seed=3)
    epoch0 = list(batches.batch_indices(0))
    seen = sorted((shard, int(i)) for shard, indices in epoch0 for i in indices)
    assert seen == sorted((s, i) for s, shard in enumerate(train) for i in range(shard.instances))
    assert len(epoch0) == batches.num_batches(0)
    assert [(s, list(i)) for s, i in epoch0] == [(s, list(i)) for s, i in batches.batch_indices(0)]
    assert [(s, list(i)) for s, i in epoch0] != [(s, list(i)) for s, i in batches.batch_indices(1)]
    assert batches.fingerprint(0) == PretrainingBatches(train, 16, seed=3).fingerprint(0) != batches.fingerprint(1)
    # bucketing pads far less than batches of arbitrary lengths (windows of one batch do not sort)
    assert batches.padding_fraction(0) < 0.5 * PretrainingBatches(train, 16, seed=3,
                                                                   bucket_window=1).padding_fraction(0)
    # a batch is cut to its longest sequence and to its largest number of predictions
    for batch in batches.batches(0):
        ids, _, length, positions, _, weights, _ = batch
        assert ids.shape[1] == int(length.max().asscalar())
        assert positions.shape[1] == int((weights > 0).sum(axis=1).max().asscalar())
    # starting mid-epoch (a resumed run) gives exactly the rest of the epoch, across shard boundaries
    everything = [b[0].asnumpy() for b in batches.batches(0)]
    rest = [b[0].asnumpy() for b in batches.batches(0, start=17)]
    assert len(rest) == len(everything) - 17
    assert all(np.array_equal(a, b) for a, b in zip(everything[17:], rest))
    # two ranks: 16 is the global batch; each rank takes its half of every batch one process would take
    ranks = [PretrainingBatches(train, 16, seed=3, num_ranks=2, rank=r) for r in (0, 1)]
    parts = [list(rank.batch_indices(0)) for rank in ranks]
    assert len(parts[0]) == len(parts[1]) == len(epoch0) == ranks[0].num_batches(0)
    shares = [rank.shares(0) for rank in ranks]
    stand_ins = 0
    for (shard, whole), (shard0, part0), (shard1, part1), (n1, total) in zip(epoch0, parts[0], parts[1], shares[1]):
        assert shard == shard0 == shard1 and total == len(whole)
        if n1 == 0:  # a one-instance batch: rank 1 runs a stand-in (its first instance), weighted 0 by the trainer
            stand_ins += 1
            assert len(whole) == 1 and list(part1) == list(part0) == list(whole)
            continue
        assert not set(part0) & set(part1) and len(part0) - len(part1) in (0, 1)
        assert sorted(set(part0) | set(part1)) == sorted(whole) and n1 == len(part1)
    assert [a + b for (a, _), (b, _) in zip(*shares)] == [len(w) for _, w in epoch0]
    assert stand_ins < len(epoch0)


def test_dev_is_held_out_as_whole_chunks(data):
    train, dev = split_dev_chunks(data, 1)
    assert {s.chunk for s in dev} == {3} and {s.chunk for s in train} == {0, 1, 2}
    assert len(train) + len(dev) == len(shard_files(data)) == 8
    with pytest.raises(ValueError, match='leaves nothing to train on'):
        split_dev_chunks(data, 4)


def settings_for(data, nsmc_vocab, **training):
    options = dict(max_steps=14, learning_rate=2e-3, warmup_ratio=0.1, eval_every=5, checkpoint_every=3,
                   log_every=0, progress=False)
    options.update(training)
    return PretrainSettings(data=str(data.folder), from_scratch=True, vocab=str(nsmc_vocab.folder),
                            model_overrides=TINY, batch_size=16, max_dev_instances=64,
                            training=pretraining_training_config(**options))


def params_of(folder):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(Path(folder) / 'model.params')).items()}


def assert_same_run(a, b):
    metrics_a = json.loads((a / 'metrics.json').read_text())
    metrics_b = json.loads((b / 'metrics.json').read_text())
    assert [s[0] for s in metrics_a['steps']] == [s[0] for s in metrics_b['steps']]
    np.testing.assert_allclose([s[1] for s in metrics_a['steps']], [s[1] for s in metrics_b['steps']], rtol=1e-5)
    for step_a, step_b in zip(metrics_a['steps'], metrics_b['steps']):
        for name, value in step_a[4].items():
            assert step_b[4][name] == pytest.approx(value, rel=1e-5)
    assert [e['step'] for e in metrics_a['evaluations']] == [e['step'] for e in metrics_b['evaluations']]
    for eval_a, eval_b in zip(metrics_a['evaluations'], metrics_b['evaluations']):
        for name, value in eval_a['dev'].items():
            assert eval_b['dev'][name] == pytest.approx(value, rel=1e-5)
    params_a, params_b = params_of(a / 'best'), params_of(b / 'best')
    assert params_a.keys() == params_b.keys()
    for name in params_a:
        np.testing.assert_allclose(params_a[name], params_b[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_resume_after_a_stop_matches_the_uninterrupted_run(data, nsmc_vocab, tmp_path):
    settings = settings_for(data, nsmc_vocab, accumulate=2)
    straight = pretrain(settings, tmp_path / 'straight', log=lambda line: None)
    metrics = json.loads((tmp_path / 'straight' / 'metrics.json').read_text())
    assert [e['step'] for e in metrics['evaluations']] == [5, 10, 14] and straight.history['total_steps'] == 14
    assert set(metrics['evaluations'][0]['dev']) == {'loss', 'mlm_loss', 'mlm_accuracy', 'nsp_loss',
                                                    'nsp_accuracy', 'mlm_perplexity'}
    # Stop after step 8: the last checkpoint is step 6, so steps 7-8 are lost as in a kill and redone.
    stopped = pretrain(settings, tmp_path / 'resumed', log=lambda line: None,
                       should_stop=lambda progress: progress['step'] == 8)
    assert stopped.interrupted
    resumed = pretrain(settings, tmp_path / 'resumed', resume=True, log=lambda line: None)
    assert not resumed.interrupted and resumed.history['steps'][-1][0] == 14
    assert_same_run(tmp_path / 'straight', tmp_path / 'resumed')
    # ...and the comparison is not vacuous: another seed gives another run
    pretrain(settings_for(data, nsmc_vocab, accumulate=2, seed=1), tmp_path / 'other', log=lambda line: None)
    with pytest.raises(AssertionError):
        assert_same_run(tmp_path / 'straight', tmp_path / 'other')
    with pytest.raises(ValueError, match='training.learning_rate: 0.002 -> 0.001'):
        pretrain(settings_for(data, nsmc_vocab, accumulate=2, learning_rate=1e-3), tmp_path / 'resumed',
                 resume=True, log=lambda line: None)


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_pretrain_command_then_finetune_from_its_model(data, nsmc_vocab, nsmc_train_slice, tmp_path, capsys):
    out = tmp_path / 'pretrain'
    code, stdout, err = run_cli(capsys, 'pretrain', '--data', data.folder, '--vocab', nsmc_vocab.folder, *TINY_ARGS,
                                '--max-steps', 12, '--eval-every', 6, '--batch-size', 16, '--lr', 2e-3,
                                '--max-dev-instances', 64, '--log-every', 4, '--param-dtype', 'float16', '--out', out)
    assert code == 0, err
    assert 'model: {}'.format(out / 'best') in stdout and 'step 4/12: loss' in err
    assert sorted(p.name for p in out.iterdir()) == ['best', 'checkpoint', 'kobert-gluon-folder.json',
                                                     'metrics.json', 'run.json', 'training.png']
    run = json.loads((out / 'run.json').read_text())
    assert run['data']['train']['chunks'] == [0, 1, 2] and run['data']['dev']['chunks'] == [3]
    assert run['data']['dev']['evaluated'] == 64 and run['settings']['training']['max_steps'] == 12
    # the model folder keeps every head and loads with the registry function
    config = json.loads((out / 'best' / 'config.json').read_text())
    assert config['heads'] == {'use_pooler': True, 'use_decoder': True, 'use_classifier': True}
    assert config['param_dtype'] == 'float16' and config['bert']['num_layers'] == 1
    model, vocab = get_model(str(out / 'best'))
    assert len(vocab) == 2002 and model._use_decoder and model._use_classifier
    pretrained = params_of(out / 'best')

    # Fine-tune from it with a vanishing learning rate: its encoder must be the pretrained one.
    finetuned = tmp_path / 'finetune'
    code, _, err = run_cli(capsys, 'finetune', '--task', 'nsmc', '--train', nsmc_train_slice, '--model', out / 'best',
                           '--max-train-rows', 64, '--epochs', 1, '--batch-size', 16, '--lr', 1e-12,
                           '--max-seq-length', 48, '--no-progress', '--out', finetuned)
    assert code == 0, err
    tuned = params_of(finetuned / 'best')
    encoder = [name for name in pretrained if name.startswith(('encoder.', 'word_embed.', 'token_type_embed.'))]
    assert len(encoder) > 10
    for name in encoder:
        np.testing.assert_allclose(tuned['bert.' + name], pretrained[name], atol=1e-6, err_msg=name)
    fresh = tiny_model(nsmc_vocab)[0]
    fresh_embedding = fresh.word_embed[0].weight.data().asnumpy()
    assert not np.allclose(fresh_embedding, tuned['bert.word_embed.0.weight'], atol=1e-3)
    assert json.loads((finetuned / 'best' / 'vocab.json').read_text()) == \
        json.loads((out / 'best' / 'vocab.json').read_text())


def test_pretrain_command_errors_are_one_line(data, tmp_path, capsys):
    def error(*args):
        code, _, err = run_cli(capsys, 'pretrain', *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        return err

    # kobert-mini's own vocabulary (8,002 tokens) is not the one the data was made with
    assert 'was made with another vocabulary' in error('--data', data.folder, '--model', 'kobert-mini', *TINY_ARGS,
                                                       '--out', tmp_path / 'a')
    assert not (tmp_path / 'a' / 'checkpoint').exists()
    assert 'no such folder' in error('--data', tmp_path / 'missing', *TINY_ARGS, '--out', tmp_path / 'b')
    assert 'is not a pretraining data folder' in error('--data', tmp_path, *TINY_ARGS, '--out', tmp_path / 'c')
    (tmp_path / 'taken').mkdir()
    (tmp_path / 'taken' / 'notes.txt').write_text('mine')
    assert 'already exists' in error('--data', data.folder, *TINY_ARGS, '--out', tmp_path / 'taken')
    assert 'only works with --from-scratch' in error('--data', data.folder, '--num-layers', 2, '--out', tmp_path / 'd')
    assert '--data is required' in error('--out', tmp_path / 'e')
    assert 'no run.json' in error('--resume', '--out', tmp_path / 'nothing')
    assert (tmp_path / 'taken' / 'notes.txt').read_text() == 'mine'
