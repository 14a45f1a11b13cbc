"""The graph a model predicts with in MXNet: oneDNN-fused float32 by default, bfloat16 or int8 on request.

MXNet 1.9.1's CPU wheel ships oneDNN with a subgraph backend (named ``MKLDNN`` in 1.x; ``ONEDNN`` is MXNet 2's
name) that fuses a hybridized graph's dense layers, their bias and activation and the attention's matrix products
into single oneDNN calls. Nothing about the model changes: the same parameters, the same outputs to within float
rounding (the package's tests hold every family and head to 1e-5). What each precision is:

``fp32``  the hybridized graph partitioned by the ``MKLDNN`` backend (:func:`fuse`); the plain graph where the
          build has no such backend (a CUDA build) or the model computes on a GPU.
``bf16``  the dense layers in bfloat16 through ``amp.convert_hybrid_block`` (float32 master copies are not needed:
          no training), everything oneDNN cannot run in bfloat16 kept float32. GluonNLP's fused attention
          products (``interleaved_matmul_*``) are in none of AMP's lists, so the projection that feeds them stays
          float32 (converting it fails with "expected bfloat16, got float32"). Only where the CPU has bfloat16
          instructions (AVX512-BF16 or AMX); refused in one line elsewhere.
``int8``  MXNet's own quantization (``quantize_net_v2``, the recipe GluonNLP 0.10 uses for BERT: ``smart`` mode,
          channel-wise weight scales), calibrated with the min/max of every layer's output on batches the caller
          gives (rows of the task's data: :func:`quantize`). The calibrated graph is one ``SymbolBlock``, saved and
          loaded with :func:`save_quantized` / :func:`load_quantized` as one file (no pickle).

Traps found on the way (MXNet 1.9.1): the string ``'bfloat16'`` is not a dtype (``amp.amp.bfloat16`` is);
``quantize_net`` with ``auto``/``full`` fails on BERT (uint8/int8 type mismatch); quantization binds its
calibration module to one shape, so calibration batches are padded to one shape.
"""
import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterable, List, Sequence

import numpy as np

from ..core.errors import InputError
from ..core.machine import cpu_has_bf16
from ..core.mxnet_stack import mx, gluon, amp

__all__ = ['PRECISIONS', 'fusion_available', 'fuse', 'to_bfloat16', 'quantize', 'save_quantized', 'load_quantized',
           'check_precision']

log = logging.getLogger(__name__)

PRECISIONS = ('fp32', 'bf16', 'int8')
BACKEND = 'MKLDNN'
# GluonNLP's fused attention operators: AMP lists neither, so their inputs must stay float32 in a bf16 graph.
_FLOAT32_ONLY_OPERATORS = ('_contrib_interleaved_matmul_selfatt_qk', '_contrib_interleaved_matmul_selfatt_valatt',
                           '_contrib_interleaved_matmul_encdec_qk', '_contrib_interleaved_matmul_encdec_valatt')
_QUANTIZED_FORMAT = 'kobert-gluon-mxnet-int8'


def fusion_available(ctx) -> bool:
    """Whether MXNet can fuse a graph computing on ``ctx``: a CPU context and a build with the oneDNN backend."""
    return ctx.device_type == 'cpu' and mx.runtime.Features().is_enabled('MKLDNN')


def check_precision(precision: str, ctx) -> None:
    """Refuse, in one line, a precision this machine or build cannot run."""
    if precision not in PRECISIONS:
        raise InputError('precision must be one of {}, got {!r}'.format(', '.join(PRECISIONS), precision))
    if precision == 'fp32':
        return
    if not fusion_available(ctx):
        raise InputError('--precision {} with --runtime mxnet needs a CPU build of MXNet with oneDNN (MKLDNN) '
                         'computing on the CPU; use --precision fp32 here'.format(precision))
    if precision == 'bf16' and not cpu_has_bf16():
        raise InputError('--precision bf16 needs a CPU with bfloat16 instructions (AVX512-BF16 or AMX), which this '
                         'one lacks; use --precision int8 or fp32')


