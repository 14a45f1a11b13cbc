"""MXNet and GluonNLP reach the package through one module, ``core/mxnet_stack.py``, which prepares them first
(``core/environment.py``: the numpy check, the install advice, threads, mxnet without onnx, the gluonnlp fix)."""
import ast
import subprocess
import sys

from .conftest import REPO

PACKAGE = REPO / 'kobert_gluon'
# the one module that imports them, and the one that prepares them (it imports mxnet and gluonnlp inside prepare())
ALLOWED = {'core/mxnet_stack.py', 'core/environment.py'}


def direct_imports(tree):
    """(line, name) of every import of mxnet or gluonnlp in a module, at module level or inside a function:
    ``import mxnet``, ``import gluonnlp as nlp``, ``from mxnet.gluon import nn``, ``import mxnet.onnx``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or '']
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split('.')[0] in ('mxnet', 'gluonnlp'))
    return found


def test_only_the_stack_imports_mxnet_and_gluonnlp():
    """Any other module takes them from core.mxnet_stack (``from ..core.mxnet_stack import mx, nlp``), so none can
    meet them unprepared, whatever it imports first."""
    direct = []
    for path in sorted(PACKAGE.rglob('*.py')):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
        direct.extend('kobert_gluon/{}:{}: imports {} (take it from core.mxnet_stack)'.format(relative, line, name)
                      for line, name in direct_imports(tree))
    assert direct == [], '\n'.join(direct)


def test_the_check_sees_every_form_of_import():
    source = ('import mxnet as mx\n'
              'import os, gluonnlp\n'
              'from mxnet.gluon import nn\n'
              'def f():\n'
              '    import mxnet.onnx\n'
              '    from gluonnlp.model import BERTModel\n'
              'from .mxnet import x\n'  # a relative module of that name is not the library
              'import mxnet_like\n')
    assert direct_imports(ast.parse(source)) == [
        (1, 'mxnet'), (2, 'gluonnlp'), (3, 'mxnet.gluon'), (5, 'mxnet.onnx'), (6, 'gluonnlp.model')]


def test_importing_the_environment_changes_nothing_and_the_stack_prepares():
    code = ('import os, sys\n'
            'os.environ.pop("OMP_NUM_THREADS", None)\n'
            'import kobert_gluon.core.environment\n'
            'print("mxnet" in sys.modules, "gluonnlp" in sys.modules, "OMP_NUM_THREADS" in os.environ)\n'
            'from kobert_gluon.core.mxnet_stack import mx, nd, gluon, nn, autograd, amp, nlp\n'
            'import mxnet, gluonnlp\n'
            'patched = getattr(nlp.data.SentencepieceTokenizer.__call__, "_kobert_gluon_patch", False)\n'
            'print(mx is mxnet, nlp is gluonnlp, nd is mx.nd, gluon is mx.gluon, nn is mx.gluon.nn,\n'
            '      autograd is mx.autograd, amp is mx.contrib.amp, patched, "OMP_NUM_THREADS" in os.environ)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=str(REPO),
                         timeout=300).stdout.split('\n')
    assert out[0] == 'False False False'
    assert out[1] == ' '.join(['True'] * 9)
