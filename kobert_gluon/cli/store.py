"""``info`` and ``fetch``: what the package knows and holds, and getting verified files into the cache."""
from pathlib import Path

from ..hub import artifact_store
from ..hub.catalogue import checkpoint_folder, get_model_spec, is_checkpoint_only, is_registered, list_models
from . import UsageError
from .run_options import add_progress_arg


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'info': 'models, cache root and the state of every known file',
    'fetch': 'download or import files into the cache, verifying each; a catalogued hub model converted once',
}


def register(subparsers):
    info = subparsers.add_parser('info', help=COMMANDS['info'])
    info.add_argument('--cachedir', help='cache folder (default: $KOBERT_GLUON_HOME or ~/.cache/kobert_gluon)')
    info.set_defaults(func=run_info)

    fetch = subparsers.add_parser('fetch', help=COMMANDS['fetch'])
    fetch.add_argument('names', nargs='*', help='file names from `info` (default: every file), or names of catalogued '
                                                'models published as transformers checkpoints (koelectra-small-v3): '
                                                'fetched, verified and converted into the cache for offline use')
    fetch.add_argument('--from', dest='source', metavar='DIR',
                       help='take the files from this folder (or URL prefix) instead of the mirror/official URLs')
    fetch.add_argument('--cachedir', help='cache folder')
    add_progress_arg(fetch)
    fetch.set_defaults(func=run_fetch)


def run_info(args):
    import os
    root = artifact_store.cache_root(args.cachedir)
    print('models:')
    for name in list_models():
        spec = get_model_spec(name)
        print('  {:<20} {}'.format(name, spec.description))
    print('cache root: {}'.format(root))
    mirror = os.environ.get(artifact_store.ENV_MIRROR)
    print('mirror: {}'.format(mirror or '(none; set {})'.format(artifact_store.ENV_MIRROR)))
    print('offline: {}'.format('yes' if artifact_store.is_offline() else 'no'))
    print('files:')
    for state in artifact_store.artifact_status(args.cachedir):
        detail = ' ({})'.format(state.detail) if state.detail else ''
        print('  {:<9} {:<46} {}{}'.format(state.state, state.artifact.name, state.artifact.checksum_text, detail))
    return 0


def _hub_model(name) -> bool:
    return is_registered(name) and is_checkpoint_only(get_model_spec(name))


def run_fetch(args):
    names = args.names or list(artifact_store.MANIFEST)
    unknown = [n for n in names if n not in artifact_store.MANIFEST and not _hub_model(n)]
    if unknown:
        raise UsageError('unknown file(s) {}; known: {}; or a catalogued hub model: {}'.format(
            ', '.join(unknown), ', '.join(artifact_store.MANIFEST),
            ', '.join(n for n in list_models() if _hub_model(n))))
    models = [n for n in names if n not in artifact_store.MANIFEST]
    names = [n for n in names if n in artifact_store.MANIFEST]
    for name in models:  # the same conversion get_model(NAME) and --model NAME make on first use
        print('converted {}'.format(checkpoint_folder(get_model_spec(name), cachedir=args.cachedir)))
    if args.source and '://' not in args.source and not Path(args.source).is_dir():
        raise UsageError('--from {}: no such folder'.format(args.source))
    failed = []
    for name in names:
        try:
            path = artifact_store.fetch(name, cachedir=args.cachedir, mirror=args.source)
            print('verified  {}'.format(path))
        except artifact_store.ArtifactNotFoundError as err:
            failed.append((name, err))
            print('missing   {}'.format(name))
    if failed:
        if len(failed) == 1:
            raise failed[0][1]
        raise UsageError('{} of {} files could not be fetched: {}; run `kobert-gluon fetch NAME` for details'
                         .format(len(failed), len(names), ', '.join(n for n, _ in failed)))
    return 0
