"""Where a command computes: ``--device cpu | gpu | gpu:0,1,...`` (and GluonNLP's ``--gpus 0,1``) as MXNet contexts.

:func:`parse_devices` is the one reader of a device argument, for every command and every Python API that takes
``device=`` (a string as on the command line, an ``mx.Context`` or a list of them). It checks the request against
what this MXNet can do, so ``--device gpu`` on a CPU-only build or a machine without a GPU is one line saying what
to install or pass instead, before any model is loaded. Several devices split every batch (training); a command
that does not split batches (evaluate, predict, encode) computes on the first.

``cpu:0,1`` gives several CPU contexts: they share the same cores, so they are no faster than one, but they run
the multi-device code path anywhere (the tests use them to check that N devices train exactly as one does).

:func:`check_dtype` is the one check of a compute precision: float32 everywhere; float16 (mixed precision through
MXNet's AMP) on GPUs only, since MXNet 1.9 computes float16 fully connected layers only with cuDNN.
"""
from typing import List, Sequence, Union

from .errors import InputError
from .mxnet_stack import mx

__all__ = ['parse_devices', 'describe_devices', 'check_dtype', 'DTYPES', 'gpus_to_device', 'gpu_count', 'for_rank']

DTYPES = ('float32', 'float16', 'bfloat16')

DeviceArgument = Union[None, str, mx.Context, Sequence[mx.Context]]


def gpu_count() -> int:
    """GPUs this MXNet sees (0 on a CPU-only build)."""
    if not _cuda_build():
        return 0
    return _visible_gpus()


def _visible_gpus() -> int:
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # a CUDA build on a machine without a driver or a device
        return 0


def _cuda_build() -> bool:
    try:
        return bool(mx.runtime.Features().is_enabled('CUDA'))
    except Exception:  # a build without the features API: ask for the GPUs directly
        return True


def gpus_to_device(gpus: str) -> str:
    """GluonNLP's ``--gpus 0,1`` (empty: the CPU) as a device argument."""
    gpus = gpus.strip()
    return 'gpu:' + gpus if gpus else 'cpu'


def parse_devices(device: DeviceArgument = None, what: str = '--device') -> List[mx.Context]:
    """The contexts ``device`` names (None: the CPU), checked: known kind, no repeats, every GPU present."""
    if device is None:
        return [mx.cpu()]
    if isinstance(device, mx.Context):
        contexts = [device]
    elif isinstance(device, str):
        contexts = _parse_text(device.strip().lower(), what)
    else:
        contexts = list(device)
        if not contexts or not all(isinstance(c, mx.Context) for c in contexts):
            raise InputError('{} must be a device name such as "cpu" or "gpu:0,1", an mx.Context or a list of them, '
                             'got {!r}'.format(what, device))
    if len(set(contexts)) != len(contexts):
        raise InputError('{} {}: a device is named twice'.format(what, device))
    kinds = {c.device_type for c in contexts}
    if len(kinds) > 1 or not kinds <= {'cpu', 'gpu'}:
        raise InputError('{} {}: use CPUs or GPUs, not both (and no other kind of device)'.format(what, device))
    gpus = [c.device_id for c in contexts if c.device_type == 'gpu']
    if gpus:
        _check_gpus(gpus, device, what)
    return contexts


def _parse_text(text: str, what: str) -> List[mx.Context]:
    kind, _, ids = text.partition(':')
    if kind not in ('cpu', 'gpu') or (_ and not ids):
        raise InputError('{} {!r}: expected cpu, gpu, or gpu:0,1 (the GPUs to use)'.format(what, text))
    if not ids:
        return [mx.Context(kind, 0)]
    try:
        numbers = [int(part) for part in ids.split(',')]
    except ValueError:
        raise InputError('{} {!r}: the devices after "{}:" are numbers separated by commas, e.g. {}:0,1'
                         .format(what, text, kind, kind)) from None
    if any(n < 0 for n in numbers):
        raise InputError('{} {!r}: device numbers start at 0'.format(what, text))
    return [mx.Context(kind, n) for n in numbers]


