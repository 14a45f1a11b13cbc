"""KoBERT-base fine-tuning steps per second for each device setting and precision, through the package's trainer.

    python benchmarks/bench_devices.py                                   # cpu, and every GPU setting there is
    python benchmarks/bench_devices.py --devices cpu cpu:0,1 --rounds 3  # what runs without a GPU
    python benchmarks/bench_devices.py --devices gpu gpu:0,1 --dtypes float32 float16

Each setting runs in its own process (MXNet's AMP, which float16 turns on, cannot be turned off again in a
process), in interleaved rounds: every round runs every setting once, so a busy moment of the machine falls on all
of them. A run is the package's :class:`~kobert_gluon.training.trainer.Trainer` on a KoBERT-base-shaped classifier
(12 layers, 768 units, random weights, dropout 0.1, bertadam, clipping) fed one synthetic batch of
``--batch-per-device`` x ``--length`` tokens per device, so N devices take a global batch N times as large; the
first ``--warmup`` steps are not timed. The table gives, per setting, the median over rounds of steps/s and
sequences/s and the ratio of sequences/s to the first setting's. Settings the machine cannot run (a GPU on a CPU
machine, float16 on a CPU) are listed as skipped with the reason, not measured.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--devices', nargs='+', help='device settings (default: cpu, then gpu, gpu:0,1, ... for '
                                                     'the GPUs MXNet sees)')
    parser.add_argument('--dtypes', nargs='+', default=None,
                        help='precisions (default: float32, and float16 where there are GPUs)')
    parser.add_argument('--batch-per-device', type=int, default=32)
    parser.add_argument('--length', type=int, default=64)
    parser.add_argument('--steps', type=int, default=5, help='timed steps per run (default 5)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed first steps per run (default 2)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--layers', type=int, default=12, help='encoder layers (default 12: KoBERT-base)')
    parser.add_argument('--worker', nargs=2, metavar=('DEVICE', 'DTYPE'), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


class SyntheticBatches:
    """The trainer's data protocol over one fixed batch of random token ids, repeated."""

    def __init__(self, batch, steps):
        self.batch, self.steps = batch, steps

    def num_batches(self, epoch=0):
        return self.steps

    def batches(self, epoch=0, start=0):
        return iter([self.batch] * (self.steps - start))

    def fingerprint(self, epoch):
        return 'synthetic'


def worker(args):
    """One run: prints ``{"steps_per_second": ..., "sequences_per_second": ...}`` or ``{"skipped": reason}``."""
    sys.path.insert(0, str(REPO))
    from kobert_gluon.core.errors import InputError
    from kobert_gluon.training.placement import place_training
    device, dtype = args.worker
    try:
        placement = place_training(device, dtype)
    except InputError as err:
        print(json.dumps({'skipped': str(err)}))
        return 0
    import mxnet as mx
    import numpy as np
    from kobert_gluon import get_model, get_task
    from kobert_gluon.heads.sequence import SequenceClassifier
    from kobert_gluon.tasks.finetuning import SequenceTask
    from kobert_gluon.training.trainer import Trainer, TrainingConfig

    shape = dict(num_layers=args.layers, units=768, hidden_size=3072, num_heads=12, embed_size=768, max_length=512)
    bert, _ = get_model('kobert-mini', pretrained=False, use_pooler=True, use_decoder=False, use_classifier=False,
                        ctx=placement.first, **shape)
    model = SequenceClassifier(bert, 2, dropout=0.1)
    model.output.initialize(mx.init.Normal(0.02), ctx=placement.first)
    size = args.batch_per_device * len(placement.contexts)
    rng = np.random.RandomState(0)
    ids = rng.randint(5, 8002, size=(size, args.length))
    ids[:, 0] = 2
    batch = [mx.nd.array(ids, dtype='int32'), mx.nd.array(np.full(size, args.length), dtype='float32'),
             mx.nd.zeros(ids.shape, dtype='int32'), mx.nd.array(rng.randint(0, 2, size=size), dtype='int32')]
    model.hybridize(static_alloc=True)
    total = args.warmup + args.steps
    config = TrainingConfig(epochs=0, max_steps=total, learning_rate=2e-5, progress=False)
    task = SequenceTask(get_task('nsmc'), ['0', '1'], ctx=placement.first)
    trainer = Trainer(model, task, config, placement=placement, log=lambda line: None)
    marks = {}

    def should_stop(progress):
        mx.nd.waitall()  # the step's work is done on every device, not just queued
        marks[progress['step']] = time.perf_counter()
        return False

    trainer.fit(SyntheticBatches(batch, total), should_stop=should_stop)
    seconds = marks[total] - marks[args.warmup]
    print(json.dumps({'steps_per_second': args.steps / seconds, 'sequences_per_second': args.steps * size / seconds,
                      'devices': placement.describe()}))
    return 0


def default_devices():
    sys.path.insert(0, str(REPO))
    from kobert_gluon.core.devices import gpu_count
    gpus = gpu_count()
    return ['cpu'] + (['gpu'] if gpus else []) + ['gpu:' + ','.join(str(i) for i in range(n))
                                                  for n in (2, 4, 8) if n <= gpus]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    devices = args.devices or default_devices()
    dtypes = args.dtypes or (['float32', 'float16'] if any(d.startswith('gpu') for d in devices) else ['float32'])
    settings = [(device, dtype) for device in devices for dtype in dtypes]
    results = {setting: [] for setting in settings}
    skipped = {}
    passthrough = ['--batch-per-device', args.batch_per_device, '--length', args.length, '--steps', args.steps,
                   '--warmup', args.warmup, '--layers', args.layers]
    for _ in range(args.rounds):
        for setting in settings:
            if setting in skipped:
                continue
            command = [sys.executable, __file__, '--worker', *setting] + [str(a) for a in passthrough]
            run = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
            if run.returncode != 0:
                raise SystemExit('{} failed:\n{}'.format(setting, run.stderr[-2000:]))
            outcome = json.loads(run.stdout.strip().splitlines()[-1])
            if 'skipped' in outcome:
                skipped[setting] = outcome['skipped']
            else:
                results[setting].append(outcome)
    print('KoBERT-base-shaped classifier ({} layers), {} x {} tokens per device, {} timed steps, median of {} '
          'rounds; OMP_NUM_THREADS={}'.format(args.layers, args.batch_per_device, args.length, args.steps,
                                              args.rounds, os.environ.get('OMP_NUM_THREADS', 'unset')))
    print('| device | dtype | steps/s | sequences/s | vs first |')
    print('|---|---|---|---|---|')
    first = None
    for setting in settings:
        if setting in skipped:
            print('| {} | {} | skipped: {} | | |'.format(*setting, skipped[setting]))
            continue
        steps = statistics.median(r['steps_per_second'] for r in results[setting])
        sequences = statistics.median(r['sequences_per_second'] for r in results[setting])
        first = first or sequences
        print('| {} | {} | {:.3f} | {:.1f} | {:.2f}x |'.format(*setting, steps, sequences, sequences / first))
    return 0


if __name__ == '__main__':
    sys.exit(main())
