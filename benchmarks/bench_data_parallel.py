"""Data-parallel fine-tuning on Horovod: throughput with 1 and 2 ranks here, and what one step all-reduces.

    python benchmarks/bench_data_parallel.py                 # 3 interleaved rounds; needs the [horovod] extra
    python benchmarks/bench_data_parallel.py --rounds 1 --reviews 500

Part 1 runs the same fine-tuning (kobert-mini on NSMC's first ``--reviews`` training reviews, or review-like text
where NSMC is absent; global batch 32, length 64, one epoch) as one process with 1 thread, one process with 2
threads, and ``horovodrun -np 2 --gloo`` with 1 thread per rank, interleaved per round, and prints the median
training throughput of each (sequences per second of the epoch, as the trainer logs it; dev evaluation and start-up
excluded) and the ratio to one thread.

Part 2 measures an all-reduce of KoBERT-base's gradient here (2 ranks, Gloo over loopback; float32, the size of
every trainable parameter of a KoBERT-base classifier, in one buffer, ``--allreduce-rounds`` times, median) and
prints, as a calculation from that size, the bytes each worker sends per step with a ring all-reduce
(2 (N - 1) / N of the gradient) and the time that takes on 10 Gbit/s Ethernet and 200 Gbit/s InfiniBand, next to
the measured KoBERT-base step time on these CPUs (``--step-seconds``, from bench_training_step.py).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NSMC = REPO.parent / 'shared' / 'data' / 'nsmc' / 'ratings_train.txt'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--reviews', type=int, default=2000)
    parser.add_argument('--allreduce-rounds', type=int, default=5)
    parser.add_argument('--step-seconds', type=float, default=7.1,
                        help='one KoBERT-base training step at 32 x 64 on these 2 cores (bench_training_step.py: '
                             '4.5 sequences/s)')
    return parser.parse_args(argv)


def _horovodrun():
    found = shutil.which('horovodrun') or str(Path(sys.executable).parent / 'horovodrun')
    if not Path(found).exists():
        sys.exit('horovodrun not found: install the [horovod] extra (README, "Many workers")')
    return found


def _reviews(folder: Path, count: int) -> Path:
    path = folder / 'train.tsv'
    if NSMC.is_file():
        with open(NSMC, encoding='utf-8') as source:
            lines = [source.readline() for _ in range(count + 1)]
    else:
        words = ['정말', '재미있는', '영화', '지루한', '최고의', '별로인', '배우', '연기']
        lines = ['id\tdocument\tlabel\n'] + ['{}\t{} {} {}\t{}\n'.format(
            i, words[i % 8], words[(i * 3) % 8], words[(i * 5) % 8], i % 2) for i in range(count)]
    path.write_text(''.join(lines), encoding='utf-8')
    return path


def _finetune(train: Path, out: Path, threads: int, ranks: int) -> float:
    command = [sys.executable, '-m', 'kobert_gluon', 'finetune', '--task', 'nsmc', '--train', str(train),
               '--dev-fraction', '0.05', '--model', 'kobert-mini', '--max-seq-length', '64', '--batch-size', '32',
               '--epochs', '1', '--lr', '1e-4', '--no-progress', '--seed', '1', '--out', str(out), '--overwrite']
    if ranks > 1:
        command = [_horovodrun(), '-np', str(ranks), '-H', 'localhost:{}'.format(ranks), '--gloo'] + command
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(REPO))
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit('finetune failed:\n' + result.stdout[-2000:] + result.stderr[-2000:])
    metrics = json.loads((out / 'metrics.json').read_text())
    return metrics['epochs'][0]['sequences_per_second']


_ALLREDUCE = r'''
import sys, time, json
import kobert_gluon.core.mxnet_stack
import mxnet as mx, horovod.mxnet as hvd
hvd.init()
size, rounds = int(sys.argv[1]), int(sys.argv[2])
buffer = mx.nd.ones((size,), dtype='float32')
hvd.allreduce_(buffer, average=False, name='warm'); buffer.wait_to_read()
seconds = []
for i in range(rounds):
    started = time.time()
    hvd.allreduce_(buffer, average=False, name='grad'); buffer.wait_to_read()
    seconds.append(time.time() - started)
if hvd.rank() == 0:
    print(json.dumps(seconds))
'''


def _parameter_count() -> int:
    sys.path.insert(0, str(REPO))
    from kobert_gluon.tasks.datasets import get_task
    from kobert_gluon.tasks.finetuning import build_task_model
    model, _ = build_task_model(get_task('nsmc'), ['0', '1'], 'kobert-base', from_scratch=True)
    import mxnet as mx
    model(mx.nd.ones((1, 4)), mx.nd.zeros((1, 4)), mx.nd.array([4]))  # finishes deferred shapes
    return sum(int(p.data().size) for p in model.collect_params().values() if p.grad_req != 'null')


def main(argv=None):
    args = parse_args(argv)
    horovodrun = _horovodrun()
    work = Path(tempfile.mkdtemp(prefix='bench-data-parallel-'))
    try:
        train = _reviews(work, args.reviews)
        configs = [('1 process, 1 thread', 1, 1), ('1 process, 2 threads', 2, 1), ('2 ranks, 1 thread each', 1, 2)]
        results = {name: [] for name, _, _ in configs}
        for round_index in range(args.rounds):
            for name, threads, ranks in configs:
                value = _finetune(train, work / 'run', threads, ranks)
                results[name].append(value)
                print('round {}: {:<24} {:7.1f} seq/s'.format(round_index + 1, name, value), flush=True)
        base = statistics.median(results[configs[0][0]])
        print('\nfine-tuning kobert-mini, global batch 32 x 64, {} reviews, median of {} rounds:'.format(
            args.reviews, args.rounds))
        for name, _, _ in configs:
            median = statistics.median(results[name])
            print('  {:<24} {:7.1f} seq/s  x{:.2f}'.format(name, median, median / base))

        parameters = _parameter_count()
        size_bytes = parameters * 4
        script = work / 'allreduce.py'
        script.write_text(_ALLREDUCE, encoding='utf-8')
        env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
        result = subprocess.run([horovodrun, '-np', '2', '-H', 'localhost:2', '--gloo', sys.executable, str(script),
                                 str(parameters), str(args.allreduce_rounds)], env=env, capture_output=True, text=True)
        if result.returncode:
            sys.exit('all-reduce failed:\n' + result.stderr[-2000:])
        line = [x for x in result.stdout.splitlines() if x.strip().endswith(']')][-1]
        seconds = statistics.median(json.loads(line[line.rindex('['):]))  # after horovodrun's [rank] prefix
        print('\nKoBERT-base classifier: {:,} trainable parameters = {:.1f} MB of float32 gradient per step'.format(
            parameters, size_bytes / 1e6))
        print('measured here: all-reduce of that buffer, 2 ranks, Gloo over loopback: {:.3f} s (median of {}) = '
              '{:.2f} GB/s of gradient'.format(seconds, args.allreduce_rounds, size_bytes / seconds / 1e9))
        print('calculated: ring all-reduce sends and receives 2(N-1)/N of the gradient per worker per step')
        for workers in (2, 8, 32):
            sent = 2 * (workers - 1) / workers * size_bytes
            for link, bits in (('10 Gbit/s Ethernet', 10e9), ('200 Gbit/s InfiniBand', 200e9)):
                transfer = sent * 8 / bits
                print('  {:>2} workers, {:<22} {:6.1f} MB sent per worker, {:6.3f} s per step ({:5.1%} of a {:.1f} s '
                      'CPU step)'.format(workers, link, sent / 1e6, transfer, transfer / args.step_seconds,
                                         args.step_seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    started = time.time()
    main()
    print('\n({:.0f} s)'.format(time.time() - started))
