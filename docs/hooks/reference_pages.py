"""An mkdocs hook that writes the two reference pages at build time, so that neither can drift from the code.

``reference/api.md``: one mkdocstrings entry per public name. The names are read from ``kobert_gluon/__init__.py``
(``__all__``, and ``_EXPORTS`` for the module that defines each one) with :mod:`ast`, without importing the
package; mkdocstrings' Python handler (griffe) then reads every docstring and signature from the source, also
without importing it (``allow_inspection: false`` in mkdocs.yml), so this page builds where MXNet is not
installed. The public subpackages and module paths the guides use (``kobert_gluon.serving``, the original
KoBERT module paths, ...) are listed below in ``MORE_PUBLIC``.

``reference/cli.md``: every subcommand's ``--help``, from the parser ``kobert_gluon.cli.build_parser`` builds
(the one ``kobert-gluon`` runs), at a fixed width. This page imports the command-line package.
"""
import ast
import os
import re
from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[2]
PACKAGE_INIT = REPO / 'kobert_gluon' / '__init__.py'

# Sections of the API page, by the subpackage that defines a name (the order of ARCHITECTURE.md's layers, top down)
SECTIONS = (
    ('compat', 'The original KoBERT API'),
    ('convert', 'Checkpoints in and out'),
    ('deploy', 'Deployment runtimes'),
    ('tasks', 'Fine-tuning, evaluation and prediction'),
    ('pretraining', 'Pretraining data, pretraining and distillation'),
    ('export', 'ONNX export'),
    ('training', 'Training'),
    ('models', 'Models'),
    ('tokenizers', 'Tokenizers and vocabularies'),
    ('hub', 'Files, cache and downloads'),
    ('core', 'Plain text sources'),
)

# Public API outside ``kobert_gluon.__all__`` that the guides use: (section title, what it is, objects).
MORE_PUBLIC = (
    ('kobert_gluon.serving', 'A fine-tuned model over HTTP (the `[serve]` extra): `from kobert_gluon.serving '
     'import create_app`.',
     ('kobert_gluon.serving.app.create_app', 'kobert_gluon.serving.app.ServeSettings',
      'kobert_gluon.serving.server.serve')),
    ('Distillation and vocabularies', 'Public functions the guides call by their module path (`from '
     'kobert_gluon.pretraining.distill import distill, DistillSettings`).',
     ('kobert_gluon.pretraining.distill.distill', 'kobert_gluon.pretraining.distill.DistillSettings',
      'kobert_gluon.tokenizers.sentencepiece.load_vocab', 'kobert_gluon.deploy.predictor.load_predictor')),
    ('The original packages\' module paths', 'Code written for KoBERT, DistilKoBERT or kobert-transformers '
     'imports these with only the package name changed.',
     ('kobert_gluon.pytorch_kobert', 'kobert_gluon.mxnet_kobert', 'kobert_gluon.onnx_kobert', 'kobert_gluon.utils',
      'kobert_gluon.distilkobert', 'kobert_gluon.kobert_transformers')),
)


def public_names():
    """``(__all__, _EXPORTS)`` of kobert_gluon/__init__.py, read as literals."""
    tree = ast.parse(PACKAGE_INIT.read_text(encoding='utf-8'))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ('__all__', '_EXPORTS'):
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return found['__all__'], found['_EXPORTS']


def api_targets():
    """``{section title: [(public name, object path)]}`` for every name of ``kobert_gluon.__all__``; a name with no
    entry in ``_EXPORTS`` (other than ``__version__``) is an error, so the page covers the whole public API."""
    names, exports = public_names()
    by_section = {title: [] for _, title in SECTIONS}
    titles = dict(SECTIONS)
    for name in names:
        if name == '__version__':
            continue
        if name not in exports:
            raise ValueError('kobert_gluon.__all__ names {!r}, which _EXPORTS does not define'.format(name))
        module, attribute = exports[name]
        path = 'kobert_gluon.{}{}'.format(module, '.' + attribute if attribute else '')
        subpackage = module.split('.')[0]
        if subpackage not in titles:
            raise ValueError('no API section for kobert_gluon.{} (add it to SECTIONS)'.format(subpackage))
        by_section[titles[subpackage]].append((name, path))
    return {title: entries for title, entries in by_section.items() if entries}


