"""Parity between a Gluon model and its ONNX export: the same random batches through MXNet and onnxruntime.

Batches cover the shapes that break exports: one sequence of one token, the full 512 positions, many short
sequences, with random right padding (valid lengths from 1 to the batch length) and random sentence-pair
token types. Every output is compared; the report gives the largest absolute error and the largest error
relative to the output's scale (``max |onnx - mxnet| / max |mxnet|``, which stays meaningful where values
cross zero, unlike an element-wise ratio).
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..core.outputs import BATCH, SEQUENCE
from ..core.progress import counted
from .onnx_export import (METADATA_SIGNATURE, OnnxExportError, bert_of, context_of, is_task_head,
                          flatten_outputs, onnx_input_names, onnx_output_names, require_onnx, require_onnxruntime,
                          with_all_encodings)

__all__ = ['DEFAULT_PARITY_SHAPES', 'OutputParity', 'ParityReport', 'onnx_session', 'random_batch',
           'verify_onnx']

# (batch, length): the corners (1x1, 1x512, 16x1), typical fine-tuning shapes, and odd sizes.
DEFAULT_PARITY_SHAPES: Tuple[Tuple[int, int], ...] = (
    (1, 1), (1, 512), (16, 1), (16, 24), (8, 64), (3, 128), (5, 37), (2, 512))
DEFAULT_TOLERANCE = 1e-4
# What the Gluon model itself takes, whatever the signature of the ONNX file.
_GLUON_INPUTS = ('input_ids', 'token_type_ids', 'valid_length')


@dataclass(frozen=True)
class OutputParity:
    batch: int
    length: int
    output: str
    max_abs: float
    max_rel: float


@dataclass
class ParityReport:
    """Per shape and output, how far onnxruntime is from MXNet. ``passed`` is against ``tolerance`` (abs)."""
    onnx_path: str
    tolerance: float
    rows: List[OutputParity]

    def max_abs(self, output: Optional[str] = None) -> float:
        return max(row.max_abs for row in self.rows if output is None or row.output == output)

    def max_rel(self, output: Optional[str] = None) -> float:
        return max(row.max_rel for row in self.rows if output is None or row.output == output)

    @property
    def outputs(self) -> List[str]:
        return list(dict.fromkeys(row.output for row in self.rows))

    @property
    def passed(self) -> bool:
        return all(row.max_abs <= self.tolerance for row in self.rows)

    def failures(self) -> List[OutputParity]:
        return [row for row in self.rows if row.max_abs > self.tolerance]

    def format_table(self) -> str:
        lines = ['{:>5} {:>6}  {:<20} {:>10} {:>10}'.format('batch', 'length', 'output', 'max abs', 'max rel')]
        for row in self.rows:
            flag = '' if row.max_abs <= self.tolerance else '  > {:.0e}'.format(self.tolerance)
            lines.append('{:>5} {:>6}  {:<20} {:>10.2e} {:>10.2e}{}'.format(
                row.batch, row.length, row.output, row.max_abs, row.max_rel, flag))
        summary = ', '.join('{} {:.2e}'.format(name, self.max_abs(name)) for name in self.outputs)
        lines.append('worst abs error per output: {} ({} {:.0e})'.format(
            summary, 'all within' if self.passed else 'NOT all within', self.tolerance))
        return '\n'.join(lines)


def random_batch(rng: np.random.RandomState, batch: int, length: int, vocab_size: int,
                 type_vocab_size: int = 2) -> Dict[str, np.ndarray]:
    """int64 inputs for both signatures: random ids, right padding and sentence-pair token types."""
    valid_length = rng.randint(1, length + 1, size=batch)
    valid_length[rng.randint(batch)] = length  # at least one unpadded row, so the full length is exercised
    positions = np.arange(length)
    mask = (positions[None, :] < valid_length[:, None]).astype(np.int64)
    ids = rng.randint(0, vocab_size, size=(batch, length)).astype(np.int64)
    ids[mask == 0] = 1  # [PAD]
    # Sentence pairs: type 0 up to a random split, type 1 after it, 0 again on padding.
    split = rng.randint(1, valid_length + 1)
    types = ((positions[None, :] >= split[:, None]) & (mask == 1)).astype(np.int64)
    types = np.minimum(types, type_vocab_size - 1)
    return {'input_ids': ids, 'token_type_ids': types, 'valid_length': valid_length.astype(np.int64),
            'input_mask': mask, 'position_ids': positions.astype(np.int64)}


def onnx_session(onnx_path, threads: Optional[int] = None):
    """An onnxruntime CPU session; ``threads`` sets ``intra_op_num_threads`` (default: onnxruntime's choice)."""
    ort = require_onnxruntime()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path), options, providers=['CPUExecutionProvider'])


