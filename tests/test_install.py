"""The MXNet install rule (setup.py): a fresh environment gets the CPU build, and a CUDA build installed first
survives installing kobert-gluon, since the package then asks for no ``mxnet`` at all. Checked with pip itself
in a brand-new virtual environment: what pip resolves for this source tree (``--dry-run --report``), before and
after a stand-in CUDA build (a wheel named ``mxnet-cu117`` that installs an ``mxnet`` module, as the real one
does) is installed. And without any build, importing the package names the command to run, in one line.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def stand_in_cuda_wheel(folder: Path) -> Path:
    files = {
        'mxnet/__init__.py': b'__version__ = "1.9.1"\nBUILD = "cuda stand-in"\n',
        'mxnet_cu117-1.9.1.dist-info/METADATA': b'Metadata-Version: 2.1\nName: mxnet-cu117\nVersion: 1.9.1\n',
        'mxnet_cu117-1.9.1.dist-info/WHEEL': b'Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n'
                                             b'Tag: py3-none-any\n',
    }

    def digest(data):
        return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record = ''.join('{},{},{}\n'.format(name, digest(data), len(data)) for name, data in files.items())
    path = folder / 'mxnet_cu117-1.9.1-py3-none-any.whl'
    with zipfile.ZipFile(path, 'w') as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr('mxnet_cu117-1.9.1.dist-info/RECORD', record + 'mxnet_cu117-1.9.1.dist-info/RECORD,,\n')
    return path


def pip(python: Path, *args, env=None):
    return subprocess.run([str(python), '-m', 'pip', '--disable-pip-version-check'] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=600, env=env, cwd=str(python.parent))


def requirements(python: Path, report: Path, env=None):
    """What kobert-gluon's metadata asks for when pip builds it in this environment (an isolated build, as
    `pip install .` does)."""
    result = pip(python, 'install', '--dry-run', '--no-deps', '--report', report, REPO, env=env)
    if result.returncode != 0:
        if 'setuptools' in result.stderr and ('No matching distribution' in result.stderr
                                              or 'Could not find a version' in result.stderr):
            pytest.skip('pip cannot get setuptools for the isolated build here: ' + result.stderr.strip()[-200:])
        raise AssertionError(result.stderr)
    return json.loads(report.read_text())['install'][0]['metadata']['requires_dist']


def test_a_cuda_build_installed_first_is_not_replaced(tmp_path):
    venv.EnvBuilder(with_pip=True).create(tmp_path / 'env')
    python = tmp_path / 'env' / 'bin' / 'python'
    fresh = requirements(python, tmp_path / 'fresh.json')
    assert 'mxnet<2,>=1.9.1' in fresh and any(r.startswith('numpy') for r in fresh)

    installed = pip(python, 'install', '--no-index', '--no-deps', stand_in_cuda_wheel(tmp_path))
    assert installed.returncode == 0, installed.stderr
    beside_cuda = requirements(python, tmp_path / 'beside.json')
    assert not [r for r in beside_cuda if r.split('<')[0].split('>')[0].split('=')[0].strip() == 'mxnet']
    assert sorted(set(fresh) - set(beside_cuda)) == ['mxnet<2,>=1.9.1']  # nothing else changes

    # building a wheel for another machine: the build is named, whatever this environment holds
    named = requirements(python, tmp_path / 'named.json', env=dict(os.environ, KOBERT_GLUON_MXNET='mxnet-cu112'))
    assert 'mxnet-cu112<2,>=1.9.1' in named and 'mxnet<2,>=1.9.1' not in named


def test_without_any_mxnet_build_the_error_names_the_install_command():
    hide = ("import sys; sys.modules['mxnet'] = None\n"  # what Python does for a module that is not installed
            "from kobert_gluon.cli import main\n"
            "sys.exit(main(['encode', '--random-weights', '--model', 'kobert-mini', 'text']))\n")
    result = subprocess.run([sys.executable, '-c', hide], capture_output=True, text=True, cwd=str(REPO),
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'no build of it is installed: pip install mxnet==1.9.1' in lines[0]
    assert 'mxnet-cu117==1.9.1' in lines[0]


def fake_cuda_build(folder: Path, message: str) -> Path:
    """What ``pip install mxnet-cu117==1.9.1`` leaves on a machine without CUDA 11.7 / cuDNN 8: an ``mxnet``
    package whose import fails in the loader, beside the ``mxnet-cu117`` distribution's metadata."""
    (folder / 'mxnet').mkdir(parents=True)
    (folder / 'mxnet' / '__init__.py').write_text('raise OSError({!r})\n'.format(message), encoding='utf-8')
    (folder / 'mxnet_cu117-1.9.1.dist-info').mkdir()
    (folder / 'mxnet_cu117-1.9.1.dist-info' / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: mxnet-cu117\nVersion: 1.9.1\n', encoding='utf-8')
    return folder


def run_with(folder: Path, *args):
    return subprocess.run([sys.executable] + [str(a) for a in args], capture_output=True, text=True, cwd=str(REPO),
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), str(REPO)])), timeout=300)


