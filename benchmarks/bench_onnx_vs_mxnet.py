"""Throughput and latency of KoBERT-base inference: MXNet (hybridized, static_alloc) vs onnxruntime.

    python benchmarks/bench_onnx_vs_mxnet.py --threads 2            # the full table (a few minutes)
    python benchmarks/bench_onnx_vs_mxnet.py --threads 2 --quick    # a smoke run: two small shapes

Both runtimes get the same thread count, chosen here rather than left to their defaults (thread settings
alone moved MXNet by 45 % on a 2-core machine). MXNet reads its settings when it is imported, so they are
set in the environment before the import. Weights are random (same shapes and work as the real model).
Each shape runs MXNet then onnxruntime, with a pause between them so neither meets the other's spinning
worker threads. Reported: median latency per batch and sequences per second (batch / median latency).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SHAPES = ((1, 16), (8, 64), (32, 64), (32, 128))  # (batch, length)
QUICK_SHAPES = ((1, 16), (8, 64))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1,
                        help='threads for each runtime (default: all cores, %(default)s)')
    parser.add_argument('--repeats', type=int, default=10, help='timed runs per shape and runtime (default 10)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs first (default 2)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: shapes {} and 3 repeats'.format(' '.join('{}x{}'.format(*s)
                                                                                   for s in QUICK_SHAPES)))
    parser.add_argument('--onnx', help='use this exported KoBERT-base .onnx (bert signature) instead of exporting '
                                       'a random-weights model first; its weights need not match, only shapes')
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error('--threads and --repeats must be at least 1, --warmup at least 0')
    if args.quick:
        args.repeats = min(args.repeats, 3)
        args.warmup = min(args.warmup, 1)
    return args


def set_mxnet_threads(threads):
    """Must run before ``import mxnet``: the engine and OpenMP read these once, at import."""
    os.environ['OMP_NUM_THREADS'] = str(threads)  # threads inside one operator (oneDNN/OpenMP)
    os.environ['MKL_NUM_THREADS'] = str(threads)
    # One engine worker: operators of a single forward pass depend on each other, so parallel workers would
    # only compete with the OpenMP threads for the same cores.
    os.environ['MXNET_CPU_WORKER_NTHREADS'] = '1'
    os.environ['MXNET_ENGINE_TYPE'] = 'ThreadedEnginePerDevice'


def time_runs(run, repeats, warmup):
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main(argv=None):
    args = parse_args(argv)
    if 'mxnet' in sys.modules:
        sys.exit('mxnet was imported before the thread settings could be applied; run this file as a script')
    set_mxnet_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import mxnet as mx
    import numpy as np
    from kobert_gluon import export_onnx, get_model
    from kobert_gluon.export.onnx_parity import onnx_session, random_batch

    model, vocab = get_model('kobert-base', pretrained=False, use_decoder=False, use_classifier=False)
    model.hybridize(static_alloc=True)
    with tempfile.TemporaryDirectory(prefix='kobert-bench-') as tmp:
        onnx_path = args.onnx
        if onnx_path is None:
            start = time.perf_counter()
            onnx_path = export_onnx(model, Path(tmp) / 'kobert-base.onnx')
            print('exported KoBERT-base (random weights) to ONNX in {:.1f} s'.format(time.perf_counter() - start))
        session = onnx_session(onnx_path, threads=args.threads)  # intra_op = threads, inter_op = 1

        shapes = QUICK_SHAPES if args.quick else SHAPES
        print('threads: {} (MXNet OMP_NUM_THREADS, onnxruntime intra_op_num_threads); median of {} runs after {} '
              'warm-up'.format(args.threads, args.repeats, args.warmup))
        header = '{:>11} | {:>10} {:>10} | {:>10} {:>10} | {:>9}'.format(
            'batch x len', 'MXNet seq/s', 'ORT seq/s', 'MXNet ms', 'ORT ms', 'ORT/MXNet')
        print(header)
        print('-' * len(header))
        rng = np.random.RandomState(0)
        for batch, length in shapes:
            inputs = random_batch(rng, batch, length, len(vocab))
            mx_inputs = [mx.nd.array(inputs[name]) for name in ('input_ids', 'token_type_ids', 'valid_length')]
            feed = {name: inputs[name] for name in ('input_ids', 'token_type_ids', 'valid_length')}

            def run_mxnet():
                for out in model(*mx_inputs):
                    out.wait_to_read()  # MXNet is asynchronous: time the work, not the scheduling

            mxnet_s = time_runs(run_mxnet, args.repeats, args.warmup)
            time.sleep(0.5)
            ort_s = time_runs(lambda: session.run(None, feed), args.repeats, args.warmup)
            time.sleep(0.5)
            print('{:>11} | {:>10.1f} {:>10.1f} | {:>10.1f} {:>10.1f} | {:>8.2f}x'.format(
                '{}x{}'.format(batch, length), batch / mxnet_s, batch / ort_s, mxnet_s * 1e3, ort_s * 1e3,
                mxnet_s / ort_s))
    return 0


if __name__ == '__main__':
    sys.exit(main())
