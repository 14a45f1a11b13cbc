"""The generic trainer with a toy task (what any task, e.g. pretraining, plugs in) and its schedule."""
import math

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import nn

from kobert_gluon import Trainer, TrainingConfig
from kobert_gluon.core.errors import InputError
from kobert_gluon.training.distributed import Ranks
from kobert_gluon.training.trainer import learning_rate_at, read_checkpoint


def test_learning_rate_schedule_by_hand():
    # 10 steps, 2 of warmup, peak 1.0: warmup 0.5, 1.0; then linear 8/8 .. 1/8
    linear = [learning_rate_at(s, 10, 1.0, 2, 'linear') for s in range(10)]
    assert linear == pytest.approx([0.5, 1.0] + [k / 8 for k in range(8, 0, -1)])
    cosine = [learning_rate_at(s, 10, 1.0, 2, 'cosine') for s in range(10)]
    assert cosine[2] == pytest.approx(1.0)
    assert cosine[6] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    assert learning_rate_at(7, 10, 1.0, 0, 'constant') == 1.0


class ListBatches:
    """Fixed batches per epoch: the smallest thing that satisfies the trainer's data protocol."""

    def __init__(self, batches):
        self._batches = batches

    def num_batches(self, epoch):
        return len(self._batches)

    def batches(self, epoch, start=0):
        return iter(self._batches[start:])

    def fingerprint(self, epoch):
        return 'fixed'


class LinearRegressionTask:
    metric = 'neg_mse'

    def loss(self, model, batch):
        x, y = batch
        return ((model(x).reshape((-1,)) - y) ** 2).mean(), x.shape[0]

    def evaluate(self, model, data):
        x, y = data
        return {'neg_mse': -float(((model(x).reshape((-1,)) - y) ** 2).mean().asscalar())}


def make_model(seed=0):
    mx.random.seed(seed)
    model = nn.Dense(1, in_units=3)
    model.initialize(mx.init.Normal(0.5))
    return model


def data(n, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 3).astype('float32')
    y = x @ np.array([1.0, -2.0, 0.5], dtype='float32') + 0.3
    return mx.nd.array(x), mx.nd.array(y)


