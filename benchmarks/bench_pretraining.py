"""Pretraining throughput (sequences per second) of the real loop on real shards, for a time budget.

    OMP_NUM_THREADS=2 python benchmarks/bench_pretraining.py --data DIR --vocab DIR --seconds 90 --batch-size 64

Runs :func:`kobert_gluon.pretrain` itself (length-bucketed batches, fwd + bwd + clipping + BERTAdam, the
per-step metrics), from scratch at the given size, without dev evaluation or checkpoints, and stops after
``--seconds``. The first ``--skip-steps`` steps are not timed: MXNet/oneDNN build their kernels for every new
batch shape during the first steps. Prints one line: timed steps, seconds and sequences/s.
MXNet reads OMP_NUM_THREADS when it is imported, so set it in the environment.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', required=True, help='pretraining data folder')
    parser.add_argument('--vocab', required=True, help='build-vocab folder the data was made with')
    parser.add_argument('--seconds', type=float, default=90.0, help='timed budget (default 90)')
    parser.add_argument('--skip-steps', type=int, default=20, help='untimed first steps (default 20)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--num-layers', type=int, default=4)
    parser.add_argument('--units', type=int, default=192)
    parser.add_argument('--hidden-size', type=int, default=768)
    parser.add_argument('--num-heads', type=int, default=3)
    parser.add_argument('--max-length', type=int, default=128)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kobert_gluon import PretrainSettings, pretrain
    from kobert_gluon.pretraining.pretrain import pretraining_training_config

    marks = {}

    def should_stop(progress):
        if progress['step'] == args.skip_steps:
            marks['start'] = time.time()
        return 'start' in marks and time.time() - marks['start'] >= args.seconds

    settings = PretrainSettings(
        data=args.data, from_scratch=True, vocab=args.vocab, dev_chunks=0, batch_size=args.batch_size,
        model_overrides=dict(num_layers=args.num_layers, units=args.units, hidden_size=args.hidden_size,
                             num_heads=args.num_heads, max_length=args.max_length),
        training=pretraining_training_config(max_steps=10 ** 6, eval_every=0, checkpoint_every=0, log_every=0,
                                             progress=False))
    with tempfile.TemporaryDirectory() as out:
        result = pretrain(settings, Path(out) / 'run', should_stop=should_stop, log=lambda line: None)
    seconds = time.time() - marks['start']
    steps = result.history['steps'][args.skip_steps:]
    sequences = len(steps) * args.batch_size  # every batch is full but the last of a shard (1 in ~400)
    print('OMP_NUM_THREADS={} batch {} layers {} units {}: {} timed steps in {:.0f} s, {:.1f} sequences/s, '
          'last MLM acc {:.3f}'.format(os.environ.get('OMP_NUM_THREADS', 'unset'), args.batch_size,
                                       args.num_layers, args.units, len(steps), seconds, sequences / seconds,
                                       steps[-1][4]['mlm_accuracy'] if steps else float('nan')))


if __name__ == '__main__':
    main()
