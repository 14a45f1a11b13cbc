"""``predict`` with no thread settings against explicit ones: is the package's default as fast as the best setting?

    python benchmarks/bench_threads.py                    # kobert-mini-nsmc on 5,000 NSMC test reviews, 3 rounds
    python benchmarks/bench_threads.py --rows 2000 --rounds 5

Each variant is a fresh ``kobert-gluon predict`` process (the thread count is fixed when mxnet loads), run
interleaved round by round; the table gives the median wall time and the ratio to the fastest variant:

* ``default``: no ``OMP_NUM_THREADS`` (the package sets it to the CPUs this process may use before mxnet loads);
* ``OMP_NUM_THREADS=N`` for N = 1 .. the CPUs available (the user's setting wins over the default);
* ``mxnet's own default``: mxnet imported before the package, so the package's default cannot apply (what 0.1
  ran with).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='kobert-mini-nsmc')
    parser.add_argument('--data', default=str(REPO.parent / 'shared' / 'data' / 'nsmc' / 'ratings_test.txt'))
    parser.add_argument('--rows', type=int, default=5000)
    parser.add_argument('--rounds', type=int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from kobert_gluon.core.machine import available_cpus
    cpus = available_cpus()
    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / 'texts.txt'
        lines = Path(args.data).read_text(encoding='utf-8').splitlines()[1:args.rows + 1]
        texts.write_text(''.join(line.split('\t')[1] + '\n' for line in lines), encoding='utf-8')
        command = ['--quiet', 'predict', '--model', args.model, '--output', str(Path(tmp) / 'out.tsv')]
        cli = 'import sys; from kobert_gluon.cli import main; sys.exit(main(sys.argv[1:]))'
        first_mxnet = 'import mxnet; ' + cli
        base_env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
        variants = {'default': (cli, base_env)}
        for n in range(1, cpus + 1):
            variants['OMP_NUM_THREADS={}'.format(n)] = (cli, dict(base_env, OMP_NUM_THREADS=str(n)))
        variants["mxnet's own default"] = (first_mxnet, base_env)
        times = {name: [] for name in variants}
        for round_number in range(args.rounds):
            for name, (code, env) in variants.items():
                (Path(tmp) / 'out.tsv').unlink(missing_ok=True)
                with open(texts, 'rb') as stdin:
                    started = time.perf_counter()
                    subprocess.run([sys.executable, '-c', code] + command, stdin=stdin, env=env, cwd=str(REPO),
                                   check=True)
                    times[name].append(time.perf_counter() - started)
            print('round {} of {} done'.format(round_number + 1, args.rounds), file=sys.stderr)
    best = min(statistics.median(t) for t in times.values())
    print('{} on {} reviews, {} CPUs available, {} rounds (medians, whole process)'.format(
        args.model, len(lines), cpus, args.rounds))
    print('| variant | seconds | vs fastest |')
    print('|---|---|---|')
    for name, values in times.items():
        print('| {} | {:.2f} | {:.2f}x |'.format(name, statistics.median(values), statistics.median(values) / best))


if __name__ == '__main__':
    main()
