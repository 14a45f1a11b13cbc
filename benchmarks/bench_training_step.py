"""One fine-tuning step (forward, backward, AdamW update) of a KoBERT-base classifier: MXNet against PyTorch.

    python benchmarks/bench_training_step.py                  # 32 x 64, 2 threads, 3 interleaved rounds
    python benchmarks/bench_training_step.py --batch 16 --length 128 --rounds 5

Both sides hold the same randomly drawn KoBERT-base-shaped weights (MXNet draws them, transformers gets a copy) with
a 2-class head. MXNet runs the package's own fine-tuning model (hybridized with ``static_alloc``, gluonnlp's
``bertadam``, the optimizer fine-tuning uses; dropout 0.1), PyTorch a transformers ``BertForSequenceClassification``
with ``torch.optim.AdamW`` (dropout 0.1, fp32 eager). Each round times ``--steps`` steps per side after a warm-up
step; the table gives the median seconds per step and sequences per second over rounds, and the ratio MXNet/PyTorch.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--length', type=int, default=64)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--quick', action='store_true', help='2 layers, 1 round, 1 step (checks it runs)')
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 1, 1
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import mxnet as mx
    import numpy as np
    from mxnet import autograd, gluon
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
    valid = np.full(args.batch, args.length)
    labels = rng.randint(0, 2, size=args.batch)
    x, t, v, y = (mx.nd.array(ids), mx.nd.zeros(ids.shape), mx.nd.array(valid), mx.nd.array(labels))
    model(x, t, v)  # shapes settle before copying the weights
    model.hybridize(static_alloc=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(model.collect_params(), 'bertadam', {'learning_rate': 2e-5, 'epsilon': 1e-6})

    def mxnet_step():
        with autograd.record():
            loss = loss_fn(model(x, t, v), y).mean()
        loss.backward()
        trainer.step(1)
        mx.nd.waitall()

    steps = {'mxnet': mxnet_step}
    try:
        import torch
        import transformers
        from kobert_gluon.convert.huggingface import to_transformers_bert_model
    except ImportError as err:
        print('PyTorch: not measured ({})'.format(err), file=sys.stderr)
    else:
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

        def torch_step():
            optimizer.zero_grad()
            out = classifier(input_ids=tx, token_type_ids=tt, attention_mask=mask, labels=ty)
            out.loss.backward()
            optimizer.step()
        steps['pytorch'] = torch_step

    times = {name: [] for name in steps}
    for name, step in steps.items():
        step()  # warm-up: allocations, graph building
    for round_number in range(args.rounds):
        for name, step in steps.items():
            started = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - started) / args.steps)
        print('round {} of {} done'.format(round_number + 1, args.rounds), file=sys.stderr)
    print('training step, {} x {}, {} threads, {} rounds of {} steps (medians){}'.format(
        args.batch, args.length, args.threads, args.rounds, args.steps, ' (quick: 2 layers)' if args.quick else ''))
    print('| framework | s/step | seq/s |')
    print('|---|---|---|')
    for name, values in times.items():
        seconds = statistics.median(values)
        print('| {} | {:.2f} | {:.1f} |'.format(name, seconds, args.batch / seconds))
    if 'pytorch' in times:
        print('MXNet / PyTorch speed: {:.2f}x'.format(statistics.median(times['pytorch'])
                                                    / statistics.median(times['mxnet'])))


if __name__ == '__main__':
    main()
