"""``pretrain``: masked-LM + next-sentence pretraining on shards from ``create-pretraining-data``; ``distill``: the
DistilBERT recipe on the same shards."""
from pathlib import Path

from . import UsageError
from .run_options import (add_model_shape_args, add_run_folder_args, add_settings_options, add_training_args,
                          options_named, settings_document, stderr_notes)
from ..pretraining.settings import PRETRAINING_SCHEDULE, DistillSettings, PretrainSettings, pretraining_training_config

# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'pretrain': 'pretrain a BERT (masked LM + next sentence) or an ELECTRA (replaced-token detection) on '
                'create-pretraining-data shards',
    'distill': 'distill a teacher into a student with fewer layers (DistilBERT\'s recipe) on pretraining shards',
}

def register(subparsers):
    parser = subparsers.add_parser(
        'pretrain', help=COMMANDS['pretrain'],
        description='Pretrain a BERTModel with MLM decoder and NSP classifier, from kobert-base\'s weights, a saved '
                    'model folder, or from scratch at any size; or (--objective electra) a new ELECTRA '
                    'discriminator with its generator. The best model (lowest dev loss) lands in OUT/best, ready '
                    'for `kobert-gluon finetune --model OUT/best`.')
    # PretrainSettings' and TrainingConfig's own declarations: name, type, default, help
    groups = {}
    paths = add_settings_options(parser, PretrainSettings, groups=groups)
    paths.update(add_model_shape_args(groups['model']))
    paths.update(add_training_args(parser, PRETRAINING_SCHEDULE, groups))
    add_run_folder_args(parser)
    parser.set_defaults(func=run_pretrain, setting_paths=paths)
    _register_distill(subparsers)


def _register_distill(subparsers):
    parser = subparsers.add_parser(
        'distill', help=COMMANDS['distill'],
        description='Train a student with fewer layers to imitate a teacher (a model with its masked-LM head) on '
                    'pretraining shards: loss = alpha_ce * T^2 * KL(teacher || student) on the masked-LM logits + '
                    'alpha_mlm * masked-LM cross-entropy + alpha_cos * (1 - cos) between last hidden states. The '
                    'student starts from the teacher\'s embeddings and every (teacher layers / student layers)-th '
                    'layer. OUT/best is a model folder for `kobert-gluon finetune --model OUT/best`.')
    groups = {}
    paths = add_settings_options(parser, DistillSettings, groups=groups)
    paths.update(add_training_args(parser, PRETRAINING_SCHEDULE, groups))
    add_run_folder_args(parser)
    parser.set_defaults(func=run_distill, setting_paths=paths)


def _run_on_shards(args, settings_class, new_run, train) -> int:
    """What pretrain and distill do once parsed: the settings the options describe (over ``new_run``, or the saved
    run's with --resume), their --data folder checked, ``train`` on this process's place in a Horovod job (one
    process, unless horovodrun started this one), the result's line."""
    from ..training.distributed import from_environment
    with options_named(args.setting_paths):
        document = settings_document(args, args.setting_paths, new_run)
        if not Path(document['data']).is_dir():
            raise UsageError('--data {}: no such folder'.format(document['data']))
        settings = settings_class.from_dict(document)
        ranks = from_environment()
        result = train(settings, args.out, resume=args.resume, overwrite=args.overwrite, log=stderr_notes(args, ranks),
                       ranks=ranks, device=args.device)
    if ranks.is_writer:
        print(result.summary('step'))
    return 0


def run_pretrain(args):
    from ..pretraining.pretrain import pretrain
    new_run = None
    if not args.resume:
        if not args.data:
            raise UsageError('--data is required: a folder made by create-pretraining-data')
        new_run = {'data': args.data, 'training': pretraining_training_config().to_dict()}
    return _run_on_shards(args, PretrainSettings, new_run, pretrain)


def run_distill(args):
    from ..pretraining.distill import distill
    new_run = None
    if not args.resume:
        for option, value in (('--data', args.data), ('--teacher', args.teacher),
                              ('--student-layers', args.student_layers)):
            if value is None:
                raise UsageError('{} is required (unless --resume)'.format(option))
        new_run = {'data': args.data, 'teacher': args.teacher, 'student_layers': args.student_layers,
                   'training': pretraining_training_config().to_dict()}
    return _run_on_shards(args, DistillSettings, new_run, distill)
