"""One fine-tuning step (forward, backward, AdamW update) of a KoBERT-base classifier: MXNet against PyTorch, each
in float32 and in bfloat16 mixed precision.

    python benchmarks/bench_training_step.py                  # 32 x 64, 2 threads, 3 interleaved rounds
    python benchmarks/bench_training_step.py --batch 16 --length 128 --rounds 5
    python benchmarks/bench_training_step.py --settings mxnet pytorch-bf16

Every side holds the same randomly drawn KoBERT-base-shaped weights (MXNet draws them from one seed, transformers gets
a copy) with a 2-class head. MXNet runs the package's own fine-tuning model (hybridized with ``static_alloc``,
gluonnlp's ``bertadam``, dropout 0.1) through the package's own ``Trainer``-free step; ``mxnet-bf16`` is the same
with MXNet's AMP in bfloat16 exactly as ``--dtype bfloat16`` sets it up (``training.placement.place_training``:
dense layers in bfloat16 from float32 master weights), which needs grad_req ``write`` in MXNet 1.9 (see
``training/trainer.py``). PyTorch runs a transformers ``BertForSequenceClassification`` with ``torch.optim.AdamW``
(dropout 0.1), eager, and ``pytorch-bf16`` the same under ``torch.autocast('cpu', bfloat16)``.

MXNet's AMP cannot be turned off in a process, so every setting runs in its own process: each round starts one
process per setting, in turn (interleaved), which builds the model, takes a warm-up step and times ``--steps``
steps. The table gives the median over rounds of seconds per step and sequences per second, and each setting's speed
against MXNet float32.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = ('mxnet', 'mxnet-bf16', 'pytorch', 'pytorch-bf16')
REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--length', type=int, default=64)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--settings', nargs='+', choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument('--quick', action='store_true', help='2 layers, 1 round, 1 step (checks it runs)')
    parser.add_argument('--child', choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 1, 1
    return args


def _mxnet_model(args):
    import mxnet as mx
    import numpy as np
    from kobert_gluon import get_model
    from kobert_gluon.heads.sequence import SequenceClassifier
    mx.random.seed(0)
    shape = dict(num_layers=2 if args.quick else 12, units=768, hidden_size=3072, num_heads=12, embed_size=768,
                 max_length=512)
    bert, vocab = get_model('kobert-mini', pretrained=False, use_pooler=True, use_decoder=False,
                            use_classifier=False, **shape)
    model = SequenceClassifier(bert, 2, dropout=0.1)
    model.initialize(mx.init.Normal(0.02))
    rng = np.random.RandomState(0)
    ids = rng.randint(5, 8002, size=(args.batch, args.length))
    ids[:, 0] = 2
    labels = rng.randint(0, 2, size=args.batch)
    return model, bert, vocab, ids, labels


def _mxnet_step(args, bf16: bool):
    import mxnet as mx
    if bf16:
        from kobert_gluon.training.placement import place_training
        place_training('cpu', 'bfloat16')  # before the model is built, as every training command does
    from mxnet import autograd, gluon
    model, _, _, ids, labels = _mxnet_model(args)
    x, t = mx.nd.array(ids), mx.nd.zeros(ids.shape)
    v, y = mx.nd.full((args.batch,), args.length), mx.nd.array(labels)
    model(x, t, v)  # shapes settle
    model.hybridize(static_alloc=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(model.collect_params(), 'bertadam', {'learning_rate': 2e-5, 'epsilon': 1e-6})

    def step():
        with autograd.record():
            loss = loss_fn(model(x, t, v), y).mean()
        loss.backward()
        trainer.step(1)
        mx.nd.waitall()
    return step


def _pytorch_step(args, bf16: bool):
    import torch
    import transformers
    from kobert_gluon.convert.huggingface import to_transformers_bert_model
    _, bert, vocab, ids, labels = _mxnet_model(args)
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    backbone = to_transformers_bert_model(bert, vocab)
    config = backbone.config
    config.num_labels, config.hidden_dropout_prob, config.attention_probs_dropout_prob = 2, 0.1, 0.1
    classifier = transformers.BertForSequenceClassification(config)
    classifier.bert.load_state_dict(backbone.state_dict())
    classifier.train()
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=2e-5, eps=1e-6, weight_decay=0.01)
    tx, ty = torch.from_numpy(ids.astype('int64')), torch.from_numpy(labels.astype('int64'))
    tt, mask = torch.zeros_like(tx), torch.ones_like(tx)

    def step():
        optimizer.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            out = classifier(input_ids=tx, token_type_ids=tt, attention_mask=mask, labels=ty)
        out.loss.backward()
        optimizer.step()
    return step


def run_child(args) -> None:
    """One setting in this process: build, warm up, time ``--steps`` steps; print the seconds per step as JSON."""
    sys.path.insert(0, str(REPO))
    name = args.child
    step = (_mxnet_step if name.startswith('mxnet') else _pytorch_step)(args, bf16=name.endswith('bf16'))
    step()  # warm-up: allocations, graph building
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    print(json.dumps({'seconds_per_step': (time.perf_counter() - started) / args.steps}))


def main(argv=None):
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    if args.child:
        return run_child(args)
    base = [sys.executable, __file__, '--batch', str(args.batch), '--length', str(args.length), '--threads',
            str(args.threads), '--steps', str(args.steps)] + (['--quick'] if args.quick else [])
    times = {name: [] for name in args.settings}
    skipped = {}
    for round_number in range(args.rounds):
        for name in args.settings:
            if name in skipped:
                continue
            done = subprocess.run(base + ['--child', name], capture_output=True, text=True)
            if done.returncode != 0:
                lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
                skipped[name] = lines[-1] if lines else 'exit status {}'.format(done.returncode)
                continue
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1])['seconds_per_step'])
        print('round {} of {} done'.format(round_number + 1, args.rounds), file=sys.stderr)
    print('training step, {} x {}, {} threads, {} rounds of {} steps, one process per setting and round '
          '(medians){}'.format(args.batch, args.length, args.threads, args.rounds, args.steps,
                               ' (quick: 2 layers)' if args.quick else ''))
    print('| setting | s/step | seq/s | vs mxnet fp32 |')
    print('|---|---|---|---|')
    reference = statistics.median(times['mxnet']) if times.get('mxnet') else None
    for name in args.settings:
        if name in skipped:
            print('| {} | not measured: {} | | |'.format(name, skipped[name]))
            continue
        seconds = statistics.median(times[name])
        print('| {} | {:.2f} | {:.1f} | {} |'.format(name, seconds, args.batch / seconds,
                                                   '{:.2f}x'.format(reference / seconds) if reference else ''))
    if times.get('mxnet-bf16') and times.get('pytorch-bf16'):
        print('MXNet bf16 / PyTorch bf16 speed: {:.2f}x'.format(statistics.median(times['pytorch-bf16'])
                                                                / statistics.median(times['mxnet-bf16'])))


if __name__ == '__main__':
    main()
