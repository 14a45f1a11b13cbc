"""kobert-gluon's one piece of computed metadata: its dependencies, because of how MXNet is published.

MXNet's builds are separate distributions that all install the same ``mxnet`` module: ``mxnet`` (CPU),
``mxnet-cu112``, ``mxnet-cu117``, ... (CUDA). pip cannot know that ``mxnet-cu117`` already provides what a
requirement on ``mxnet`` asks for, so a fixed requirement would install the CPU build over a CUDA build the user
installed first (both write ``mxnet/``), and their GPUs would be gone. So the requirement on ``mxnet`` is added
only when the environment being installed into has no MXNet build yet: on a fresh machine the README's commands
install the CPU build as they always did; next to a CUDA build nothing replaces it. ``KOBERT_GLUON_MXNET``
overrides the choice (a distribution such as ``mxnet-cu117``, or ``none``), e.g. to build a wheel for another
machine. Where no build is installed at all, ``import kobert_gluon`` names the command that installs one
(``kobert_gluon/core/environment.py``).

Everything else is in pyproject.toml; the reasons for each bound are in docs/reference/dependencies.md.
"""
import os
import re
import sys
import sysconfig

from setuptools import setup

MXNET = 'mxnet>=1.9.1,<2'
DEPENDENCIES = [
    'numpy>=1.21,<1.24',          # mxnet 1.9.1 uses np.bool, removed in numpy 1.24
    'gluonnlp>=0.10,<0.11',       # the BERTModel / BERTSPTokenizer KoBERT was built on
    'sentencepiece>=0.1.97',      # <= 0.1.96 does not build on current Python; kobert_gluon fixes gluonnlp's call
    'onnx>=1.16,<1.19',           # 1.19 removed onnx.mapping (MXNet's exporter); onnxruntime.quantization needs 1.16
    'protobuf>=4.25.1',
    'onnxruntime>=1.8',
    'ml_dtypes<0.6',              # onnxruntime.quantization imports it; 0.6 needs numpy 2
    'safetensors>=0.4',           # Hugging Face checkpoints in and out, read and written with numpy (no torch)
    'google-crc32c>=1.5',         # import-tf verifies every block and tensor of a TensorFlow checkpoint (crc32c)
    'tokenizers>=0.15',           # build-vocab --kind wordpiece: the WordPiece trainer
    'tqdm>=4.40',
    'matplotlib>=3.5,<3.10',      # the training plot; later releases need a newer numpy
    'contourpy<1.3.3',            # matplotlib's; 1.3.3 needs numpy >= 1.25
]
# an MXNet build's distribution name: mxnet, mxnet-cu117, mxnet-mkl, mxnet-native, mxnet_cu112 (as on disk)
MXNET_BUILD = re.compile(r'^mxnet([-_.].*)?$', re.IGNORECASE)


def target_site_packages():
    """The folders of the environment pip installs into. pip builds in an isolated environment that hides them
    from ``sys.path``, but runs the build with the target's interpreter, so its install scheme names them."""
    paths = sysconfig.get_paths()
    return [p for p in dict.fromkeys([paths['purelib'], paths['platlib']] + sys.path) if p and os.path.isdir(p)]


def installed_mxnet_builds():
    names = set()
    for folder in target_site_packages():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            if entry.endswith('.dist-info') and MXNET_BUILD.match(entry[:-len('.dist-info')].split('-')[0]):
                names.add(entry[:-len('.dist-info')].split('-')[0])
    return sorted(names)


def mxnet_requirement():
    chosen = os.environ.get('KOBERT_GLUON_MXNET', '').strip()
    if chosen:
        return [] if chosen.lower() == 'none' else [chosen if any(c in chosen for c in '<>=!~') else
                                                    chosen + MXNET[len('mxnet'):]]
    return [] if installed_mxnet_builds() else [MXNET]


setup(install_requires=DEPENDENCIES + mxnet_requirement())
