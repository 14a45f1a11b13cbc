"""Accuracy of a fine-tuned model under every runtime and precision, on a labeled file (the README's table).

    python benchmarks/deploy_accuracy.py                                  # kobert-mini-nsmc, all 50,000 NSMC test reviews
    python benchmarks/deploy_accuracy.py --max-rows 2000                  # a quick look
    python benchmarks/deploy_accuracy.py --model runs/nsmc --data ../shared/data/nsmc/ratings_test.txt --task nsmc
    python benchmarks/deploy_accuracy.py --ner-model runs/ner      # also a KLUE-NER model on the #test part

MXNet int8 is calibrated on training rows (``--calibration``), never on the rows it is scored on. Each path evaluates
the same rows through the package's own ``evaluate`` (same tokenizer, batches and metric), so
the only difference is what computes the forward pass. Also given: the share of predictions that agree with MXNet
fp32, the largest probability difference from it, and the wall time of the evaluation (one run each, threads as
given: a rough figure; ``bench_deploy.py`` measures speed properly).
"""
import argparse
import os
import sys
import time
from pathlib import Path

PATHS = (('mxnet', 'fp32'), ('mxnet', 'bf16'), ('mxnet', 'int8'), ('onnxruntime', 'fp32'), ('onnxruntime', 'int8'), ('openvino', 'fp32'),
         ('openvino', 'bf16'), ('openvino', 'int8'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='kobert-mini-nsmc')
    parser.add_argument('--data', default=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'nsmc'
                                              / 'ratings_test.txt'))
    parser.add_argument('--task', default='nsmc', help='read the file as this ready-made task does')
    parser.add_argument('--calibration', default=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'nsmc'
                                                     / 'ratings_train.txt'),
                        help='rows MXNet int8 calibrates on (training rows, never the evaluated ones; its first '
                             '2,048 rows are read)')
    parser.add_argument('--max-rows', type=int)
    parser.add_argument('--ner-model', help='also a token classifier (recipes/ner_qa.sh trains one from kobert-mini), '
                                            'scored by entity F1 on --ner-data; MXNet int8 calibrates on the texts of '
                                            '--ner-calibration')
    shared = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'klue_ner' / 'klue-ner-v1.1_dev.tsv'
    parser.add_argument('--ner-data', default='{}#test'.format(shared))
    parser.add_argument('--ner-calibration', default='{}#train'.format(shared))
    parser.add_argument('--skip-classifier', action='store_true', help='only the --ner-model table')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=64)
    return parser.parse_args(argv)


def _load(args, model, runtime, precision, calibration):
    from kobert_gluon.deploy.predictor import load_predictor
    return load_predictor(model, runtime=runtime, precision=precision,
                          threads=None if runtime == 'mxnet' else args.threads,
                          calibration=calibration if (runtime, precision) == ('mxnet', 'int8') else None)


def classifier_table(args):
    import numpy as np
    from kobert_gluon.tasks.datasets import get_task, read_table
    table = get_task(args.task).table
    data = read_table(args.data, table, 'classification', max_rows=args.max_rows)
    truth = np.array(data.labels)
    print('{}: {} on {} ({} rows)'.format(args.model, args.task, args.data, len(data)), file=sys.stderr)
    rows, reference = [], None
    for runtime, precision in PATHS:
        try:
            model = _load(args, args.model, runtime, precision, args.calibration)
        except Exception as err:
            print('{} {}: not measured ({})'.format(runtime, precision, err), file=sys.stderr)
            continue
        labels = model.labels
        started = time.perf_counter()
        probabilities = model.predict(data.texts, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        predicted = np.array([labels[i] for i in probabilities.argmax(1)])
        accuracy = float((predicted == truth).mean())
        if reference is None:
            reference = probabilities
        rows.append((runtime, precision, accuracy, float((probabilities.argmax(1) == reference.argmax(1)).mean()),
                     float(np.abs(probabilities - reference).max()), seconds))
        print('{} {} done'.format(runtime, precision), file=sys.stderr)
    base = rows[0][2]
    print('| runtime | precision | accuracy | vs MXNet fp32 (points) | same prediction | max prob. diff | time (s) |')
    print('|---|---|---|---|---|---|---|')
    for runtime, precision, accuracy, agree, diff, seconds in rows:
        print('| {} | {} | {:.2f} % | {:+.2f} | {:.2f} % | {:.1e} | {:.1f} |'.format(
            runtime, precision, 100 * accuracy, 100 * (accuracy - base), 100 * agree, diff, seconds))


def ner_table(args, workdir: Path):
    from kobert_gluon.tasks.tagging import read_tagged
    calibration = workdir / 'ner_calibration.txt'  # predict's input for a tagger: one text a line
    texts = [example.text for example in read_tagged(args.ner_calibration, 'klue').examples]
    calibration.write_text('\n'.join(texts) + '\n', encoding='utf-8')
    print('{}: entity F1 on {}'.format(args.ner_model, args.ner_data), file=sys.stderr)
    rows = []
    for runtime, precision in PATHS:
        try:
            model = _load(args, args.ner_model, runtime, precision, calibration)
        except Exception as err:
            print('{} {}: not measured ({})'.format(runtime, precision, err), file=sys.stderr)
            continue
        started = time.perf_counter()
        metrics = model.evaluate(args.ner_data, data_format='klue', batch_size=args.batch_size)
        rows.append((runtime, precision, metrics, time.perf_counter() - started))
        print('{} {} done'.format(runtime, precision), file=sys.stderr)
    base = rows[0][2]['entity_f1']
    print('| runtime | precision | entity F1 | vs MXNet fp32 (points) | precision | recall | time (s) |')
    print('|---|---|---|---|---|---|---|')
    for runtime, precision, metrics, seconds in rows:
        print('| {} | {} | {:.2f} | {:+.2f} | {:.2f} | {:.2f} | {:.1f} |'.format(
            runtime, precision, 100 * metrics['entity_f1'], 100 * (metrics['entity_f1'] - base),
            100 * metrics['entity_precision'], 100 * metrics['entity_recall'], seconds))


def main(argv=None):
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tempfile
    if not args.skip_classifier:
        classifier_table(args)
    if args.ner_model:
        with tempfile.TemporaryDirectory() as tmp:
            ner_table(args, Path(tmp))


if __name__ == '__main__':
    main()
