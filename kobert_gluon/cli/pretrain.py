"""``pretrain``: masked-LM + next-sentence pretraining on shards from ``create-pretraining-data``; ``distill``: the
DistilBERT recipe on the same shards."""
from pathlib import Path

from . import UsageError
from .run_options import (SHAPE_OPTIONS, TRAINING_SETTING_PATHS, add_model_shape_args, add_run_folder_args,
                          add_training_args, options_named, settings_document, stderr_notes)
from . import parser_data

# Command-line option -> place in PretrainSettings.to_dict() (dots go into nested sections).
_SETTING_PATHS = dict({
    'data': 'data', 'model': 'model', 'from_scratch': 'from_scratch', 'vocab': 'vocab', 'dropout': 'dropout',
    'dev_data': 'dev_data', 'dev_chunks': 'dev_chunks', 'max_dev_instances': 'max_dev_instances',
    'batch_size': 'batch_size', 'eval_batch_size': 'eval_batch_size', 'bucket_window': 'bucket_window',
    'param_dtype': 'param_dtype', 'objective': 'objective', 'generator_size': 'generator_size',
    'rtd_weight': 'rtd_weight',
}, **TRAINING_SETTING_PATHS, **{name: 'model_overrides.' + name for name in SHAPE_OPTIONS})


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'pretrain': 'pretrain a BERT (masked LM + next sentence) or an ELECTRA (replaced-token detection) on '
                'create-pretraining-data shards',
    'distill': 'distill a teacher into a student with fewer layers (DistilBERT\'s recipe) on pretraining shards',
}

_DISTILL_SETTING_PATHS = dict({
    'data': 'data', 'teacher': 'teacher', 'student_layers': 'student_layers',
    'student_architecture': 'student_architecture', 'temperature': 'temperature', 'alpha_ce': 'alpha_ce',
    'alpha_mlm': 'alpha_mlm', 'alpha_cos': 'alpha_cos', 'dropout': 'dropout', 'dev_data': 'dev_data',
    'dev_chunks': 'dev_chunks', 'max_dev_instances': 'max_dev_instances', 'batch_size': 'batch_size',
    'eval_batch_size': 'eval_batch_size', 'bucket_window': 'bucket_window', 'param_dtype': 'param_dtype',
}, **TRAINING_SETTING_PATHS)


def register(subparsers):
    default = parser_data.PRETRAIN.__getitem__  # a KeyError names a value missing there
    parser = subparsers.add_parser(
        'pretrain', help=COMMANDS['pretrain'],
        description='Pretrain a BERTModel with MLM decoder and NSP classifier, from kobert-base\'s weights, a saved '
                    'model folder, or from scratch at any size; or (--objective electra) a new ELECTRA '
                    'discriminator with its generator. The best model (lowest dev loss) lands in OUT/best, ready '
                    'for `kobert-gluon finetune --model OUT/best`.')
    _add_data_args(parser, default)
    model = parser.add_argument_group('model')
    model.add_argument('--model', help='registered model (its pretrained weights) or saved model folder with MLM '
                                       'and NSP heads (continue pretraining); with --from-scratch, the architecture '
                                       '(default {})'.format(default('model')))
    model.add_argument('--from-scratch', action='store_true', default=None,
                       help='random initial weights; the size options and --vocab apply')
    model.add_argument('--vocab', metavar='PATH', help='vocabulary of a from-scratch model: a build-vocab folder '
                       '(SentencePiece or WordPiece), a WordPiece vocab.txt or a SentencePiece .model (BERT\'s '
                       'vocab_file; default: the model\'s own)')
    add_model_shape_args(model)
    model.add_argument('--dropout', type=float, help='dropout of the encoder (default: the model\'s)')
    model.add_argument('--param-dtype', choices=('float32', 'float16'),
                       help='parameter type of the saved model folder (default {})'.format(default('param_dtype')))
    objective = parser.add_argument_group('objective')
    objective.add_argument('--objective', choices=parser_data.OBJECTIVES,
                           help='bert: masked LM + next sentence; electra: a generator fills the masked positions '
                                'and the model learns to tell replaced tokens (needs --from-scratch and an electra '
                                'model) (default {})'.format(default('objective')))
    objective.add_argument('--generator-size', type=float, metavar='FRACTION',
                           help='electra: the generator\'s heads (so width and FFN) as a fraction of the '
                                'discriminator\'s (default {})'.format(default('generator_size')))
    objective.add_argument('--rtd-weight', type=float,
                           help='electra: loss = generator MLM + W * replaced-token detection (default {:g})'
                           .format(default('rtd_weight')))
    _add_training_and_batch_args(parser, default)
    parser.set_defaults(func=run_pretrain)
    _register_distill(subparsers)


