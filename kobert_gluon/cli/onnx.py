"""``export-onnx``: a registered model or a saved (fine-tuned) model folder to one ONNX file, optionally verified."""
import time
from pathlib import Path

from . import UsageError
from .run_options import add_progress_arg


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'export-onnx': 'export a model or fine-tuned model folder to ONNX (optionally checking parity)',
}


def register(subparsers):
    export = subparsers.add_parser(
        'export-onnx', help=COMMANDS['export-onnx'],
        description='Export to ONNX (opset 13, dynamic batch and sequence axes) with MXNet\'s exporter. A model '
                    'folder with a task head exports the head (logits / score); a plain model exports '
                    'sequence_output and pooled_output.')
    export.add_argument('--model', default='kobert-base',
                        help='registered model name or saved model folder (default: kobert-base)')
    export.add_argument('--out', required=True, help='the .onnx file to write')
    export.add_argument('--signature', choices=('bert', 'kobert-original'), default='bert',
                        help="'bert': input_ids, token_type_ids, valid_length (default); 'kobert-original': "
                             "input_ids, token_type_ids, input_mask, position_ids like the original KoBERT file")
    export.add_argument('--all-layers', action='store_true',
                        help='output every encoder layer (encoder_layer_1 ... encoder_layer_N) of a plain model')
    export.add_argument('--verify', action='store_true',
                        help='run MXNet and onnxruntime on random batches (batch 1-16, length 1-512) and report '
                             'the errors; exit status 1 if any exceeds --tolerance')
    export.add_argument('--tolerance', type=float, default=1e-4, help='largest absolute error --verify accepts')
    export.add_argument('--random-weights', action='store_true',
                        help='export a randomly initialised registered model (no weights needed; for trying it)')
    export.add_argument('--overwrite', action='store_true',
                        help='replace --out if it exists (only an ONNX file kobert-gluon exported)')
    export.add_argument('--cachedir', help='cache folder')
    add_progress_arg(export)
    export.set_defaults(func=run_export_onnx)


def _load(args):
    from ..hub.catalogue import lookup
    from ..models.zoo import get_model
    from ..models.folder import is_model_folder
    entry = lookup(args.model)  # a run folder means its best/
    folder = isinstance(entry, Path) and is_model_folder(entry)
    if folder and args.random_weights:
        raise UsageError('--random-weights applies to registered model names, not to the folder {}'
                         .format(args.model))
    if not folder and Path(args.model).exists():
        raise UsageError('{} is not a kobert-gluon model folder (it has no config.json)'.format(args.model))
    # The pretraining heads are not part of an inference graph; a folder's task head, if any, is kept.
    model, _ = get_model(args.model, pretrained=not args.random_weights, use_decoder=False, use_classifier=False,
                         cachedir=args.cachedir)
    return model


def run_export_onnx(args):
    from ..core.output_files import check_output_file
    from ..core.owned_folders import check_inputs_apart
    from ..export.onnx_export import ONNX_EXPORT, OnnxExportError, export_onnx
    check_inputs_apart(args.out, [args.model], '--out')  # never over or inside the model it exports
    if Path(args.out).parent.is_dir():  # say so before spending time on loading the model (export_onnx checks again)
        check_output_file(args.out, ONNX_EXPORT, args.overwrite, [args.model], '--out')
    from ..core.progress import phase
    phase('loading {}'.format(args.model))
    model = _load(args)
    model.hybridize(static_alloc=True)
    try:
        start = time.perf_counter()
        phase('exporting with MXNet\'s ONNX exporter (opset 13)')
        path = export_onnx(model, args.out, signature=args.signature, all_layers=args.all_layers,
                           overwrite=args.overwrite)
        seconds = time.perf_counter() - start
        _describe(path, seconds)
        if args.verify:
            from ..export.onnx_parity import verify_onnx
            report = verify_onnx(model, path, tolerance=args.tolerance)
            print(report.format_table())
            if not report.passed:
                worst = max(report.failures(), key=lambda row: row.max_abs)
                print('kobert-gluon export-onnx: parity check failed: {} differs by {:.2e} at batch {} x length '
                      '{} (tolerance {:.0e})'.format(worst.output, worst.max_abs, worst.batch, worst.length,
                                                     args.tolerance))
                return 1
    except OnnxExportError as err:
        raise UsageError(str(err)) from err
    return 0


def _describe(path, seconds):
    import onnx
    graph = onnx.load(str(path), load_external_data=False).graph

    def shape(value):
        return '({})'.format(', '.join(d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim))
    print('exported {} ({:.1f} MB) in {:.1f} s'.format(path, Path(path).stat().st_size / 1e6, seconds))
    print('  inputs:  ' + ', '.join(v.name + shape(v) for v in graph.input))
    print('  outputs: ' + ', '.join(v.name + shape(v) for v in graph.output))
