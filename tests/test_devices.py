"""Devices: ``--device`` / ``device=`` read once and checked, several devices training exactly as one, checkpoints
that resume on another number of devices, mixed precision refused where it cannot run, and the loss scaling that
float16 training uses, exercised here in float32 with a scale large enough to overflow.

Several CPU contexts (``cpu:0,1``) run the multi-device code path on any machine: the same split of every batch,
the same per-device loss weights, the gradients summed by the gluon Trainer's kvstore and the update divided by the
number of devices, as on GPUs. With dropout 0 they must be one device's computation to float rounding.
"""
import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import FineTunedModel, finetune, get_model, pretrain
from kobert_gluon.pretraining.distill import distill
from kobert_gluon.cli import main
from kobert_gluon.core.devices import check_dtype, for_rank, gpu_count, gpus_to_device, parse_devices
from kobert_gluon.core.errors import InputError
from kobert_gluon.training.precision import LossScaler
from kobert_gluon.training.trainer import Trainer, read_checkpoint
from kobert_gluon.training.placement import place_training

from .nsmc_fixtures import nsmc_train_slice, nsmc_vocab  # noqa: F401
from .test_finetune import settings_for, write_reviews
from .test_distill import _settings as distill_settings_for
from .test_distill import teacher_folder  # noqa: F401  (a tiny teacher model folder)
from .test_electra import _settings as electra_settings_for
from .test_pretraining import data  # noqa: F401  (the pretraining-data fixture)
from .test_pretraining import settings_for as pretraining_settings_for
from .training_checks import assert_same_training

NO_GPU = pytest.mark.skipif(gpu_count() > 0, reason='this machine has a GPU: the no-GPU errors cannot be seen')


# ----- reading a device argument ------------------------------------------------------------------------------
def test_device_names_become_contexts():
    assert parse_devices(None) == [mx.cpu()]
    assert parse_devices('cpu') == [mx.cpu(0)]
    assert parse_devices(' CPU:0,1 ') == [mx.cpu(0), mx.cpu(1)]
    assert parse_devices(mx.cpu(1)) == [mx.cpu(1)]
    assert parse_devices([mx.cpu(0), mx.cpu(2)]) == [mx.cpu(0), mx.cpu(2)]
    assert gpus_to_device('0,1') == 'gpu:0,1' and gpus_to_device('') == 'cpu'
    for bad, message in (('tpu', 'expected cpu, gpu, or gpu:0,1'), ('gpu:', 'expected cpu, gpu'),
                         ('cpu:a', 'numbers separated by commas'), ('cpu:0,0', 'named twice'),
                         ('cpu:-1', 'start at 0'), ([], 'an mx.Context or a list')):
        with pytest.raises(InputError, match=message):
            parse_devices(bad)


@NO_GPU
def test_a_gpu_on_a_machine_without_one_is_one_clear_error():
    for device in ('gpu', 'gpu:0,1', [mx.gpu(0)]):
        with pytest.raises(InputError, match='install a CUDA build|sees 0 GPU'):
            parse_devices(device)


def test_horovod_ranks_take_one_device_each():
    assert for_rank([mx.cpu()], local_rank=1, local_size=2) == [mx.cpu()]
    assert for_rank([mx.cpu(0), mx.cpu(1)], local_rank=1, local_size=2) == [mx.cpu(1)]
    with pytest.raises(InputError, match='one device each'):
        for_rank([mx.cpu(0), mx.cpu(1)], local_rank=0, local_size=3)


def test_float16_is_refused_on_the_cpu_with_the_reason():
    assert check_dtype('float32', [mx.cpu()]) == 'float32'
    with pytest.raises(InputError, match='float16 needs a GPU.*cuDNN'):
        check_dtype('float16', [mx.cpu()])
    with pytest.raises(InputError, match="expected one of float32, float16, bfloat16"):
        check_dtype('float64', [mx.cpu()])


def command_error(capsys, *args):
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@NO_GPU
def test_every_command_that_computes_checks_its_device_before_reading_anything(capsys, tmp_path):
    missing = tmp_path / 'not-there'  # the device is refused first: no "no such file" error
    commands = [['finetune', '--task', 'nsmc', '--train', missing, '--out', tmp_path / 'run'],
                ['pretrain', '--data', missing, '--out', tmp_path / 'run'],
                ['distill', '--data', missing, '--teacher', missing, '--student-layers', 1, '--out', tmp_path / 'run'],
                ['evaluate', '--model', missing, '--data', missing],
                ['predict', '--model', missing, 'text'],
                ['encode', '--model', missing, 'text']]
    for command in commands:
        assert 'install a CUDA build' in command_error(capsys, *command, '--device', 'gpu'), command
        assert '--gpus 0 means --device gpu:0' in command_error(capsys, *command, '--gpus', '0'), command
    for command in commands[:3]:
        assert 'float16 needs a GPU' in command_error(capsys, *command, '--dtype', 'float16'), command
    assert not (tmp_path / 'run').exists()


