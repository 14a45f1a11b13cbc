"""What the SHA-256 checks of saved folders cost, at KoBERT-base size.

    python benchmarks/bench_folder_checksums.py            # KoBERT-base folder (fp32 weights, ~370 MB), 5 rounds
    python benchmarks/bench_folder_checksums.py --quick    # kobert-mini size, 3 rounds

Model folders record the SHA-256 of every file when written and verify them when loaded (so does a training
checkpoint on resume). This measures, in one process and interleaved round by round:

* ``load_model`` of the folder with verification (the per-process "already verified" cache is cleared each
  time, so every load hashes every file, as a fresh process does) and ``load_model`` with the check skipped;
* ``save_model`` (which hashes what it wrote) and the hashing alone.

Weights are random (same shapes and bytes as the real model). The vocabulary is kobert-mini's (8,002 tokens,
the same size as KoBERT's), so nothing needs downloading. Reported: medians and the added share.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds (default 5)')
    parser.add_argument('--quick', action='store_true', help='kobert-mini size and 3 rounds')
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = min(args.rounds, 3)
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', '2')
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import mxnet as mx
    from kobert_gluon import KOBERT_BASE_CONFIG, build_bert, load_model, save_model
    from kobert_gluon.models import folder as model_folder
    from kobert_gluon.core import owned_folders
    from kobert_gluon.models.zoo import initialize_random, resolve_tokenizer_files

    tokenizer_path, vocab = resolve_tokenizer_files('kobert-mini')
    mini_config = model_folder.folder_config(model_folder.read_config(Path(tokenizer_path).parent))
    config = mini_config if args.quick else KOBERT_BASE_CONFIG
    bert = build_bert(config, use_pooler=True, use_decoder=False, use_classifier=False)
    initialize_random(bert, mx.cpu(), seed=0)
    ids = mx.nd.array([[2, 10, 3]])
    bert(ids, mx.nd.zeros_like(ids), mx.nd.array([3]))  # completes the deferred shapes
    work = Path(tempfile.mkdtemp(prefix='bench-checksums-'))
    try:
        folder = work / 'model'
        save_model(bert, vocab, folder, tokenizer_path)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print('folder: {} files, {:.1f} MB ({} layers x {} units)'.format(
            len(list(folder.iterdir())), size / 1e6, config.num_layers, config.units))

        real_verify = model_folder.verify_model_folder
        times = {'load, verified': [], 'load, unchecked': [], 'save (hashes included)': [], 'hash all files': []}
        for round_ in range(args.rounds):
            owned_folders._VERIFIED.clear()
            start = time.perf_counter()
            load_model(folder)
            times['load, verified'].append(time.perf_counter() - start)

            model_folder.verify_model_folder = lambda folder: False
            try:
                start = time.perf_counter()
                load_model(folder)
                times['load, unchecked'].append(time.perf_counter() - start)
            finally:
                model_folder.verify_model_folder = real_verify

            start = time.perf_counter()
            save_model(bert, vocab, work / 'copy', tokenizer_path, overwrite=True)
            times['save (hashes included)'].append(time.perf_counter() - start)

            start = time.perf_counter()
            for path in folder.iterdir():
                owned_folders.sha256_of(path)
            times['hash all files'].append(time.perf_counter() - start)
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, value in medians.items():
            print('{:<24} median {:.3f} s  (runs: {})'.format(name, value, ' '.join('{:.3f}'.format(v)
                                                                                   for v in times[name])))
        added = medians['load, verified'] - medians['load, unchecked']
        print('verification adds {:.3f} s to a load ({:+.0%}); hashing runs at {:.0f} MB/s'.format(
            added, added / medians['load, unchecked'], size / 1e6 / medians['hash all files']))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
