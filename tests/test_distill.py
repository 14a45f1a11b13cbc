"""Distillation: the student's initialisation from the teacher, each loss term against a value computed by hand
(numpy, from the same model outputs) on a tiny batch, the run end to end with exact resume, and the command."""
import json

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.cli import main
from kobert_gluon.core.errors import InputError
from kobert_gluon.pretraining.distill import (DistillSettings, DistillationTask, build_student, distill,
                                              student_layers)
from kobert_gluon.pretraining.pretrain import build_pretraining_model, pretraining_training_config

from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: F401
from .test_pretraining import TINY, data  # noqa: F401  (the module's pretraining-data fixture)
from .training_checks import assert_resumed_exactly

TEACHER = dict(TINY, num_layers=4)


@pytest.fixture(scope='module')
def teacher_folder(nsmc_vocab, tmp_path_factory):
    """A 4-layer tiny BERT with its MLM and NSP heads, random weights, saved as a model folder."""
    model, vocab, tokenizer = build_pretraining_model('kobert-base', from_scratch=True,
                                                      vocab_folder=nsmc_vocab.folder, model_overrides=TEACHER,
                                                      dropout=0.0, seed=1)
    ids = mx.nd.array([[2, 5, 3]])
    model(ids, mx.nd.zeros_like(ids), mx.nd.array([3]), mx.nd.array([[1]]))
    from kobert_gluon import save_model
    return save_model(model, vocab, tmp_path_factory.mktemp('teacher') / 'teacher', tokenizer)


def _teacher(folder):
    model, _ = get_model(str(folder), use_decoder=True, use_classifier=False)
    return model


def test_student_layers_are_every_kth_teacher_layer():
    assert student_layers(12, 3) == [0, 4, 8]  # DistilKoBERT's choice
    assert student_layers(4, 2) == [0, 2]
    with pytest.raises(InputError, match='cannot be made'):
        student_layers(2, 4)


@pytest.mark.parametrize('architecture', ['bert', 'distilbert'])
def test_student_starts_from_the_teacher(teacher_folder, architecture):
    teacher = _teacher(teacher_folder)
    student, copied = build_student(teacher, 2, architecture)
    t, s = teacher._collect_params_with_prefix(), student._collect_params_with_prefix()
    layer = 'encoder.transformer_cells.{}.ffn.ffn_1.weight'
    np.testing.assert_array_equal(s[layer.format(1)].data().asnumpy(), t[layer.format(2)].data().asnumpy())
    np.testing.assert_array_equal(s[layer.format(0)].data().asnumpy(), t[layer.format(0)].data().asnumpy())
    for name in ('word_embed.0.weight', 'encoder.position_weight', 'decoder.0.weight', 'decoder.3.bias'):
        np.testing.assert_array_equal(s[name].data().asnumpy(), t[name].data().asnumpy())
    # every student tensor came from the teacher (the DistilBERT student has no token types to take)
    assert set(copied) == set(s)
    assert ('token_type_embed.0.weight' in s) == (architecture == 'bert')