def test_prediction_on_a_named_cpu_device_and_models_placed_by_name(capsys):
    assert main(['predict', '--model', 'kobert-mini-nsmc', '--device', 'cpu:1', '이 영화 정말 재밌어요']) == 0
    assert capsys.readouterr().out.splitlines()[1].split('\t')[1] == 'positive'
    model, _ = get_model('kobert-mini', device='cpu:1', use_pooler=True, use_decoder=False, use_classifier=False)
    assert {c for p in model.collect_params().values() for c in p.list_ctx()} == {mx.cpu(1)}
    loaded = FineTunedModel.load('kobert-mini-nsmc', device='cpu:1')
    assert loaded.ctx == mx.cpu(1) and loaded.predict(['최악의 영화']).argmax() == 0


# ----- N devices train as one ---------------------------------------------------------------------------------
def reviews_without_dropout(folder, rows, **training):
    """Fine-tuning settings on ``rows`` generated reviews (20 for dev), tiny model, dropout 0."""
    settings = settings_for(write_reviews(folder / 'train.tsv', rows=rows),
                            write_reviews(folder / 'dev.tsv', rows=20, held_out=True),
                            learning_rate=3e-3, **training)
    settings.dropout = 0.0
    return settings


def test_two_and_four_cpu_contexts_finetune_exactly_like_one(tmp_path):
    # 51 reviews in batches of 8: six full batches and one of 3, which leaves the fourth device a stand-in
    settings = reviews_without_dropout(tmp_path, 51, epochs=2, accumulate=2)
    quiet = dict(log=lambda line: None)
    finetune(settings, tmp_path / 'one', **quiet)
    finetune(settings, tmp_path / 'two', device='cpu:0,1', **quiet)
    finetune(settings, tmp_path / 'four', device=[mx.cpu(i) for i in range(4)], **quiet)
    one, two = assert_same_training(tmp_path / 'one', tmp_path / 'two')
    assert_same_training(tmp_path / 'one', tmp_path / 'four')
    for epoch_one, epoch_two in zip(one['epochs'], two['epochs']):
        assert epoch_two['train_loss'] == pytest.approx(epoch_one['train_loss'], rel=1e-5)
        assert epoch_two['dev']['accuracy'] == epoch_one['dev']['accuracy']
        assert epoch_two['dev']['loss'] == pytest.approx(epoch_one['dev']['loss'], rel=1e-4)
    assert read_checkpoint(tmp_path / 'two' / 'checkpoint')['devices'] == 'cpu(0), cpu(1)'
    # ...and the comparison is not vacuous: another seed gives another run
    finetune(reviews_without_dropout(tmp_path, 51, epochs=2, accumulate=2, seed=5), tmp_path / 'other', **quiet)
    with pytest.raises(AssertionError):
        assert_same_training(tmp_path / 'one', tmp_path / 'other')


def test_a_run_resumes_on_another_number_of_devices(tmp_path):
    settings = reviews_without_dropout(tmp_path, 48, epochs=3, checkpoint_every=2)
    quiet = dict(log=lambda line: None)
    finetune(settings, tmp_path / 'straight', **quiet)
    # started on two devices, stopped after step 9 (last checkpoint: step 8), finished on one
    stopped = finetune(settings, tmp_path / 'moved', device='cpu:0,1', should_stop=lambda p: p['step'] == 9, **quiet)
    assert stopped.interrupted and read_checkpoint(tmp_path / 'moved' / 'checkpoint')['progress']['step'] == 8
    finetune(settings, tmp_path / 'moved', resume=True, device='cpu', **quiet)
    assert_same_training(tmp_path / 'straight', tmp_path / 'moved')
    # and the other way round: one device, then three
    finetune(settings, tmp_path / 'back', should_stop=lambda p: p['step'] == 9, **quiet)
    finetune(settings, tmp_path / 'back', resume=True, device='cpu:0,1,2', **quiet)
    assert_same_training(tmp_path / 'straight', tmp_path / 'back')


def test_two_cpu_contexts_pretrain_like_one(data, nsmc_vocab, tmp_path):  # noqa: F811
    # masked-LM and next-sentence terms are averaged over all devices' masked positions and sequences
    settings = pretraining_settings_for(data, nsmc_vocab, max_steps=6, eval_every=3, checkpoint_every=3)
    settings.dropout = 0.0
    pretrain(settings, tmp_path / 'one', log=lambda line: None)
    pretrain(settings, tmp_path / 'two', device='cpu:0,1', log=lambda line: None)
    one, two = assert_same_training(tmp_path / 'one', tmp_path / 'two', atol=5e-5)
    for step_one, step_two in zip(one['steps'], two['steps']):
        assert step_two[4]['mlm_accuracy'] == pytest.approx(step_one[4]['mlm_accuracy'], abs=1e-6)
    assert two['evaluations'][-1]['dev']['loss'] == pytest.approx(one['evaluations'][-1]['dev']['loss'], rel=1e-4)


