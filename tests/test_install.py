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