def _log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def test_each_loss_term_against_a_hand_computed_value(teacher_folder):
    teacher = _teacher(teacher_folder)
    student, _ = build_student(teacher, 2, 'distilbert', seed=3)
    for param in student.collect_params().values():  # move the student away from its teacher-copied start
        param.set_data(param.data() + mx.nd.random.normal(0, 0.1, param.shape))
    ids = mx.nd.array([[2, 15, 16, 17, 3, 1], [2, 18, 19, 3, 1, 1]])
    types, length = mx.nd.zeros((2, 6)), mx.nd.array([5, 4])
    positions = mx.nd.array([[1, 3], [2, 0]])
    masked = mx.nd.array([[21, 22], [23, 0]])
    weights = mx.nd.array([[1, 1], [1, 0]])  # the second row's second slot is padding: not counted
    batch = (ids, types, length, positions, masked, weights, mx.nd.array([0, 1]))
    settings = DistillSettings(data='.', teacher='t', student_layers=2, temperature=2.0, alpha_ce=0.5,
                               alpha_mlm=0.3, alpha_cos=0.2)
    task = DistillationTask(teacher, settings)
    terms, predictions, real = task.terms(student, batch)

    t_out = teacher(ids, types, length, positions)
    s_out = student(ids, types, length, positions)
    t_hidden, t_logits = t_out[0].asnumpy(), t_out[-1].asnumpy()
    s_hidden, s_logits = s_out[0].asnumpy(), s_out[-1].asnumpy()
    w = weights.asnumpy()
    temperature = 2.0
    p_t = np.exp(_log_softmax(t_logits / temperature))
    kl = (p_t * (_log_softmax(t_logits / temperature) - _log_softmax(s_logits / temperature))).sum(-1)
    ce = (kl * w).sum() / w.sum() * temperature ** 2
    log_p = _log_softmax(s_logits)
    picked = np.take_along_axis(log_p, masked.asnumpy().astype(int)[..., None], axis=-1)[..., 0]
    mlm = -(picked * w).sum() / w.sum()
    cos_values = []
    for row, n in enumerate([5, 4]):
        for position in range(n):
            a, b = s_hidden[row, position], t_hidden[row, position]
            cos_values.append(1 - a.dot(b) / np.linalg.norm(a) / np.linalg.norm(b))
    cos = float(np.mean(cos_values))

    assert float(terms['ce'].asscalar()) == pytest.approx(ce, rel=1e-3)  # float32 against float64
    assert float(terms['mlm'].asscalar()) == pytest.approx(mlm, rel=1e-5)
    assert float(terms['cos'].asscalar()) == pytest.approx(cos, rel=1e-4, abs=1e-7)
    assert float(predictions.asscalar()) == 3 and float(real.asscalar()) == 9
    assert ce > 0 and cos > 0  # the student differs from its teacher, so both terms have something to say
    total, sequences, _, _ = task.loss(student, batch)
    assert sequences == 2
    assert float(total.asscalar()) == pytest.approx(0.5 * ce + 0.3 * mlm + 0.2 * cos, rel=1e-4)


def _settings(data, teacher_folder, **training):
    options = dict(max_steps=6, eval_every=3, checkpoint_every=2, log_every=1, learning_rate=5e-3,
                   warmup_ratio=0.0, progress=False)
    options.update(training)
    return DistillSettings(data=str(data.folder), teacher=str(teacher_folder), student_layers=2,
                           student_architecture='distilbert', batch_size=16, eval_batch_size=32,
                           max_dev_instances=64, training=pretraining_training_config(**options))


def test_distill_runs_and_resumes_exactly(data, teacher_folder, tmp_path):  # noqa: F811
    full = distill(_settings(data, teacher_folder), tmp_path / 'full', log=lambda line: None)
    steps = full.history['steps']
    assert len(steps) == 6 and steps[-1][1] < steps[0][1]  # the distillation loss falls
    assert {'loss_ce', 'loss_mlm', 'loss_cos'} <= set(steps[0][4])
    best, _ = get_model(str(full.model_dir))
    assert best.kobert_config.num_layers == 2 and type(best).__name__ == 'DistilBertModel'
    config = json.loads((full.model_dir / 'config.json').read_text())
    assert config['distillation']['teacher_layers'] == [0, 2]

    stopped = distill(_settings(data, teacher_folder), tmp_path / 'resumed', log=lambda line: None,
                      should_stop=lambda state: state['step'] >= 4)
    assert stopped.interrupted
    resumed = distill(_settings(data, teacher_folder), tmp_path / 'resumed', resume=True, log=lambda line: None)
    assert_resumed_exactly(full, resumed, steps)


def test_distill_command(data, teacher_folder, tmp_path, capsys):  # noqa: F811
    args = ['distill', '--data', data.folder, '--teacher', teacher_folder, '--student-layers', '2', '--out',
            tmp_path / 'run', '--max-steps', '2', '--eval-every', '2', '--no-progress']
    assert main([str(a) for a in args]) == 0
    assert (tmp_path / 'run' / 'best' / 'config.json').is_file()
    capsys.readouterr()
    assert main([str(a) for a in args]) == 2  # the run exists: refused, not overwritten
    assert '--overwrite' in capsys.readouterr().err
    code = main(['distill', '--data', str(data.folder), '--student-layers', '2', '--out', str(tmp_path / 'x')])
    assert code == 2 and '--teacher is required' in capsys.readouterr().err
