"""The ``kobert-gluon`` command: a thin layer over the package's functions.

Each module in this package owns one group of subcommands and exposes ``register(subparsers)``, which adds
its parsers and sets ``func`` on each.

What becomes one line on stderr and exit status 2: :class:`~kobert_gluon.core.errors.KobertGluonError` (bad input,
a damaged or missing file, a folder in use; the package raises it for every check it makes on purpose) and the
``OSError``s that name a user's path (missing, exists, permission denied, a folder where a file was expected,
a read-only or full disk). Everything else is a bug and keeps its traceback. ``--debug`` shows the traceback of
anything. Ctrl-C is exit status 130 with one line (training commands write a checkpoint first).
"""
import argparse
import errno
import logging
import os
import sys

from ..core import progress
from ..core.errors import KobertGluonError

COMMAND_MODULES = ('store', 'text', 'onnx', 'convert', 'finetune', 'pretraining_data', 'pretrain', 'folders',
                   'serve')
# OSErrors about a user's path: one line. Any other OSError (e.g. a broken socket) stays a traceback.
USER_OS_ERRORS = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)
USER_ERRNOS = (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG)


class UsageError(KobertGluonError):
    """A problem with what the user asked for on the command line; printed as one line."""


def _is_user_error(err: BaseException) -> bool:
    if isinstance(err, KobertGluonError) or isinstance(err, USER_OS_ERRORS):
        return True
    return isinstance(err, OSError) and err.errno in USER_ERRNOS


def _message_lines(err: BaseException):
    if isinstance(err, OSError) and err.filename is not None and err.strerror and not isinstance(
            err, KobertGluonError) and str(err).startswith('['):
        return ['{}: {}'.format(err.filename, err.strerror.lower())]  # "[Errno 13] ..." reads as a crash
    return str(err).strip().splitlines() or [type(err).__name__]


def _check_utf8_arguments(argv) -> None:
    """Python decodes undecodable bytes in arguments to lone surrogates; stop before they reach a file name."""
    for number, value in enumerate(argv, 1):
        try:
            value.encode('utf-8')
        except UnicodeEncodeError as err:
            raise UsageError('argument {} is not valid UTF-8 (byte 0x{:02x} at position {}); pass text and '
                             'paths in UTF-8, e.g. convert a cp949 file name with `convmv -f cp949 -t utf-8`'
                             .format(number, ord(value[err.start]) & 0xFF, err.start)) from None


def _setup_logging(verbose: bool, quiet: bool = False, debug: bool = False) -> None:
    """Library code logs; the command shows warnings on stderr (with --verbose also progress notes, with --quiet
    only errors, with --debug also the notes for debugging: which graph computes a model, say)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('kobert-gluon: %(message)s'))
    package = logging.getLogger('kobert_gluon')
    package.handlers[:] = [handler]
    package.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR if quiet
                     else logging.WARNING)
    package.propagate = False


def build_parser(only=None):
    """The full parser, or with ``only`` (a command name) one in which only that command is built in full: the
    others are listed with their help line (each module's ``COMMANDS``) without importing what they need, so
    `kobert-gluon --help` and a command that needs no mxnet start quickly."""
    import importlib
    from ..core.version import __version__
    parser = argparse.ArgumentParser(prog='kobert-gluon', description='KoBERT for MXNet Gluon: models, '
                                     'tokenizer, artifacts, training and export.')
    parser.add_argument('--version', action='version', version='kobert-gluon ' + __version__)
    parser.add_argument('--debug', action='store_true',
                        help='show the full traceback of any error, including the one-line ones, and debug notes '
                             '(which graph computes a model: oneDNN-fused, bf16, int8)')
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument('--verbose', action='store_true', help='also show notes, not only warnings')
    noise.add_argument('--quiet', action='store_true',
                       help='show only errors and the result: no warnings, no progress bars')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module('.' + name, __name__)
        if only is None or only in module.COMMANDS:
            module.register(subparsers)
        else:
            for command, text in module.COMMANDS.items():
                subparsers.add_parser(command, help=text, add_help=False)
    return parser


def _progress_wanted(args):
    """What the command line says about progress (:mod:`kobert_gluon.core.progress`): a command that can run long
    (``reports_progress``) shows it unless ``--no-progress`` or ``--quiet``; for the others only those two say
    anything (False), and None leaves each piece of work to its default (a download shows, a prediction does not)."""
    said = False if getattr(args, 'quiet', False) else getattr(args, 'progress', None)
    if getattr(args, 'reports_progress', False):
        return said is not False
    return False if said is False else None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    # --debug may also come after the command; it is a global option, so take it from anywhere
    debug = '--debug' in argv
    argv = [a for a in argv if a != '--debug']
    command = next((a for a in argv if not a.startswith('-')), 'kobert-gluon')
    try:
        _check_utf8_arguments(argv)
    except UsageError as err:
        print('kobert-gluon {}: error: {}'.format(command.encode('utf-8', 'replace').decode('utf-8'), err),
              file=sys.stderr)
        return 2
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    args.debug = debug
    _setup_logging(args.verbose, args.quiet, debug)
    if args.quiet and getattr(args, 'progress', None) is None and hasattr(args, 'progress'):
        args.progress = False  # --quiet: no progress either (--no-progress)
    try:
        from .run_options import check_device_args, check_max_seq_length_arg
        check_device_args(args)  # every command with --device, before any model is read
        check_max_seq_length_arg(args)  # every command with --max-seq-length, against its model's positions
        with progress.shown('kobert-gluon ' + args.command, enabled=_progress_wanted(args)):
            result = args.func(args)
    except BrokenPipeError:  # `kobert-gluon info | head`: the reader has all it wanted
        sys.stderr.close()  # nothing more can be said; also keeps Python's exit-time flush from complaining
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as err:
        if debug:
            raise
        detail = str(err).strip()
        print('kobert-gluon {}: interrupted{}'.format(args.command, '; ' + detail if detail else ''),
              file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 -- re-raised below unless it is a user's error
        if debug or not _is_user_error(err):
            raise
        message = _message_lines(err)
        print('kobert-gluon {}: error: {}'.format(args.command, message[0]), file=sys.stderr)
        for line in message[1:]:
            print('  ' + line.strip(), file=sys.stderr)
        return 2
    return result or 0


if __name__ == '__main__':
    sys.exit(main())
