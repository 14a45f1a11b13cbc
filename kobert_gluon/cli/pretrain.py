"""``pretrain``: masked-LM + next-sentence pretraining on shards from ``create-pretraining-data``."""
import sys
from pathlib import Path

from . import UsageError
from .run_options import (TRAINING_SETTING_PATHS, add_run_folder_args, add_training_args, print_run_result,
                          settings_document)

# Command-line option -> place in PretrainSettings.to_dict() (dots go into nested sections).
_SETTING_PATHS = dict({
    'data': 'data', 'model': 'model', 'from_scratch': 'from_scratch', 'vocab': 'vocab', 'dropout': 'dropout',
    'num_layers': 'model_overrides.num_layers', 'units': 'model_overrides.units',
    'hidden_size': 'model_overrides.hidden_size', 'num_heads': 'model_overrides.num_heads',
    'max_length': 'model_overrides.max_length',
    'dev_data': 'dev_data', 'dev_chunks': 'dev_chunks', 'max_dev_instances': 'max_dev_instances',
    'batch_size': 'batch_size', 'eval_batch_size': 'eval_batch_size', 'bucket_window': 'bucket_window',
    'param_dtype': 'param_dtype',
}, **TRAINING_SETTING_PATHS)


def register(subparsers):
    from ..pretraining.pretrain import pretraining_training_config
    parser = subparsers.add_parser(
        'pretrain', help='pretrain a BERT (masked LM + next sentence) on create-pretraining-data shards',
        description='Pretrain a BERTModel with MLM decoder and NSP classifier, from kobert-base\'s weights, a saved '
                    'model folder, or from scratch at any size. The best model (lowest dev loss) lands in '
                    'OUT/best, ready for `kobert-gluon finetune --model OUT/best`.')
    data = parser.add_argument_group('data')
    data.add_argument('--data', help='pretraining data folder (create-pretraining-data --out)')
    data.add_argument('--dev-chunks', type=int, help='hold out the last N chunks of --data for dev: whole chunks, '
                      'so no document is both trained and evaluated on (default 1; 0 = no dev)')
    data.add_argument('--dev-data', help='a separate pretraining data folder to evaluate on (instead of '
                      '--dev-chunks)')
    data.add_argument('--max-dev-instances', type=int, help='evaluate on at most N dev instances (default 5000)')
    model = parser.add_argument_group('model')
    model.add_argument('--model', help='registered model (its pretrained weights) or saved model folder with MLM '
                                       'and NSP heads (continue pretraining); with --from-scratch, the architecture '
                                       '(default kobert-base)')
    model.add_argument('--from-scratch', action='store_true', default=None,
                       help='random initial weights; the size options and --vocab apply')
    model.add_argument('--vocab', metavar='DIR', help='build-vocab folder (tokenizer.model + vocab.json) for a '
                                                      'from-scratch model (default: the model\'s own)')
    model.add_argument('--num-layers', type=int)
    model.add_argument('--units', type=int, help='hidden units (the embedding size follows)')
    model.add_argument('--hidden-size', type=int, help='feed-forward units')
    model.add_argument('--num-heads', type=int)
    model.add_argument('--max-length', type=int, help='position embeddings (at least the data\'s max_seq_length)')
    model.add_argument('--dropout', type=float)
    model.add_argument('--param-dtype', choices=('float32', 'float16'),
                       help='parameter type of the saved model folder (default float32)')
    train = add_training_args(parser, pretraining_training_config())
    train.add_argument('--batch-size', type=int, help='sequences per micro-batch (default 64)')
    train.add_argument('--eval-batch-size', type=int, help='default 128')
    train.add_argument('--bucket-window', type=int, help='batches per length-sorting window (default 50): larger '
                                                         'pads less, mixes less')
    add_run_folder_args(parser)
    parser.set_defaults(func=run_pretrain)


def _settings_from_args(args):
    from ..pretraining.pretrain import PretrainSettings, pretraining_training_config
    new_run = None
    if not args.resume:
        if not args.data:
            raise UsageError('--data is required: a folder made by create-pretraining-data')
        new_run = {'data': args.data, 'training': pretraining_training_config().to_dict()}
    document = settings_document(args, _SETTING_PATHS, new_run)
    if not args.resume and document.get('model_overrides') and not document.get('from_scratch'):
        raise UsageError('--num-layers/--units/--hidden-size/--num-heads/--max-length change the model\'s shape, '
                         'which only works with --from-scratch')
    if not args.resume and document.get('vocab') and not document.get('from_scratch'):
        raise UsageError('--vocab goes with --from-scratch: a pretrained model keeps the vocabulary it was '
                         'trained with')
    if not Path(document['data']).is_dir():
        raise UsageError('--data {}: no such folder'.format(document['data']))
    return PretrainSettings.from_dict(document)


def run_pretrain(args):
    from ..pretraining.pretrain import pretrain
    settings = _settings_from_args(args)
    result = pretrain(settings, args.out, resume=args.resume, overwrite=args.overwrite,
                      log=lambda line: print(line, file=sys.stderr))
    print_run_result(result, 'step')
    return 0
