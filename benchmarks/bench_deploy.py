"""Inference speed of every runtime and precision, side by side, against PyTorch.

    python benchmarks/bench_deploy.py                      # KoBERT-base shape, 3 interleaved rounds, 2 threads
    python benchmarks/bench_deploy.py --quick              # 2 layers, 1 round: checks that every path runs
    python benchmarks/bench_deploy.py --threads 4 --rounds 5 --shapes 1x16 32x64
    python benchmarks/bench_deploy.py --model kobert-mini-nsmc --model runs/distil-nsmc   # trained models, no PyTorch

One process holds one KoBERT-base-shaped model with random weights (drawn once, seeded) in every form: the
hybridized Gluon model (MXNet fp32; the package's oneDNN-fused fp32, bf16 and calibrated int8 graphs of it), its ONNX
export run by onnxruntime (fp32, dynamic int8) and OpenVINO (fp32, bf16,
int8), and, when torch and transformers are installed, the same weights as a transformers ``BertModel`` (eager fp32
and bf16 autocast). Every runtime gets the same thread count explicitly (MXNet through ``OMP_NUM_THREADS``, set
here before mxnet loads). Rounds are interleaved (every path at every shape, then the next round), each timing
repeats its call until it has run for at least ``--min-time`` seconds, and the table gives medians over rounds:
sequences per second, milliseconds per batch, and the ratio to PyTorch bf16. "max err" is the largest absolute
difference of the pooled output from MXNet fp32 on the first shape's batch (random weights: relative to outputs
of size ~1). Run it on a quiet machine: nothing else running.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--shapes', nargs='+', default=['1x16', '8x64', '32x64', '32x128'],
                        help='batch x length pairs (default: 1x16 8x64 32x64 32x128)')
    parser.add_argument('--min-time', type=float, default=1.0, help='seconds each timing runs at least')
    parser.add_argument('--quick', action='store_true', help='2 layers and 1 round (checks every path runs)')
    parser.add_argument('--skip', nargs='*', default=[], help='paths to leave out, e.g. "openvino int8"')
    parser.add_argument('--model', action='append', default=[],
                        help='measure this model (name or folder, fine-tuned or not; repeatable) instead of the '
                             'KoBERT-base shape; each path is then "MODEL: runtime precision", without PyTorch rows')
    args = parser.parse_args(argv)
    args.shapes = [tuple(int(x) for x in shape.lower().split('x')) for shape in args.shapes]
    if args.quick:
        args.rounds = 1
    return args


def model_paths(args, workdir: Path, name: str):
    """The paths of one trained model (its first output: logits of a classifier, the sequence of a backbone)."""
    import mxnet as mx
    from kobert_gluon import get_model
    from kobert_gluon.deploy.runtime import InferenceModel
    from kobert_gluon.export.onnx_export import export_onnx
    model, _ = get_model(name)
    if hasattr(model, '_use_decoder') and (model._use_decoder or getattr(model, '_use_classifier', False)):
        model, _ = get_model(name, use_decoder=False, use_classifier=False)
    ids = mx.nd.array([[2, 5, 3]])
    model(ids, mx.nd.zeros_like(ids), mx.nd.array([3]))
    onnx_path = workdir / '{}.onnx'.format(Path(name).name)
    export_onnx(model, onnx_path)
    model.hybridize(static_alloc=True)
    label = Path(name).name

    def mxnet_fp32(input_ids, types, lengths):
        out = model(mx.nd.array(input_ids), mx.nd.array(types), mx.nd.array(lengths))
        return (out[0] if isinstance(out, (list, tuple)) else out).asnumpy()

    paths = {label + ': mxnet fp32': mxnet_fp32}
    for runtime, precision in (('onnxruntime', 'fp32'), ('onnxruntime', 'int8'), ('openvino', 'fp32'),
                               ('openvino', 'bf16'), ('openvino', 'int8')):
        inference = InferenceModel(onnx_path, runtime=runtime, precision=precision, threads=args.threads)
        first = inference.output_names[0]
        paths['{}: {} {}'.format(label, runtime, precision)] = (lambda m, o: lambda a, b, c: m(a, b, c)[o])(
            inference, first)
    return paths


def mxnet_graphs(args, bert, workdir: Path):
    """The package's MXNet inference graphs of the same weights (models/inference): oneDNN-fused fp32, bf16 where
    the CPU has it, int8 calibrated on a few random batches (random weights: any batch calibrates as well)."""
    import mxnet as mx
    from kobert_gluon.core.machine import cpu_has_bf16
    from kobert_gluon.models.inference import fuse, fusion_available, quantize, to_bfloat16
    if not fusion_available(mx.cpu()):
        print('mxnet fused / bf16 / int8: not measured (this MXNet build has no oneDNN backend)', file=sys.stderr)
        return {}

    def copy():  # a second block with the same weights: fusing changes the block it is applied to
        params = workdir / 'weights.params'
        bert.save_parameters(str(params))
        from kobert_gluon import get_model
        other, _ = get_model('kobert-mini', pretrained=False, use_pooler=True, use_decoder=False,
                             use_classifier=False, dropout=0.0, **{k: getattr(bert.kobert_config, k) for k in (
                                 'num_layers', 'units', 'hidden_size', 'num_heads', 'embed_size', 'max_length')})
        other.load_parameters(str(params))
        return other

    def pooled(block):
        def run(input_ids, types, lengths):
            return block(mx.nd.array(input_ids), mx.nd.array(types), mx.nd.array(lengths))[1].asnumpy()
        return run

    graphs = {}
    fused = copy()
    fuse(fused, mx.cpu())
    graphs['mxnet fused fp32'] = pooled(fused)
    if 'mxnet bf16' not in args.skip:
        if cpu_has_bf16():
            graphs['mxnet bf16'] = pooled(to_bfloat16(copy(), mx.cpu()))
        else:
            print('mxnet bf16: not measured (this CPU has no bfloat16 instructions)', file=sys.stderr)
    if 'mxnet int8' not in args.skip:
        calibration = [[mx.nd.array(a) for a in batch_of(8, 64, seed=100 + i)] for i in range(4)]
        graphs['mxnet int8'] = pooled(quantize(copy(), calibration, mx.cpu()))
    return graphs


def build_paths(args, workdir: Path):
    """``{name: callable(ids, types, lengths) -> pooled output (numpy)}`` plus the names in table order."""
    if args.model:
        paths = {}
        for name in args.model:
            paths.update(model_paths(args, workdir, name))
        return paths
    import mxnet as mx
    import numpy as np
    from kobert_gluon import get_model
    from kobert_gluon.deploy.runtime import InferenceModel
    from kobert_gluon.export.onnx_export import export_onnx

    mx.random.seed(0)
    # KoBERT-base's shape over kobert-mini's 8,002-token vocabulary (ships with the package: nothing to download)
    shape = dict(num_layers=2 if args.quick else 12, units=768, hidden_size=3072, num_heads=12, embed_size=768,
                 max_length=512)
    bert, vocab = get_model('kobert-mini', pretrained=False, use_pooler=True, use_decoder=False,
                            use_classifier=False, dropout=0.0, **shape)
    ids = mx.nd.array([[2, 5, 3]])
    bert(ids, mx.nd.zeros_like(ids), mx.nd.array([3]))  # finishes deferred initialisation
    onnx_path = workdir / 'kobert.onnx'
    started = time.perf_counter()
    export_onnx(bert, onnx_path)
    print('exported {} in {:.1f} s'.format(onnx_path.name, time.perf_counter() - started), file=sys.stderr)
    bert.hybridize(static_alloc=True)

    def mxnet_fp32(input_ids, types, lengths):
        _, pooled = bert(mx.nd.array(input_ids), mx.nd.array(types), mx.nd.array(lengths))
        return pooled.asnumpy()

    paths = {'mxnet fp32': mxnet_fp32}
    paths.update(mxnet_graphs(args, bert, workdir))
    for runtime, precision in (('onnxruntime', 'fp32'), ('onnxruntime', 'int8'), ('openvino', 'fp32'),
                               ('openvino', 'bf16'), ('openvino', 'int8')):
        name = '{} {}'.format(runtime, precision)
        if name in args.skip:
            continue
        try:
            model = InferenceModel(onnx_path, runtime=runtime, precision=precision, threads=args.threads)
        except Exception as err:  # an optional runtime that is not installed: say so, measure the rest
            print('{}: not measured ({})'.format(name, err), file=sys.stderr)
            continue
        paths[name] = (lambda m: lambda a, b, c: m(a, b, c)['pooled_output'])(model)
    try:
        import torch
        from kobert_gluon.convert.huggingface import to_transformers_bert_model
    except ImportError as err:
        print('PyTorch rows: not measured ({})'.format(err), file=sys.stderr)
    else:
        torch.set_num_threads(args.threads)
        hf = to_transformers_bert_model(bert, vocab)

        def torch_path(bf16):
            def run(input_ids, types, lengths):
                mask = (np.arange(input_ids.shape[1])[None] < lengths[:, None]).astype('int64')
                with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
                    out = hf(input_ids=torch.from_numpy(input_ids), token_type_ids=torch.from_numpy(types),
                             attention_mask=torch.from_numpy(mask))
                return out.pooler_output.float().numpy()
            return run
        paths['pytorch fp32'] = torch_path(False)
        paths['pytorch bf16'] = torch_path(True)
    return paths


def batch_of(batch, length, seed=0):
    import numpy as np
    rng = np.random.RandomState(seed)
    ids = rng.randint(5, 8002, size=(batch, length)).astype(np.int64)
    ids[:, 0] = 2
    lengths = np.full(batch, length, dtype=np.int64)
    lengths[1::2] = max(2, length * 3 // 4)  # half the rows padded, as in a real batch
    for row, n in enumerate(lengths):
        ids[row, n - 1] = 3
        ids[row, n:] = 1
    types = np.zeros_like(ids)
    return ids, types, lengths


def time_call(fn, inputs, min_time):
    fn(*inputs)  # warm: compiles a shape, fills caches
    calls, started = 0, time.perf_counter()
    while True:
        fn(*inputs)
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_time and calls >= 2:
            return elapsed / calls


def main(argv=None):
    args = parse_args(argv)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # before mxnet loads: MXNet's only thread setting
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault('KOBERT_GLUON_HOME', str(Path(tmp) / 'cache'))
        paths = build_paths(args, Path(tmp))
        first = batch_of(*args.shapes[0])
        errors = {}
        for name, fn in paths.items():
            reference_name = name.split(': ')[0] + ': mxnet fp32' if ': ' in name else 'mxnet fp32'
            reference = paths[reference_name](*first)
            out = fn(*first)
            if out.ndim == 3:  # per-position outputs: compare the real positions only (half the rows are padded)
                out, reference = out[:, :2], reference[:, :2]
            errors[name] = float(np.abs(out - reference).max())
        times = {(name, shape): [] for name in paths for shape in args.shapes}
        for round_number in range(args.rounds):
            for shape in args.shapes:
                inputs = batch_of(*shape, seed=round_number)
                for name, fn in paths.items():
                    times[name, shape].append(time_call(fn, inputs, args.min_time))
            print('round {} of {} done'.format(round_number + 1, args.rounds), file=sys.stderr)

    print('threads={} rounds={} shapes={}{}'.format(args.threads, args.rounds,
                                                   ' '.join('{}x{}'.format(*s) for s in args.shapes),
                                                   ' (models: {})'.format(', '.join(args.model)) if args.model
                                                   else ' (quick: 2 layers)' if args.quick else ' (KoBERT-base shape)'))
    header = ['path', 'max err']
    for batch, length in args.shapes:
        header += ['{}x{} seq/s'.format(batch, length), 'ms', 'vs pt-bf16']
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for name in paths:
        cells = [name, '{:.1e}'.format(errors[name])]
        for shape in args.shapes:
            seconds = statistics.median(times[name, shape])
            cells += ['{:.1f}'.format(shape[0] / seconds), '{:.1f}'.format(seconds * 1000)]
            if 'pytorch bf16' in paths:
                cells.append('{:.2f}x'.format(statistics.median(times['pytorch bf16', shape]) / seconds))
            else:
                cells.append('-')
        print('| ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