CUDNN_MISSING = 'libcudnn.so.8: cannot open shared object file: No such file or directory'
CUDA_ADVICE = ('MXNet cannot load libcudnn.so.8: the installed build mxnet-cu117 needs CUDA 11.7 and cuDNN 8, which '
               'this machine lacks; either install CUDA 11.7 and cuDNN 8 (with their libraries on LD_LIBRARY_PATH), '
               'or go back to the CPU build: pip uninstall -y mxnet-cu117 && pip install mxnet==1.9.1')


@pytest.mark.parametrize('command', [
    ['encode', '--random-weights', '--model', 'kobert-mini', '좋아요'],
    ['predict', '--model', 'kobert-mini-nsmc', '좋아요'],
    ['export-onnx', '--model', 'kobert-mini', '--out', 'OUT/m.onnx'],
    ['finetune', '--task', 'nsmc', '--train', 'OUT/train.tsv', '--out', 'OUT/run'],
])
def test_a_cuda_build_without_its_libraries_is_one_line_with_the_ways_out(tmp_path, command):
    fake = fake_cuda_build(tmp_path / 'site', CUDNN_MISSING)
    (tmp_path / 'train.tsv').write_text('id\tdocument\tlabel\n1\t좋아요\t1\n', encoding='utf-8')
    result = run_with(fake, '-m', 'kobert_gluon', *[a.replace('OUT', str(tmp_path)) for a in command])
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ['kobert-gluon {}: error: {}'.format(command[0], CUDA_ADVICE)]


def test_help_and_the_python_api_with_a_cuda_build_without_its_libraries(tmp_path):
    fake = fake_cuda_build(tmp_path / 'site', CUDNN_MISSING)
    help_text = run_with(fake, '-m', 'kobert_gluon', 'predict', '--help')  # builds its parser without MXNet
    assert help_text.returncode == 0 and help_text.stdout.startswith('usage: kobert-gluon predict'), help_text.stderr
    api = run_with(fake, '-c', 'import kobert_gluon\n'
                               'try:\n'
                               '    kobert_gluon.get_model("kobert-mini")\n'
                               'except ImportError as err:\n'
                               '    print(type(err).__name__, err)\n')
    assert api.stdout.strip() == 'MissingDependencyError ' + CUDA_ADVICE, api.stderr


def test_a_cpu_build_that_cannot_load_its_library_says_to_reinstall_it(tmp_path):
    fake = fake_cuda_build(tmp_path / 'site', 'libquadmath.so.0: cannot open shared object file: No such file')
    for dist_info in (tmp_path / 'site').glob('*.dist-info'):
        (dist_info / 'METADATA').write_text('Metadata-Version: 2.1\nName: mxnet\nVersion: 1.9.1\n', encoding='utf-8')
    result = run_with(fake, '-m', 'kobert_gluon', 'encode', '--random-weights', '--model', 'kobert-mini', 'x')
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        'kobert-gluon encode: error: MXNet cannot load libquadmath.so.0 (libquadmath.so.0: cannot open shared object '
        'file: No such file); reinstall its CPU build: pip install --force-reinstall mxnet==1.9.1']