def api_page():
    sections = api_targets()
    # a module exported whole (artifact_store) shows its members: its classes are not listed a second time
    _, exports = public_names()
    whole_modules = ['kobert_gluon.' + module for module, attribute in exports.values() if attribute is None]
    sections = {title: [(name, path) for name, path in entries
                        if not any(path.startswith(module + '.') for module in whole_modules)]
                for title, entries in sections.items()}
    documented = {path for entries in sections.values() for _, path in entries}
    lines = [
        '# Python API',
        '',
        'Every public name of `kobert_gluon` (its `__all__`), then the public subpackages and module paths the '
        'guides use. Generated at build time from the docstrings (`docs/hooks/reference_pages.py`), so it says '
        'what the installed code says. Each name is importable from `kobert_gluon` directly '
        '(`from kobert_gluon import get_model`); the heading gives the module that defines it.',
        '',
        '`kobert_gluon.__version__` is the package version (`kobert_gluon.core.version`).',
        '',
    ]
    for title, entries in sections.items():
        lines += ['## {}'.format(title), '']
        for _, path in entries:
            lines += ['::: {}'.format(path), '']
    for title, what, paths in MORE_PUBLIC:
        remaining = [p for p in paths if p not in documented]  # once the package exports one, it is listed above
        if not remaining:
            continue
        lines += ['## {}'.format(title), '', what, '']
        for path in remaining:
            lines += ['::: {}'.format(path), '']
    return '\n'.join(lines)


def cli_page():
    from kobert_gluon.cli import build_parser
    os.environ['COLUMNS'] = '100'  # argparse wraps help at the terminal's width: the same page on every machine
    parser = build_parser()
    commands = next(action for action in parser._actions if action.__class__.__name__ == '_SubParsersAction')
    lines = [
        '# Command line',
        '',
        'Every `kobert-gluon` command with its options, as `kobert-gluon COMMAND --help` prints them: generated at '
        'build time from the parser the command runs (`kobert_gluon.cli.build_parser`, by '
        '`docs/hooks/reference_pages.py`), so it cannot drift. The guides show what the options are for.',
        '',
        'Bad input gives one line, `kobert-gluon COMMAND: error: ...`, and exit status 2; anything else is a bug '
        'and shows its traceback (`--debug` shows the traceback of a one-line error too).',
        '',
        '## kobert-gluon',
        '',
        '```text',
        parser.format_help().rstrip(),
        '```',
        '',
    ]
    for name, subparser in commands.choices.items():
        lines += ['## {}'.format(name), '', '```text', subparser.format_help().rstrip(), '```', '']
    return '\n'.join(lines)


# The docstrings cross-reference with Sphinx's roles (:class:`~kobert_gluon.X`), which mkdocstrings renders as the
# role's name before the code; the reader wants the name alone (a leading ~ or . is Sphinx's shorthand).
SPHINX_ROLE = re.compile(r':(?:class|func|meth|mod|attr|data|exc|obj):<code>[~.]*([^<]*)</code>')

GENERATED = {'reference/api.md': api_page, 'reference/cli.md': cli_page}


def on_files(files, config):
    for uri, write in GENERATED.items():
        if files.get_file_from_path(uri) is not None:
            raise ValueError('docs/{} is written at build time by {}; remove the file'.format(uri, __file__))
        files.append(File.generated(config, uri, content=write()))
    return files


def on_page_content(html, page, config, files):
    if page.file.src_uri == 'reference/api.md':
        return SPHINX_ROLE.sub(r'<code>\1</code>', html)
    return html