def _check_gpus(gpus: List[int], device, what: str) -> None:
    if not _cuda_build():
        raise InputError('{} {}: this MXNet is a CPU-only build ({}); install a CUDA build (docs/installation.md, "GPUs: a CUDA '
                         'build of MXNet": e.g. pip install mxnet-cu117==1.9.1) or use --device cpu'.format(what, device, _mxnet_name()))
    available = _visible_gpus()
    missing = [g for g in gpus if g >= available]
    if missing:
        raise InputError('{} {}: MXNet sees {} GPU(s) on this machine{}, so there is no gpu {}; use --device cpu{}'
                         .format(what, device, available, ' (numbered from 0)' if available else '',
                                 ', '.join(str(g) for g in missing),
                                 ' or gpu:0..{}'.format(available - 1) if available else ''))


def _mxnet_name() -> str:
    try:
        from importlib.metadata import distributions
        names = sorted({d.metadata['Name'] for d in distributions()
                        if (d.metadata['Name'] or '').lower().startswith('mxnet')})
        return ', '.join(names) or 'mxnet'
    except Exception:
        return 'mxnet'


def describe_devices(contexts: Sequence[mx.Context]) -> str:
    """``'gpu(0), gpu(1)'``: how logs name them."""
    return ', '.join(str(c) for c in contexts)


def check_dtype(dtype: str, contexts: Sequence[mx.Context], what: str = '--dtype') -> str:
    """``dtype`` if the devices can compute in it, else one clear error."""
    if dtype not in DTYPES:
        raise InputError('{} {!r}: expected one of {}'.format(what, dtype, ', '.join(DTYPES)))
    if dtype == 'float16' and any(c.device_type != 'gpu' for c in contexts):
        raise InputError('{} float16 needs a GPU: MXNet 1.9 computes float16 fully connected layers only with cuDNN, '
                         'so on {} it cannot; use --dtype bfloat16 on a CPU that has it, float32, or --device gpu'
                         .format(what, describe_devices(contexts)))
    if dtype == 'bfloat16':
        from .machine import cpu_has_bf16
        if any(c.device_type != 'cpu' for c in contexts):
            raise InputError('{} bfloat16 runs on the CPU (MXNet 1.9 computes bfloat16 with oneDNN only); on {} use '
                             '--dtype float16'.format(what, describe_devices(contexts)))
        if not cpu_has_bf16() or not mx.runtime.Features().is_enabled('MKLDNN'):
            raise InputError('{} bfloat16 needs a CPU with bfloat16 instructions (AVX512-BF16 or AMX) and MXNet with '
                             'oneDNN; this machine has not both: use --dtype float32'.format(what))
    return dtype


def for_rank(contexts: Sequence[mx.Context], local_rank: int, local_size: int) -> List[mx.Context]:
    """A Horovod rank's one device: its place among the machine's ranks picks from ``contexts`` (``gpu`` alone:
    the rank's own GPU, ``hvd.local_rank()``). Horovod all-reduces one gradient per rank, so a rank splits no
    batch across devices: one rank per GPU."""
    contexts = list(contexts)
    if len(contexts) == 1:
        only = contexts[0]
        if only.device_type == 'gpu' and only.device_id == 0 and local_size > 1:
            own = mx.gpu(local_rank)
            _check_gpus([local_rank], 'gpu (rank {})'.format(local_rank), '--device')
            return [own]
        return contexts
    if len(contexts) < local_size:
        raise InputError('--device {}: this machine runs {} Horovod ranks, one device each, but {} devices are named; '
                         'name one per rank (or just gpu: each rank takes its own)'.format(
                             describe_devices(contexts), local_size, len(contexts)))
    return [contexts[local_rank]]
