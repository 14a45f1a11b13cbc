"""Compatibility with today's Python stack: the only module that knows about version breakage.

* ``mxnet`` 1.9.1 uses ``np.bool`` and cannot be imported with numpy >= 1.24: we check first and say so
  clearly instead of letting users meet an ``AttributeError`` deep inside mxnet.
* MXNet comes in builds that are separate distributions of one ``mxnet`` module (``mxnet`` for the CPU,
  ``mxnet-cu112``, ``mxnet-cu117``, ... for CUDA), so the package cannot require one without replacing the
  others (``setup.py`` requires ``mxnet`` only where no build is installed yet). Where none is installed at all,
  importing this module says which command installs one, instead of a ``ModuleNotFoundError``. A CUDA build
  whose CUDA or cuDNN libraries this machine lacks (``mxnet-cu117`` without CUDA 11.7 / cuDNN 8: ``OSError:
  libcudnn.so.8: cannot open shared object file``) is one line naming the library and the two ways out.
* ``mxnet`` and ``gluonnlp`` emit DeprecationWarnings at import time (numpy financial functions,
  distutils); they are silenced for the duration of those imports only.
* ``gluonnlp.data.SentencepieceTokenizer`` (and therefore ``BERTSPTokenizer``) calls
  ``SampleEncodeAsPieces(text, 0, alpha)``. sentencepiece <= 0.1.96 treated ``nbest_size`` 0 or 1 as "no
  sampling" (the deterministic Viterbi segmentation, i.e. ``EncodeAsPieces``); sentencepiece >= 0.1.97 raises
  ``ValueError`` instead. :func:`patch_gluonnlp_sentencepiece` restores the old meaning for nbest 0/1 and
  leaves real sampling (nbest > 1 or -1) to sentencepiece. Nothing else in gluonnlp is changed.

* MXNet's OpenMP pool, left to itself, starts as many threads as the machine has logical CPUs, whatever this
  process may use; measured on a 2-core machine, ``predict`` ran 1.5x slower than with ``OMP_NUM_THREADS=2``.
  :func:`default_thread_settings` sets ``OMP_NUM_THREADS`` to the CPUs this process may run on before mxnet
  loads, unless the user set it (their setting always wins; so does an mxnet imported before this package).

Importing this module changes nothing: :func:`prepare` applies all of it, and :mod:`.mxnet_stack` is the one
module that calls it, before it imports mxnet and gluonnlp for the rest of the package (``from ..core.mxnet_stack
import mx, nlp``); ``import kobert_gluon`` alone loads none of them.
"""
import importlib
import os
import re
import sys
import warnings

from .machine import available_cpus

MIN_BAD_NUMPY = (1, 24)


def version_tuple(text):
    """``'1.23.5'`` -> ``(1, 23)``: the major and minor release, ignoring suffixes such as ``rc1``."""
    parts = []
    for piece in text.split('.')[:2]:
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_numpy():
    import numpy
    if version_tuple(numpy.__version__) >= MIN_BAD_NUMPY:
        raise ImportError(
            'kobert_gluon needs numpy < 1.24 because mxnet 1.9.1 uses np.bool, but numpy {} is installed. '
            'Run: pip install "numpy==1.23.5"'.format(numpy.__version__))


MXNET_INSTALL_ADVICE = ('pip install mxnet==1.9.1 for the CPU, or a CUDA build of the same release for GPUs, '
                        'e.g. pip install mxnet-cu117==1.9.1 (docs/installation.md, "GPUs: a CUDA build of MXNet")')


# A shared library named in a loader's message: libcudnn.so.8, libcudart.so.11.0, mxnet.dll, libmxnet.dylib
_LIBRARY = re.compile(r'([\w.+-]+\.(?:so(?:\.[\d.]+)?|dll|dylib))\b')
# The libraries that only a CUDA build loads: the CUDA runtime and its maths libraries, cuDNN, NCCL, NVRTC, the
# driver (libcuda)
_CUDA_LIBRARY = re.compile(r'^(lib)?(cu[a-z]*|nccl|nvrtc|nvToolsExt)', re.IGNORECASE)


def _mxnet_builds():
    """The names of the MXNet distributions installed where ``import mxnet`` finds its package (``mxnet``,
    ``mxnet-cu117``, ...): several builds share the one ``mxnet`` folder, so the distributions beside it say which
    build that folder is."""
    import importlib.metadata
    import importlib.util
    try:
        spec = importlib.util.find_spec('mxnet')
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.origin:
        return []
    site = os.path.dirname(os.path.dirname(spec.origin))
    names = {dist.metadata['Name'] for dist in importlib.metadata.distributions(path=[site])}
    return sorted(n for n in names if n and re.match(r'^mxnet([-_].*)?$', n, re.IGNORECASE))


def cuda_of_build(build: str):
    """``'mxnet-cu117'`` -> ``'11.7'``, ``'mxnet-cu102'`` -> ``'10.2'``; None for a build that names no CUDA."""
    match = re.search(r'cu(\d+)(\d)$', build or '', re.IGNORECASE)
    return '{}.{}'.format(int(match.group(1)), match.group(2)) if match else None