def test_two_cpu_contexts_distill_like_one_with_the_teacher_on_both(data, teacher_folder, tmp_path):  # noqa: F811
    settings = distill_settings_for(data, teacher_folder, max_steps=4, eval_every=2, checkpoint_every=2)
    settings.dropout = 0.0
    distill(settings, tmp_path / 'one', log=lambda line: None)
    distill(settings, tmp_path / 'two', device='cpu:0,1', log=lambda line: None)
    one, two = assert_same_training(tmp_path / 'one', tmp_path / 'two', atol=5e-5)
    assert two['evaluations'][-1]['dev']['loss'] == pytest.approx(one['evaluations'][-1]['dev']['loss'], rel=1e-4)


def test_electra_pretrains_on_two_cpu_contexts(data, nsmc_vocab, tmp_path):  # noqa: F811
    # the generator's samples are drawn on each device, so two devices are not one device's run: they must train
    result = pretrain(electra_settings_for(data, nsmc_vocab), tmp_path / 'two', device='cpu:0,1',
                      log=lambda line: None)
    steps = result.history['steps']
    assert len(steps) == 6 and steps[-1][1] < steps[0][1]
    assert 0 < steps[-1][4]['replaced_fraction'] < 0.5
    assert np.isfinite(result.history['evaluations'][-1]['dev']['rtd_loss'])


def test_a_horovod_rank_is_refused_several_devices(tmp_path):
    from kobert_gluon.training.distributed import Ranks
    from kobert_gluon.training.trainer import TrainingConfig
    model, _ = get_model('kobert-mini', pretrained=False)
    with pytest.raises(InputError, match='one rank per GPU'):
        Trainer(model, task=None, config=TrainingConfig(), placement=place_training('cpu:0,1'), ranks=Ranks(0, 2))


# ----- loss scaling (float16's), in float32 -----------------------------------------------------------------------
def test_loss_scaling_skips_overflowing_steps_halves_the_scale_and_matches_unscaled_training(tmp_path):
    from kobert_gluon.tasks.finetuning import build_task_model, pipeline_for, resolve_model
    settings = reviews_without_dropout(tmp_path, 48, epochs=1)
    pipeline = pipeline_for(settings.task)

    def run(scaler, out):
        source = resolve_model(settings.model)
        train_data, dev_data, labels = pipeline.read(settings, lambda line: None)
        model, vocab = build_task_model(settings.task, labels, source, True, settings.model_overrides, 0.0, seed=0)
        batches = pipeline.batches(train_data, source.tokenizer, settings, labels, training=True, log=lambda l: None)
        task = pipeline.task(settings.task, labels, vocab, source.tokenizer, {}, mx.cpu())
        model.hybridize()
        trainer = Trainer(model, task, settings.training, out_dir=out, loss_scaler=scaler, log=lambda line: None)
        return trainer.fit(batches), trainer

    plain, _ = run(None, tmp_path / 'plain')
    # a scale past float32's range makes the gradients overflow as float16's do: those steps are skipped and the
    # scale halves until the gradients fit; from then on every step is taken
    scaled, trainer = run(LossScaler(scale=2.0 ** 130), tmp_path / 'scaled')
    skipped = trainer.loss_scaler.skipped_steps
    assert skipped >= 1 and trainer.loss_scaler.scale <= 2.0 ** (130 - skipped)
    norms = [step[3] for step in scaled.history['steps']]
    assert norms[:skipped] == [None] * skipped and all(n is not None for n in norms[skipped:])
    assert read_checkpoint(tmp_path / 'scaled' / 'checkpoint')['loss_scaler']['skipped_steps'] == skipped
    # a scale that never overflows changes nothing but rounding
    exact, trainer = run(LossScaler(scale=2.0 ** 10), tmp_path / 'exact')
    assert trainer.loss_scaler.skipped_steps == 0
    assert_same_training(tmp_path / 'plain', tmp_path / 'exact')


def test_loss_scaler_grows_after_good_steps_and_keeps_its_state():
    scaler = LossScaler(scale=8.0, growth_interval=3, max_scale=32.0)
    for finite in (True, True, True):
        scaler.update(finite)
    assert scaler.scale == 16.0
    scaler.update(False)
    assert scaler.scale == 8.0 and scaler.good_steps == 0 and scaler.skipped_steps == 1
    again = LossScaler()
    again.load(scaler.state())
    assert again.state() == scaler.state()
