"""The ``kobert-gluon`` command: a thin layer over the package's functions.

Each module in this package owns one group of subcommands and exposes ``register(subparsers)``, which adds
its parsers and sets ``func`` on each. Errors a user can fix (bad input, a missing file) become one line on
stderr and exit status 2; nothing else is caught.
"""
import argparse
import sys

from ..artifact_store import ArtifactError

COMMAND_MODULES = ('store', 'text', 'onnx', 'finetune', 'pretraining_data', 'pretrain')


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line."""


def build_parser():
    import importlib
    from .. import __version__
    parser = argparse.ArgumentParser(prog='kobert-gluon', description='KoBERT for MXNet Gluon: models, '
                                     'tokenizer, artifacts, training and export.')
    parser.add_argument('--version', action='version', version='kobert-gluon ' + __version__)
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module('.' + name, __name__).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (UsageError, ArtifactError, FileNotFoundError, FileExistsError, ValueError) as err:
        message = str(err).strip().splitlines() or [type(err).__name__]
        print('kobert-gluon {}: error: {}'.format(args.command, message[0]), file=sys.stderr)
        for line in message[1:]:
            print('  ' + line.strip(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('kobert-gluon {}: interrupted'.format(args.command), file=sys.stderr)
        return 130
    return result or 0


if __name__ == '__main__':
    sys.exit(main())
