"""``verify``: check that a folder the package wrote (model, vocabulary, pretraining data, checkpoint) is intact,
or record the current state of one whose files were changed on purpose. ``restore-run``: undo a run's unfinished
``--overwrite`` (the previous run comes back)."""
from pathlib import Path

from . import UsageError


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'verify': 'check the files of model / vocabulary / pretraining-data folders against their SHA-256s',
    'restore-run': 'bring back the run that an interrupted finetune/pretrain/distill --overwrite replaced',
}


def register(subparsers):
    verify = subparsers.add_parser(
        'verify', help=COMMANDS['verify'],
        description='Every folder kobert-gluon writes once (a model, a vocabulary, pretraining data, a training '
                    'checkpoint) records the SHA-256 of its files in kobert-gluon-folder.json, and loading it '
                    'refuses a changed file. This command reports every changed, missing or added file. With '
                    '--record it records the files as they are now: for a file you changed on purpose, or a '
                    'folder written by kobert-gluon 0.1 (which has no checksums). Exit status 1 if any folder '
                    'has problems.')
    verify.add_argument('folders', nargs='+', metavar='FOLDER')
    verify.add_argument('--record', action='store_true',
                        help='record the SHA-256s of the files as they are now (accept the changes)')
    verify.set_defaults(func=run_verify)

    restore = subparsers.add_parser(
        'restore-run', help=COMMANDS['restore-run'],
        description='A run started with --overwrite keeps the run it replaces in RUN/.replaced-run until it has a '
                    'best model of its own. If it stopped before that (Ctrl-C, a kill, a crash), this removes what '
                    'the new run wrote and puts the previous run back. To keep the new run instead, continue it '
                    'with --resume.')
    restore.add_argument('folder', metavar='RUN')
    restore.set_defaults(func=run_restore_run)


def run_restore_run(args):
    from ..training.run_folder import restore_replaced_run
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError('{}: no such folder'.format(folder))
    restore_replaced_run(folder)
    print('{}: the previous run is back'.format(folder))
    return 0


def run_verify(args):
    from ..core.owned_folders import WRITE_ONCE_KINDS, folder_kind, folder_problems, read_marker, record_checksums
    # the modules that own the write-once folder kinds register them (their legacy rules) when imported
    from ..models import folder as model_folder  # noqa: F401
    from ..pretraining import data as pretraining_data  # noqa: F401
    from ..tokenizers import vocab_builder  # noqa: F401
    from ..training import trainer  # noqa: F401
    from ..core.owned_folders import check_not_interrupted
    failed = False
    for name in args.folders:
        folder = Path(name)
        if not folder.is_dir():
            raise UsageError('{}: no such folder'.format(folder))
        check_not_interrupted(folder)
        kind = folder_kind(folder)
        if kind is None:
            raise UsageError('{} is not a folder written by kobert-gluon (no kobert-gluon-folder.json, and not a '
                             'model, vocabulary or pretraining data folder of an earlier release)'.format(folder))
        marker = read_marker(folder)
        checksummed = kind in WRITE_ONCE_KINDS or 'sha256' in (marker or {})  # e.g. an export-hf folder
        if not checksummed:
            inside = [folder / sub for sub in ('best', 'checkpoint') if (folder / sub).is_dir()]
            raise UsageError('{} is a {} folder, whose files change as it runs; {}'.format(
                folder, kind, 'verify the folders inside it: {}'.format(' '.join(str(p) for p in inside))
                if inside else 'it holds no written model yet (no best/ or checkpoint/)'))
        if args.record:
            files = record_checksums(folder, kind)
            print('{}: recorded the SHA-256 of {} files ({} folder)'.format(folder, len(files), kind))
            continue
        if marker is None or 'sha256' not in marker:
            print('{}: {} folder without checksums (written by kobert-gluon 0.1); add them with --record'
                  .format(folder, kind))
            continue
        problems = folder_problems(folder)
        if problems:
            failed = True
            print('{}: {} folder, {} problem(s):'.format(folder, kind, len(problems)))
            for problem in problems:
                print('  ' + problem)
        else:
            print('{}: {} folder, all {} files intact'.format(folder, kind, len(marker['sha256'])))
    return 1 if failed else 0