def _signature_of(onnx_path) -> str:
    onnx = require_onnx()
    model = onnx.load(str(onnx_path), load_external_data=False)
    for entry in model.metadata_props:
        if entry.key == METADATA_SIGNATURE:
            return entry.value
    names = {value.name for value in model.graph.input}
    return 'kobert-original' if 'input_mask' in names else 'bert'


def _check_declared_shape(onnx_path, name: str, declared, shape, batch: int, length: int) -> None:
    """The shape the file declares for an output (``batch``, ``sequence`` or fixed sizes) against what onnxruntime
    returned for a batch of ``batch`` x ``length``: a caller sizing buffers from the declaration must get it."""
    sizes = {BATCH: batch, SEQUENCE: length}
    expected = [sizes.get(axis, axis) for axis in declared]
    if len(expected) != len(shape) or any(want != have for want, have in zip(expected, shape)):
        raise OnnxExportError('{}: output {} is declared as ({}) but onnxruntime returned {} for batch {} x length {}; '
                              'export the model again with this version of kobert-gluon'.format(
                                  onnx_path, name, ', '.join(str(axis) for axis in declared), tuple(shape), batch,
                                  length))


def verify_onnx(model, onnx_path, shapes: Sequence[Tuple[int, int]] = DEFAULT_PARITY_SHAPES, seed: int = 0,
                tolerance: float = DEFAULT_TOLERANCE, threads: Optional[int] = None) -> ParityReport:
    """Run ``model`` (MXNet, as given: hybridize it first to check the cached graph) and ``onnx_path``
    (onnxruntime) on random batches of each ``(batch, length)`` and report the errors of every output.

    Lengths beyond the model's ``max_length`` are skipped (the position table has no rows for them).
    """
    signature = _signature_of(onnx_path)
    session = onnx_session(onnx_path, threads=threads)
    graph_outputs = [value.name for value in session.get_outputs()]
    if graph_outputs[:1] == ['encoder_layer_1'] and not is_task_head(model):
        model = with_all_encodings(model)  # the file was exported with all_layers=True
    names = onnx_output_names(model, signature)
    if graph_outputs != names:
        raise OnnxExportError('{} has outputs {} but an export of this model would have {}; was it exported '
                              'from another model?'.format(onnx_path, graph_outputs, names))
    declared = {value.name: list(value.shape) for value in session.get_outputs()}
    config = bert_of(model).kobert_config  # onnx_output_names checked that a family's builder made it
    # A family without token types in its config (DistilBERT, XLM-RoBERTa) reads type 0 only
    vocab_size, max_length, type_vocab_size = (config.vocab_size, config.max_length,
                                               getattr(config, 'token_type_vocab_size', 1))
    ctx = context_of(model)
    feed_names = onnx_input_names(signature)
    rng = np.random.RandomState(seed)
    rows = []
    shapes = [(batch, length) for batch, length in shapes if length <= max_length]
    if not shapes:
        raise InputError('no shape to test: every requested length exceeds max_length {}'.format(max_length))
    for batch, length in counted(shapes, desc='checking MXNet against onnxruntime', unit='batches'):
        inputs = random_batch(rng, batch, length, vocab_size, type_vocab_size)
        mx_outputs = model(*[mx.nd.array(inputs[name], ctx=ctx, dtype='float32') for name in _GLUON_INPUTS])
        # The original signature leaves out a next-sentence output, which would come last.
        expected = [out.asnumpy() for out in flatten_outputs(mx_outputs)[:len(names)]]
        got = session.run(names, {name: inputs[name] for name in feed_names})
        for name, want, have in zip(names, expected, got):
            if want.shape != have.shape:
                raise OnnxExportError('{}: output {} has shape {} in onnxruntime but {} in MXNet for batch {} x '
                                      'length {}'.format(onnx_path, name, have.shape, want.shape, batch, length))
            _check_declared_shape(onnx_path, name, declared[name], have.shape, batch, length)
            error = float(np.max(np.abs(have.astype(np.float64) - want))) if want.size else 0.0
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            rows.append(OutputParity(batch, length, name, error, error / scale if scale > 0 else error))
    return ParityReport(str(onnx_path), tolerance, rows)

