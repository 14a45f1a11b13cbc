"""``kobert-gluon SUB --help`` for every subcommand, each run in a fresh interpreter: median, min and max of
several runs, and whether the median is within the target (0.3 s: a help screen should appear at once, and the
commands that compute import MXNet only when they run, never to describe themselves).

The subcommands are read from this checkout's parser, so a new command is timed without editing this file. Rounds
interleave the commands, so a busy moment of a shared machine is spread over all of them rather than landing on
one. Each run is ``python -m kobert_gluon SUB --help`` with this checkout first on ``PYTHONPATH``.

    python benchmarks/bench_cli_help.py --rounds 5
    python benchmarks/bench_cli_help.py --commands finetune predict --rounds 3
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
TARGET_S = 0.3


def subcommands():
    """Every subcommand's name, as the top-level parser lists them (building it imports no command module's
    heavy dependencies; the test suite checks that)."""
    env = dict(os.environ, PYTHONPATH=str(HERE))
    code = ('from kobert_gluon.cli import build_parser\n'
            'commands = next(a for a in build_parser(only="")._actions if a.dest == "command")\n'
            'print("\\n".join(commands.choices))\n')
    out = subprocess.run([sys.executable, '-c', code], env=env, cwd='/', check=True, capture_output=True,
                         text=True).stdout
    return out.split()


def time_help(command):
    env = dict(os.environ, PYTHONPATH=str(HERE))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-m', 'kobert_gluon', command, '--help'], env=env, cwd='/',
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit('kobert-gluon {} --help failed (exit {}): {}'.format(
            command, done.returncode, done.stderr.decode('utf-8', 'replace').strip()))
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=5, help='timed runs of each command (default %(default)s)')
    parser.add_argument('--commands', nargs='+', metavar='SUB', help='only these subcommands (default: all)')
    parser.add_argument('--target', type=float, default=TARGET_S, help='seconds (default %(default)s)')
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    commands = subcommands()
    unknown = sorted(set(args.commands or ()) - set(commands))
    if unknown:
        parser.error('unknown subcommand(s) {}; known: {}'.format(', '.join(unknown), ', '.join(commands)))
    commands = [c for c in commands if c in (args.commands or commands)]
    for command in commands:  # one untimed run each, so every command meets a warm file cache alike
        time_help(command)
    times = {command: [] for command in commands}
    for _ in range(args.rounds):
        for command in commands:
            times[command].append(time_help(command))
    print('kobert-gluon SUB --help: {} interleaved rounds, a fresh interpreter each ({}, {} CPUs)'.format(
        args.rounds, sys.executable, os.cpu_count()))
    print('{:<26} {:>8} {:>8} {:>8}  within {:.1f} s'.format('subcommand', 'median', 'min', 'max', args.target))
    slow = []
    for command in commands:
        median = statistics.median(times[command])
        within = median <= args.target
        if not within:
            slow.append(command)
        print('{:<26} {:>7.3f}s {:>7.3f}s {:>7.3f}s  {}'.format(command, median, min(times[command]),
                                                              max(times[command]), 'yes' if within else 'NO'))
    print('{} of {} subcommands within {:.1f} s{}'.format(len(commands) - len(slow), len(commands), args.target,
                                                         ': slow: ' + ', '.join(slow) if slow else ''))
    return 1 if slow else 0


if __name__ == '__main__':
    sys.exit(main())