def mxnet_load_error(err: OSError, builds) -> str:
    """One line for an ``import mxnet`` that failed to load a shared library: which library, what the installed
    build needs, and the ways out (install what it needs, or go back to the CPU build)."""
    text = ' '.join(str(err).split())
    found = _LIBRARY.search(text)
    library = os.path.basename(found.group(1)) if found else None
    cuda_builds = [b for b in builds if cuda_of_build(b)]
    if library and _CUDA_LIBRARY.match(library) or cuda_builds:
        build = cuda_builds[0] if cuda_builds else None
        cuda = 'CUDA {}'.format(cuda_of_build(build)) if build else 'the CUDA release it was built for'
        cudnn = re.match(r'libcudnn\.so\.(\d+)', library or '')
        if cudnn:
            needs = '{} and cuDNN {}'.format(cuda, cudnn.group(1))
        elif re.match(r'libcuda\.so', library or ''):  # the driver's own library: no NVIDIA driver here
            needs = 'the NVIDIA driver and ' + cuda
        else:
            needs = cuda
        if build is None:
            uninstall = 'uninstall the CUDA build (pip list | grep mxnet), then pip install mxnet==1.9.1'
        else:
            uninstall = 'pip uninstall -y {} && pip install mxnet==1.9.1'.format(build)
        return ('MXNet cannot load {}: the installed {} needs {}, which this machine lacks; either install {} '
                '(with their libraries on LD_LIBRARY_PATH), or go back to the CPU build: {}'.format(
                    library or 'a library ({})'.format(text), 'build ' + build if build else 'CUDA build of MXNet',
                    needs, needs, uninstall))
    return ('MXNet cannot load {} ({}); reinstall its CPU build: pip install --force-reinstall mxnet==1.9.1'
            .format(library or 'its library', text))


def import_quietly(module_name):
    """Import a module with its import-time DeprecationWarnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', PendingDeprecationWarning)
        return importlib.import_module(module_name)


def _sentencepiece_call(self, sample):
    if self._nbest in (0, 1):
        return self._processor.EncodeAsPieces(sample)
    return self._processor.SampleEncodeAsPieces(sample, self._nbest, self._alpha)


def patch_gluonnlp_sentencepiece():
    """Make gluonnlp's SentencepieceTokenizer work with sentencepiece >= 0.1.97 (idempotent)."""
    transforms = importlib.import_module('gluonnlp.data.transforms')
    tokenizer_cls = transforms.SentencepieceTokenizer
    if getattr(tokenizer_cls.__call__, '_kobert_gluon_patch', False):
        return
    _sentencepiece_call._kobert_gluon_patch = True
    _sentencepiece_call.__doc__ = tokenizer_cls.__call__.__doc__
    tokenizer_cls.__call__ = _sentencepiece_call


# MXNet 1.9.1's ONNX operator translators run ``try: import onnx`` when mxnet itself is imported, so with onnx
# installed every ``import mxnet`` pays for onnx (and its protobuf) although only export uses it. Their
# ``@MXNetGraph.register`` decorators also register a converter only if onnx imports at that moment.
_MXNET_ONNX_GRAPH = 'mxnet.onnx.mx2onnx._export_onnx'
_MXNET_ONNX_TRANSLATORS = ('mxnet.onnx.mx2onnx._op_translations._op_translations_opset12',
                           'mxnet.onnx.mx2onnx._op_translations._op_translations_opset13')


def import_mxnet_without_onnx():
    """Import mxnet with onnx hidden (the translators then hold ``onnx = None``); see :func:`lend_onnx_to_mxnet`.

    A no-op when mxnet is already imported (the user imported it first: it has onnx if onnx is installed).
    """
    if sys.modules.get('mxnet') is not None:
        return
    hide = 'onnx' not in sys.modules
    if hide:
        sys.modules['onnx'] = None  # makes `import onnx` raise ImportError, which the translators expect
    try:
        import_quietly('mxnet')
    except ModuleNotFoundError as err:
        if err.name != 'mxnet':
            raise
        from .errors import MissingDependencyError
        raise MissingDependencyError('kobert-gluon needs MXNet 1.9, and no build of it is installed: ' +
                                     MXNET_INSTALL_ADVICE) from None
    except OSError as err:  # the loader's message alone names a file, not what to do about it
        from .errors import MissingDependencyError
        raise MissingDependencyError(mxnet_load_error(err, _mxnet_builds())) from err
    finally:
        if hide and 'onnx' in sys.modules and sys.modules['onnx'] is None:
            del sys.modules['onnx']


def lend_onnx_to_mxnet() -> None:
    """Run MXNet's ONNX translator modules again now that onnx imports, so that they hold the module and register
    their converters (export calls this once it has checked the onnx version). A no-op when mxnet was imported
    with onnx visible (its converters are registered then)."""
    graph = sys.modules.get(_MXNET_ONNX_GRAPH)
    if graph is None or graph.MXNetGraph.registry_:
        return
    for name in _MXNET_ONNX_TRANSLATORS:
        module = sys.modules.get(name)
        if module is not None:
            importlib.reload(module)


def default_thread_settings() -> None:
    """``OMP_NUM_THREADS`` = the CPUs available, unless already set or mxnet is already loaded (too late)."""
    if 'mxnet' not in sys.modules and not os.environ.get('OMP_NUM_THREADS'):
        os.environ['OMP_NUM_THREADS'] = str(available_cpus())


def prepare():
    """Run every check and fix, then import mxnet and gluonnlp (idempotent). :mod:`.mxnet_stack` calls it when it
    is first imported, and every module of the package that uses mxnet or gluonnlp takes them from there
    (``tests/test_mxnet_stack.py`` checks)."""
    check_numpy()
    default_thread_settings()
    import_mxnet_without_onnx()
    import_quietly('gluonnlp')
    patch_gluonnlp_sentencepiece()
