"""Start-up cost: ``import kobert_gluon``, ``kobert-gluon --help`` and ``kobert-gluon predict --help``, each in a
fresh interpreter, and which heavy optional modules the import loads.

Compares this checkout with another source tree of the package (``--baseline DIR``, e.g. a ``git worktree`` of
an older commit) in one run: rounds interleave the two trees, medians are reported with their ratio. Both run
with this interpreter and its installed dependencies; each tree is put first on ``PYTHONPATH``.

    python benchmarks/bench_import.py --baseline /tmp/kobert-gluon-old --rounds 7
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
JOBS = {
    'import kobert_gluon': ['-c', 'import kobert_gluon'],
    'from kobert_gluon import get_model': ['-c', 'from kobert_gluon import get_model'],
    'kobert-gluon --help': ['-m', 'kobert_gluon', '--help'],
    'kobert-gluon predict --help': ['-m', 'kobert_gluon', 'predict', '--help'],
}
HEAVY = "import sys, kobert_gluon; print(sorted(m for m in ('onnx', 'onnxruntime', 'matplotlib') if m in sys.modules))"


def run(tree: Path, args):
    env = dict(os.environ, PYTHONPATH=str(tree))
    start = time.perf_counter()
    subprocess.run([sys.executable] + args, env=env, cwd='/', check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--baseline', type=Path, help='another source tree of kobert-gluon to compare with')
    parser.add_argument('--rounds', type=int, default=7, help='interleaved rounds (default 7)')
    args = parser.parse_args(argv)
    trees = {'this': HERE}
    if args.baseline:
        trees['baseline'] = args.baseline.resolve()
    times = {(tree, job): [] for tree in trees for job in JOBS}
    for job, job_args in JOBS.items():  # one untimed run each: the file cache is warm for every tree alike
        for tree in trees.values():
            run(tree, job_args)
    for _ in range(args.rounds):
        for job, job_args in JOBS.items():
            for name, tree in trees.items():
                times[(name, job)].append(run(tree, job_args))
    print('medians of {} interleaved rounds, fresh interpreter each ({})'.format(args.rounds, sys.executable))
    header = '{:<36} {:>10}'.format('', 'this')
    if 'baseline' in trees:
        header += ' {:>10} {:>10}'.format('baseline', 'this/base')
    print(header)
    for job in JOBS:
        this = statistics.median(times[('this', job)])
        line = '{:<36} {:>9.2f}s'.format(job, this)
        if 'baseline' in trees:
            base = statistics.median(times[('baseline', job)])
            line += ' {:>9.2f}s {:>10.2f}'.format(base, this / base)
        print(line)
    for name, tree in trees.items():
        out = subprocess.run([sys.executable, '-c', HEAVY], env=dict(os.environ, PYTHONPATH=str(tree)), cwd='/',
                             capture_output=True, text=True, check=True).stdout.strip()
        print('heavy modules after import ({}): {}'.format(name, out))


if __name__ == '__main__':
    main()
