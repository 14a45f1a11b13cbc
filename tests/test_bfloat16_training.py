"""bfloat16 mixed-precision training on the CPU (``--dtype bfloat16``, ``dtype='bfloat16'``): MXNet's AMP with float32
master weights, the layers that cannot run bfloat16 kept float32.

MXNet's AMP cannot be turned off in a process once on, so every bfloat16 run here happens in a child process; the
float32 run it is compared with runs in this one. The same seed, data and model: the bfloat16 loss curve and dev
metric stay within a stated tolerance of the float32 ones, and a bfloat16 run stopped and resumed ends where an
uninterrupted bfloat16 run ends.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kobert_gluon import finetune
from kobert_gluon.core.machine import cpu_has_bf16

from .test_devices import reviews_without_dropout
from .training_checks import assert_same_training

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not cpu_has_bf16(), reason='this CPU has no bfloat16 instructions')
# bfloat16 keeps 8 bits of mantissa: a step's loss moves by a few thousandths against float32's at first, and the
# differences compound over a run (measured here: epoch losses within 0.007, every dev accuracy equal); the tolerances
# leave room for other CPUs' rounding
STEP_TOLERANCE = 0.01
EPOCH_LOSS_TOLERANCE = 0.03
ACCURACY_TOLERANCE = 0.1

CHILD = r'''
import json, sys
from kobert_gluon import finetune
from kobert_gluon.tasks.finetuning import FinetuneSettings
settings = FinetuneSettings.from_dict(json.loads(sys.argv[1]))
quiet = dict(log=lambda line: None, dtype='bfloat16')
finetune(settings, sys.argv[2] + '/straight', **quiet)
stopped = finetune(settings, sys.argv[2] + '/resumed', should_stop=lambda p: p['step'] == 7, **quiet)
assert stopped.interrupted
finetune(settings, sys.argv[2] + '/resumed', resume=True, **quiet)
'''


def _steps(folder):
    return json.loads((Path(folder) / 'metrics.json').read_text(encoding='utf-8'))


def test_bfloat16_trains_like_float32_and_resumes_exactly(tmp_path):
    settings = reviews_without_dropout(tmp_path, 96, epochs=5, checkpoint_every=2, accumulate=2)
    settings.training.learning_rate = 2e-3  # a steady descent: no sudden drop for rounding to move by a step
    finetune(settings, tmp_path / 'float32', log=lambda line: None)
    child = subprocess.run([sys.executable, '-c', CHILD, json.dumps(settings.to_dict()), str(tmp_path)],
                           env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1'), capture_output=True,
                           text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    full, half = _steps(tmp_path / 'float32'), _steps(tmp_path / 'straight')
    losses_full = np.array([step[1] for step in full['steps']])
    losses_half = np.array([step[1] for step in half['steps']])
    assert len(losses_full) == len(losses_half) > 10
    assert not np.array_equal(losses_half, losses_full)  # it did compute in bfloat16
    # the first steps, before small differences compound, follow float32's closely; each epoch's mean loss and dev
    # accuracy stay within the tolerances over the whole run
    assert np.abs(losses_half[:6] - losses_full[:6]).max() < STEP_TOLERANCE
    epochs = [(e['train_loss'], f['train_loss'], e['dev']['accuracy'], f['dev']['accuracy'])
              for e, f in zip(half['epochs'], full['epochs'])]
    for half_loss, full_loss, half_accuracy, full_accuracy in epochs:
        assert abs(half_loss - full_loss) < EPOCH_LOSS_TOLERANCE, epochs
        assert abs(half_accuracy - full_accuracy) <= ACCURACY_TOLERANCE, epochs
    assert half['epochs'][-1]['train_loss'] < half['epochs'][0]['train_loss'] - 0.1, epochs  # and it learned
    state = json.loads((tmp_path / 'straight' / 'checkpoint' / 'state.json').read_text(encoding='utf-8'))
    assert state['dtype'] == 'bfloat16'
    # stopped after step 7 (last checkpoint: step 6) and resumed: the uninterrupted bfloat16 run, step for step
    assert_same_training(tmp_path / 'straight', tmp_path / 'resumed')


def test_bfloat16_is_refused_on_a_gpu_in_one_line(capsys):
    from kobert_gluon.core.devices import check_dtype
    from kobert_gluon.core.errors import InputError
    import mxnet as mx
    with pytest.raises(InputError, match='bfloat16 runs on the CPU'):
        check_dtype('bfloat16', [mx.gpu(0)])