@contextlib.contextmanager
def _native_chatter_to_debug_log():
    """MXNet's C++ code reports every layer it leaves out of quantization or fuses on the process's stderr (file
    descriptor 2, past Python's ``sys.stderr``), and Gluon warns about argument types it cannot infer: hundreds of
    lines a user cannot act on. They go to the debug log instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode='w+b') as captured, warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode('utf-8', 'replace').splitlines():
                log.debug('mxnet: %s', line)


def _dummy_inputs(ctx) -> List[mx.nd.NDArray]:
    """A batch of one 8-token sequence: enough for the backend to partition the graph (shapes stay free)."""
    return [mx.nd.ones((1, 8), ctx=ctx), mx.nd.zeros((1, 8), ctx=ctx), mx.nd.array([8], ctx=ctx)]


def fuse(block, ctx, example_inputs: Sequence[mx.nd.NDArray] = None) -> str:
    """Hybridize ``block`` (a model whose forward takes ``input_ids, token_type_ids, valid_length``; a masked-LM
    also ``masked_positions``, given then in ``example_inputs``) for inference, fused by the oneDNN backend where
    :func:`fusion_available`. Returns what it did, in words (for ``--debug``). The block's parameters and outputs
    are unchanged; it must not be trained afterwards."""
    block.hybridize(static_alloc=True)
    if not fusion_available(ctx):
        reason = 'a GPU' if ctx.device_type != 'cpu' else 'an MXNet build without the oneDNN backend'
        log.debug('%s: the plain hybridized graph (%s)', type(block).__name__, reason)
        return 'plain graph ({})'.format(reason)
    with _native_chatter_to_debug_log():
        block.optimize_for(*(example_inputs or _dummy_inputs(ctx)), backend=BACKEND, static_alloc=True)
    log.debug('%s: the oneDNN-fused graph (backend %s)', type(block).__name__, BACKEND)
    return 'oneDNN-fused graph'


def _graph_of(block, ctx):
    """The symbol ``block`` computes (traced once on dummy inputs)."""
    block.hybridize(static_alloc=True)
    block(*_dummy_inputs(ctx))
    return block._cached_graph[1]


def to_bfloat16(block, ctx):
    """A ``SymbolBlock`` computing ``block`` with its dense layers in bfloat16 (see the module docstring); call
    :func:`check_precision` first."""
    graph = json.loads(_graph_of(block, ctx).tojson())
    nodes = graph['nodes']
    # the layers whose outputs feed an operator that only runs float32 stay float32 themselves
    excluded = sorted({nodes[source[0]]['name'] for node in nodes if node['op'] in _FLOAT32_ONLY_OPERATORS
                       for source in node['inputs'] if nodes[source[0]]['op'] != 'null'})
    with _native_chatter_to_debug_log():
        converted = amp.convert_hybrid_block(block, target_dtype='bfloat16', ctx=ctx, cast_optional_params=True,
                                             excluded_sym_names=excluded)
        converted.hybridize(static_alloc=True)
        converted.optimize_for(*_dummy_inputs(ctx), backend=BACKEND, static_alloc=True)
    return converted


def _calibration_loader(batches: Sequence[Sequence[mx.nd.NDArray]], ctx):
    """The batches as one DataLoader of one shape: every batch padded to the longest sequence and the largest batch
    (quantization binds its calibration module to one shape; padded rows get ``valid_length`` 1)."""
    rows = max(b[0].shape[0] for b in batches)
    length = max(b[0].shape[1] for b in batches)
    ids, types, valid = [], [], []
    for input_ids, token_type_ids, valid_length in batches:
        n, l = input_ids.shape
        pad_ids = np.zeros((rows, length), dtype=np.float32)
        pad_types = np.zeros((rows, length), dtype=np.float32)
        pad_valid = np.ones((rows,), dtype=np.float32)
        pad_ids[:n, :l] = input_ids.asnumpy()
        pad_types[:n, :l] = token_type_ids.asnumpy()
        pad_valid[:n] = valid_length.asnumpy()
        ids.append(pad_ids)
        types.append(pad_types)
        valid.append(pad_valid)
    # exactly the three inputs: MXNet names them data0..data2 and calls the block with as many arrays as it takes,
    # so a fourth (a label) would reach a backbone's optional masked_positions
    data = gluon.data.ArrayDataset(mx.nd.array(np.concatenate(ids), ctx=ctx),
                                   mx.nd.array(np.concatenate(types), ctx=ctx),
                                   mx.nd.array(np.concatenate(valid), ctx=ctx))
    return gluon.data.DataLoader(data, batch_size=rows), rows * len(batches)


def quantize(block, batches: Sequence[Sequence[mx.nd.NDArray]], ctx):
    """An int8 ``SymbolBlock`` computing ``block``, calibrated on ``batches`` (each ``(input_ids, token_type_ids,
    valid_length)`` as the model receives them): GluonNLP 0.10's recipe, ``smart`` mode with channel-wise weight
    scales and naive (min/max) calibration."""
    if not batches:
        raise InputError('int8 calibration needs at least one batch of the task\'s data')
    block.hybridize(static_alloc=True)
    loader, examples = _calibration_loader(batches, ctx)
    with _native_chatter_to_debug_log():
        quantized = mx.contrib.quantization.quantize_net_v2(
            block, quantized_dtype='auto', quantize_mode='smart', quantize_granularity='channel-wise',
            calib_data=loader, calib_mode='naive', num_calib_examples=examples, ctx=ctx, exclude_layers=[],
            exclude_layers_match=[])
        quantized.hybridize(static_alloc=True)
        quantized(*batches[0])  # the first forward builds the fused int8 operators: their notes go to the log too
    return quantized


def save_quantized(block, path) -> None:
    """Write a quantized ``SymbolBlock`` as one ``.npz`` file: its symbol (JSON, as bytes) and its parameters (int8
    weights keep their dtype)."""
    symbol = block._cached_graph[1].tojson().encode('utf-8')  # a SymbolBlock holds its graph from the start
    arrays = {'__format__': np.frombuffer(_QUANTIZED_FORMAT.encode('ascii'), dtype=np.uint8),
              '__symbol__': np.frombuffer(symbol, dtype=np.uint8)}
    for name, parameter in block.collect_params().items():
        arrays['param/' + name] = parameter.data().asnumpy()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with open(path, 'wb') as stream:
        stream.write(buffer.getvalue())


def load_quantized(path, ctx, input_names: Iterable[str] = ('data0', 'data1', 'data2')):
    """The ``SymbolBlock`` that :func:`save_quantized` wrote to ``path``, fused and ready on ``ctx``."""
    try:
        with np.load(str(path), allow_pickle=False) as archive:
            if bytes(archive['__format__']).decode('ascii') != _QUANTIZED_FORMAT:
                raise ValueError('not an int8 graph of this package')
            symbol = mx.sym.load_json(bytes(archive['__symbol__']).decode('utf-8'))
            params = {name[len('param/'):]: archive[name] for name in archive.files if name.startswith('param/')}
    except (OSError, ValueError, KeyError) as err:
        raise InputError('{}: cannot read this int8 graph ({}); delete it to have it made again'
                         .format(path, err)) from None
    with _native_chatter_to_debug_log(), tempfile.TemporaryDirectory() as tmp:
        block = mx.gluon.SymbolBlock(symbol, [mx.sym.var(name) for name in input_names])
        saved = os.path.join(tmp, 'net.params')  # the parameters go in through MXNet's own loader, dtypes kept
        mx.nd.save(saved, {name: mx.nd.array(value, dtype=value.dtype) for name, value in params.items()})
        block.collect_params().load(saved, ctx=ctx, cast_dtype=True, dtype_source='saved', ignore_extra=True)
        block.hybridize(static_alloc=True)
        block(*_dummy_inputs(ctx))
    return block