def test_toy_task_learns_and_keeps_the_best_epoch():
    x, y = data(64)
    batches = ListBatches([(x[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8)])
    config = TrainingConfig(epochs=4, learning_rate=0.1, warmup_ratio=0.0, weight_decay=0.0, progress=False)
    result = Trainer(make_model(), LinearRegressionTask(), config, log=lambda line: None).fit(batches, dev=(x, y))
    losses = [epoch['train_loss'] for epoch in result.history['epochs']]
    assert losses[-1] < 0.1 * losses[0]
    assert result.best['epoch'] == 4 and result.global_step == 32
    assert [s[0] for s in result.history['steps']] == list(range(1, 33))


def test_accumulation_equals_one_big_batch():
    x, y = data(16)
    config = dict(epochs=1, learning_rate=0.05, warmup_ratio=0.0, max_grad_norm=0.0, progress=False)
    big = make_model()
    Trainer(big, LinearRegressionTask(), TrainingConfig(**config), log=print).fit(ListBatches([(x, y)]))
    small = make_model()
    Trainer(small, LinearRegressionTask(), TrainingConfig(accumulate=2, **config), log=print).fit(
        ListBatches([(x[:8], y[:8]), (x[8:], y[8:])]))
    np.testing.assert_allclose(small.weight.data().asnumpy(), big.weight.data().asnumpy(), rtol=1e-5, atol=1e-7)
    assert not np.allclose(make_model().weight.data().asnumpy(), big.weight.data().asnumpy())


def test_clipping_bounds_the_update():
    x, y = data(16)
    y = y * 1000  # a huge gradient
    config = dict(epochs=1, learning_rate=1.0, warmup_ratio=0.0, weight_decay=0.0, optimizer='sgd',
                  optimizer_params={}, progress=False)
    model = make_model()
    before = model.weight.data().asnumpy().copy()
    result = Trainer(model, LinearRegressionTask(), TrainingConfig(max_grad_norm=0.5, **config),
                     log=print).fit(ListBatches([(x, y)]))
    moved = np.sqrt(np.sum((model.weight.data().asnumpy() - before) ** 2) + model.bias.data().asnumpy() ** 2)
    assert result.history['steps'][0][3] > 100  # the reported norm is the one before clipping
    assert float(moved[0]) <= 0.5 + 1e-4  # plain SGD with lr 1 moves by at most the clipped norm


def test_optimizers_that_fold_weight_decay_into_the_gradient_need_it_off():
    with pytest.raises(InputError, match='use bertadam'):
        TrainingConfig(optimizer='adam')  # the default weight decay, 0.01
    with pytest.raises(InputError, match='RMSProp'):
        TrainingConfig(optimizer='RMSProp', weight_decay=1e-4)
    assert TrainingConfig(optimizer='adam', weight_decay=0.0).optimizer == 'adam'
    with pytest.raises(InputError, match="unknown optimizer 'adamw'; MXNet has .*bertadam"):
        TrainingConfig(optimizer='adamw')
    assert TrainingConfig(optimizer='bertadam', weight_decay=0.01).weight_decay == 0.01


def test_no_weight_decay_on_biases_and_layernorm():
    model = nn.HybridSequential()
    model.add(nn.Dense(4, in_units=3), nn.LayerNorm(in_channels=4))
    model.initialize()
    Trainer(model, LinearRegressionTask(), TrainingConfig(progress=False))
    wd = {name.split('_', 1)[1]: p.wd_mult for name, p in model.collect_params().items()}
    assert wd == {'weight': 1.0, 'bias': 0.0, 'gamma': 0.0, 'beta': 0.0}


def test_checkpoint_resume_of_the_toy_task(tmp_path):
    x, y = data(48)
    batches = ListBatches([(x[i:i + 8], y[i:i + 8]) for i in range(0, 48, 8)])
    config = TrainingConfig(epochs=2, learning_rate=0.05, checkpoint_every=2, progress=False)
    straight = make_model()
    Trainer(straight, LinearRegressionTask(), config, log=print).fit(batches, dev=(x, y))

    interrupted = make_model()
    result = Trainer(interrupted, LinearRegressionTask(), config, out_dir=tmp_path, log=print).fit(
        batches, dev=(x, y), should_stop=lambda progress: progress['step'] == 9)
    assert result.interrupted
    progress = read_checkpoint(tmp_path / 'checkpoint')['progress']
    assert (progress['epoch'], progress['batch'], progress['step']) == (1, 2, 8)  # steps 9.. are redone
    resumed = make_model(seed=99)  # different starting weights: everything must come from the checkpoint
    Trainer(resumed, LinearRegressionTask(), config, out_dir=tmp_path, log=print).fit(batches, dev=(x, y),
                                                                                      resume=True)
    np.testing.assert_allclose(resumed.weight.data().asnumpy(), straight.weight.data().asnumpy(), rtol=1e-6)

    other = TrainingConfig(epochs=2, learning_rate=0.01, checkpoint_every=2, progress=False)
    with pytest.raises(ValueError, match='learning_rate: 0.05 -> 0.01'):
        Trainer(make_model(), LinearRegressionTask(), other, out_dir=tmp_path).fit(batches, resume=True)


class MirrorRanks(Ranks):
    """One rank of a job whose other ranks do exactly what this one does: sums are this rank's times the number of
    ranks, and the gradients need no all-reduce (the test needs no Horovod)."""

    def __init__(self, rank, size):
        super().__init__(rank, size)
        self.calls = []

    def broadcast_parameters(self, params):
        self.calls.append('broadcast')

    def make_optimizer(self, params, config):
        return Trainer._default_optimizer(params, config)

    def sum(self, values, name):
        self.calls.append(name)
        return [float(v) * self.size for v in values]


class SharedListBatches(ListBatches):
    """Each batch as one rank's half of a global batch twice its size."""

    def shares(self, epoch):
        return [(len(b[0]), 2 * len(b[0])) for b in self._batches]


def test_only_rank_zero_writes_and_decisions_are_shared(tmp_path):
    x, y = data(16)
    config = TrainingConfig(epochs=1, learning_rate=0.05, checkpoint_every=1, progress=False, max_grad_norm=0)
    lines = []
    rank1 = MirrorRanks(1, 2)
    Trainer(make_model(), LinearRegressionTask(), config, out_dir=tmp_path / 'rank1', ranks=rank1,
            log=lines.append).fit(SharedListBatches([(x[:8], y[:8]), (x[8:], y[8:])]), dev=(x, y))
    assert not (tmp_path / 'rank1').exists() and lines == []
    # rank 0's weights first; every step's loss sums, stop and Ctrl-C votes; the dev metrics averaged
    assert rank1.calls[0] == 'broadcast'
    assert rank1.calls.count('kobert_gluon.step_sums') == 2 and rank1.calls.count('kobert_gluon.stop') == 2
    assert rank1.calls[-1] == 'kobert_gluon.dev'
    rank0 = MirrorRanks(0, 2)
    result = Trainer(make_model(), LinearRegressionTask(), config, out_dir=tmp_path / 'rank0', ranks=rank0,
                     log=lines.append).fit(SharedListBatches([(x[:8], y[:8]), (x[8:], y[8:])]), dev=(x, y))
    assert (tmp_path / 'rank0' / 'checkpoint').is_dir() and len(lines) == 1
    # a rank's half weighs half of the step: with identical halves the step is the plain mean, as in one process
    single = Trainer(make_model(), LinearRegressionTask(), config).fit(
        ListBatches([(x[:8], y[:8]), (x[8:], y[8:])]), dev=(x, y))
    np.testing.assert_allclose([s[1] for s in result.history['steps']], [s[1] for s in single.history['steps']],
                               rtol=1e-6)
    # resuming with another number of ranks is refused
    with pytest.raises(InputError, match='written by 2 rank'):
        Trainer(make_model(), LinearRegressionTask(), config, out_dir=tmp_path / 'rank0').fit(
            ListBatches([(x[:8], y[:8]), (x[8:], y[8:])]), resume=True)


class CountingTask(LinearRegressionTask):
    """The toy task, also reporting a (numerator, denominator) metric: the share of predictions above 0."""

    def loss(self, model, batch):
        loss, sequences = super().loss(model, batch)
        x, _ = batch
        positive = (model(x).reshape((-1,)) > 0).sum()
        return loss, sequences, {'positive': (positive, float(x.shape[0]))}


def test_max_steps_ends_mid_epoch_and_the_schedule_spans_exactly_those_steps():
    x, y = data(48)
    batches = ListBatches([(x[i:i + 8], y[i:i + 8]) for i in range(0, 48, 8)])  # 6 steps per epoch
    config = TrainingConfig(epochs=0, max_steps=10, learning_rate=0.1, warmup_ratio=0.2, schedule='linear',
                            progress=False)
    result = Trainer(make_model(), LinearRegressionTask(), config, log=print).fit(batches)
    assert result.global_step == 10 and result.history['total_steps'] == 10
    assert [(e['epoch'], e['step']) for e in result.history['epochs']] == [(1, 6), (2, 10)]
    lrs = [s[2] for s in result.history['steps']]
    assert lrs == pytest.approx([learning_rate_at(s, 10, 0.1, 2, 'linear') for s in range(10)])
    assert lrs[-1] == pytest.approx(0.1 / 8)
    # epochs and max_steps together: whichever ends first
    short = TrainingConfig(epochs=1, max_steps=100, learning_rate=0.1, progress=False)
    assert Trainer(make_model(), LinearRegressionTask(), short).plan(batches) == (1, 6)
    with pytest.raises(ValueError, match='epochs must be at least 1'):
        TrainingConfig(epochs=0)


def test_eval_every_evaluates_on_the_step_grid_and_task_metrics_are_logged(tmp_path):
    x, y = data(48)
    batches = ListBatches([(x[i:i + 8], y[i:i + 8]) for i in range(0, 48, 8)])
    config = TrainingConfig(epochs=2, learning_rate=0.05, eval_every=4, log_every=3, checkpoint_every=100,
                            progress=False)
    lines = []
    result = Trainer(make_model(), CountingTask(), config, out_dir=tmp_path, log=lines.append).fit(
        batches, dev=(x, y))
    evaluations = result.history['evaluations']
    assert [e['step'] for e in evaluations] == [4, 8, 12]  # every 4 steps and after the last
    best = max(evaluations, key=lambda e: e['dev']['neg_mse'])
    assert result.best['step'] == best['step'] and result.best['value'] == best['dev']['neg_mse']
    assert all('dev' not in e for e in result.history['epochs'])
    assert [line.split(':')[0] for line in lines if line.startswith('step') and 'loss' in line] == \
        ['step 3/12', 'step 6/12', 'step 9/12', 'step 12/12']
    # each step's metric is the share of positive predictions over its 8 examples (numerator / denominator)
    values = [s[4]['positive'] for s in result.history['steps']]
    assert len(values) == 12 and all(v in [k / 8 for k in range(9)] for v in values)
    # an evaluation mid-epoch also writes a checkpoint, so best/ and the checkpoint agree
    stopped = Trainer(make_model(), CountingTask(), config, out_dir=tmp_path / 'stopped', log=print).fit(
        batches, dev=(x, y), should_stop=lambda progress: progress['step'] == 5)
    checkpoint = read_checkpoint(tmp_path / 'stopped' / 'checkpoint')
    assert stopped.interrupted and checkpoint['progress']['step'] == 4
    assert [e['step'] for e in checkpoint['history']['evaluations']] == [4]