def _register_distill(subparsers):
    default = parser_data.DISTILL.__getitem__  # a KeyError names a value missing there
    parser = subparsers.add_parser(
        'distill', help=COMMANDS['distill'],
        description='Train a student with fewer layers to imitate a teacher (a model with its masked-LM head) on '
                    'pretraining shards: loss = alpha_ce * T^2 * KL(teacher || student) on the masked-LM logits + '
                    'alpha_mlm * masked-LM cross-entropy + alpha_cos * (1 - cos) between last hidden states. The '
                    'student starts from the teacher\'s embeddings and every (teacher layers / student layers)-th '
                    'layer. OUT/best is a model folder for `kobert-gluon finetune --model OUT/best`.')
    _add_data_args(parser, default)
    model = parser.add_argument_group('teacher and student')
    model.add_argument('--teacher', help='model folder or registered model with its masked-LM head (a pretrain '
                                         'run\'s best/, kobert-base)')
    model.add_argument('--student-layers', type=int, metavar='N', help='layers of the student')
    model.add_argument('--student-architecture', choices=('bert', 'distilbert'),
                       help='the student\'s architecture (default: the teacher\'s)')
    model.add_argument('--temperature', type=float, help='softmax temperature T (default {:g})'
                       .format(default('temperature')))
    for term, what in (('ce', 'the KL term'), ('mlm', 'the masked-LM term'), ('cos', 'the cosine term')):
        model.add_argument('--alpha-' + term, type=float, help='weight of {} (default {:g})'
                           .format(what, default('alpha_' + term)))
    model.add_argument('--dropout', type=float, help='dropout of the student (default: the teacher\'s)')
    model.add_argument('--param-dtype', choices=('float32', 'float16'),
                       help='parameter type of the saved model folder (default {})'.format(default('param_dtype')))
    _add_training_and_batch_args(parser, default)
    parser.set_defaults(func=run_distill)


def _add_data_args(parser, default):
    """The data and dev options of a run on pretraining shards (pretrain, distill)."""
    data = parser.add_argument_group('data')
    data.add_argument('--data', help='pretraining data folder (create-pretraining-data --out)')
    data.add_argument('--dev-chunks', type=int, help='hold out the last N chunks of --data for dev: whole chunks, '
                      'so no document is both trained and evaluated on (default {}; 0 = no dev)'
                      .format(default('dev_chunks')))
    data.add_argument('--dev-data', help='a separate pretraining data folder to evaluate on (instead of '
                      '--dev-chunks)')
    data.add_argument('--max-dev-instances', type=int, help='evaluate on at most N dev instances (default {})'
                      .format(default('max_dev_instances')))


def _add_training_and_batch_args(parser, default):
    """The schedule, batching and run-folder options of a run on pretraining shards (pretrain, distill)."""
    train = add_training_args(parser, parser_data.PRETRAINING_TRAINING)
    train.add_argument('--batch-size', type=int, help='sequences per micro-batch (default {})'
                       .format(default('batch_size')))
    train.add_argument('--eval-batch-size', type=int, help='default {}'.format(default('eval_batch_size')))
    train.add_argument('--bucket-window', type=int, help='batches per length-sorting window (default {}): larger '
                                                         'pads less, mixes less'.format(default('bucket_window')))
    add_run_folder_args(parser)


def _settings_from_args(args):
    from ..pretraining.pretrain import PretrainSettings, pretraining_training_config
    new_run = None
    if not args.resume:
        if not args.data:
            raise UsageError('--data is required: a folder made by create-pretraining-data')
        new_run = {'data': args.data, 'training': pretraining_training_config().to_dict()}
    document = settings_document(args, _SETTING_PATHS, new_run)
    if not Path(document['data']).is_dir():
        raise UsageError('--data {}: no such folder'.format(document['data']))
    return PretrainSettings.from_dict(document)


def run_pretrain(args):
    from ..pretraining.pretrain import pretrain
    from ..training.distributed import from_environment
    with options_named(_SETTING_PATHS):
        settings = _settings_from_args(args)
        ranks = from_environment()  # one process, unless horovodrun started this one
        log = stderr_notes(args, ranks)
        result = pretrain(settings, args.out, resume=args.resume, overwrite=args.overwrite, log=log, ranks=ranks,
                          device=args.device)
    if ranks.is_writer:
        print(result.summary('step'))
    return 0


def run_distill(args):
    from ..pretraining.distill import DistillSettings, distill
    from ..pretraining.pretrain import pretraining_training_config
    from ..training.distributed import from_environment
    new_run = None
    if not args.resume:
        for option, value in (('--data', args.data), ('--teacher', args.teacher),
                              ('--student-layers', args.student_layers)):
            if value is None:
                raise UsageError('{} is required (unless --resume)'.format(option))
        new_run = {'data': args.data, 'teacher': args.teacher, 'student_layers': args.student_layers,
                   'training': pretraining_training_config().to_dict()}
    with options_named(_DISTILL_SETTING_PATHS):
        document = settings_document(args, _DISTILL_SETTING_PATHS, new_run)
        if not Path(document['data']).is_dir():
            raise UsageError('--data {}: no such folder'.format(document['data']))
        settings = DistillSettings.from_dict(document)
        ranks = from_environment()  # one process, unless horovodrun started this one
        log = stderr_notes(args, ranks)
        result = distill(settings, args.out, resume=args.resume, overwrite=args.overwrite, log=log, ranks=ranks,
                         device=args.device)
    if ranks.is_writer:
        print(result.summary('step'))
    return 0
