"""``InferenceModel``: one ONNX file run by onnxruntime or OpenVINO at a chosen precision, on numpy arrays.

The file is one that :func:`kobert_gluon.export.onnx_export.export_onnx` wrote (inputs ``input_ids``,
``token_type_ids``, ``valid_length``, all int64; dynamic batch and sequence axes). What each runtime does:

=========  ===========================================  ================================================
precision  onnxruntime                                  OpenVINO
=========  ===========================================  ================================================
``fp32``   the file as is                               the file, f32 inference
``bf16``   not offered (no bf16 kernels on CPU)         bf16 inference (AMX / AVX512-BF16)
``int8``   dynamic quantization: int8 weights,          static quantization of the matmuls (QDQ, per-
           activations quantized per call (sibling      channel weights, calibrated on seeded random
           ``.int8.onnx``, written once)                token ids; sibling ``.qdq-int8.onnx``), run by
                                                        OpenVINO's int8 kernels (VNNI / AMX)
=========  ===========================================  ================================================

OpenVINO compiles static shapes (the dynamic-shape export does not compile there), so batches are padded up to
a shape bucket: the length to a multiple of :data:`LENGTH_STEP` (at most ``max_length``), the batch to the next
power of two. Each bucket is compiled once and reused, so a stream of varied lengths compiles a handful of times,
not once per call. Padded rows and positions are cut off again before outputs are returned.
"""
import contextlib
import logging
import os
import shutil
import threading
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from ..core.cache_entries import cached_file
from ..core.machine import available_cpus
from ..core.errors import InputError
from ..core.outputs import BATCH, SEQUENCE, OutputSpec
from ..core.registry import Registry

__all__ = ['InferenceModel', 'Runtime', 'RUNTIMES', 'PRECISIONS', 'runtime_for', 'default_threads', 'quantized_path',
           'LENGTH_STEP']

PRECISIONS = ('fp32', 'bf16', 'int8')
INPUT_NAMES = ('input_ids', 'token_type_ids', 'valid_length')
REQUIRED_INPUTS = ('input_ids', 'valid_length')
LENGTH_STEP = 16


def default_threads() -> int:
    """The CPUs this process may run on (the runtimes' own defaults count hyperthreads or the whole machine)."""
    return available_cpus()


# How each runtime's int8 file is made, and the suffix of the sibling file it is kept in.
DYNAMIC, STATIC_QDQ = 'dynamic', 'qdq'
_QUANTIZED_SUFFIX = {DYNAMIC: '.int8.onnx', STATIC_QDQ: '.qdq-int8.onnx'}
CALIBRATION_BATCHES, CALIBRATION_SHAPE, CALIBRATION_SEED = 16, (8, 64), 0


def quantized_path(onnx_path, method: str = DYNAMIC) -> Path:
    """Where the int8 version of ``onnx_path`` made by ``method`` is kept (written once, next to it)."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_name(onnx_path.stem + _QUANTIZED_SUFFIX[method])


def _vocab_size(onnx_path: Path) -> int:
    """Rows of the table that ``input_ids`` index (the word embeddings)."""
    import onnx
    model = onnx.load(str(onnx_path), load_external_data=False)
    tables = {tensor.name: tensor.dims for tensor in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == 'Gather' and node.input[1] == 'input_ids' and node.input[0] in tables:
            return int(tables[node.input[0]][0])
    raise InputError('{}: cannot find the word embeddings that input_ids index'.format(onnx_path))


def _calibration_batches(onnx_path: Path):
    """Data-free calibration: seeded random token ids (specials at their places, half the rows padded). The
    static ranges only need the scale of each matmul's input; NSMC accuracy (docs/results.md) says whether that was
    enough."""
    vocab_size = _vocab_size(onnx_path)
    rng = np.random.RandomState(CALIBRATION_SEED)
    batch, length = CALIBRATION_SHAPE
    for _ in range(CALIBRATION_BATCHES):
        ids = rng.randint(5, vocab_size, size=(batch, length)).astype(np.int64)
        valid = rng.randint(length // 4, length + 1, size=batch).astype(np.int64)
        ids[:, 0] = 2
        for row, n in enumerate(valid):
            ids[row, n - 1], ids[row, n:] = 3, 1
        yield {'input_ids': ids, 'token_type_ids': np.zeros_like(ids), 'valid_length': valid}


def _write_quantized(onnx_path: Path, tmp: Path, method: str) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    if method == DYNAMIC:
        # int8 weights, activations quantized per call: no calibration, what onnxruntime runs fastest on CPU
        quantize_dynamic(str(onnx_path), str(tmp), weight_type=QuantType.QInt8)
        return
    from onnxruntime.quantization import CalibrationDataReader

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.batches = _calibration_batches(onnx_path)

        def get_next(self):
            return next(self.batches, None)

    # QuantizeLinear/DequantizeLinear pairs around the matmuls only (softmax, LayerNorm, GELU stay float):
    # OpenVINO folds them into its int8 matmul kernels.
    quantize_static(str(onnx_path), str(tmp), Batches(), quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=['MatMul', 'Gemm'], per_channel=True, weight_type=QuantType.QInt8,
                    activation_type=QuantType.QInt8, extra_options={'ActivationSymmetric': True})


def _quantize(onnx_path: Path, method: str = DYNAMIC) -> Path:
    """The int8 copy of ``onnx_path`` made by ``method``: a verified cache entry, rebuilt when it is damaged or
    ``onnx_path`` changed. The quantizer reads a private link to ``onnx_path`` in the build's own folder, since it
    writes a ``<input>-inferred.onnx`` beside its input: two builders (dynamic and QDQ, or two processes) never
    share that file."""
    onnx_path = Path(onnx_path)

    def build(target: Path):
        from ..export.onnx_export import require_onnx
        require_onnx()  # onnxruntime.quantization needs onnx (and a version it can use)
        private = target.with_name('source.onnx')
        try:
            os.link(str(onnx_path), str(private))
        except OSError:  # another file system, or no hard links there
            shutil.copyfile(str(onnx_path), str(private))
        with _quiet_root_logger():
            _write_quantized(private, target, method)
    return cached_file(quantized_path(onnx_path, method), build, 'quantizing {}'.format(onnx_path), source=onnx_path)


_QUIET_LOCK = threading.Lock()
_QUIET = {'depth': 0, 'level': logging.NOTSET}


@contextlib.contextmanager
def _quiet_root_logger():
    """onnxruntime's quantizer advises "pre-processing" (shape inference) through the root logger on every call;
    these graphs quantize without it. Nested and concurrent quantizations share one quiet period, so the first
    restores nothing the second still needs and the last restores the level the first found."""
    root = logging.getLogger()
    with _QUIET_LOCK:
        if _QUIET['depth'] == 0:
            _QUIET['level'] = root.level
            root.setLevel(logging.ERROR)
        _QUIET['depth'] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET['depth'] -= 1
            if _QUIET['depth'] == 0:
                root.setLevel(_QUIET['level'])


class _OnnxruntimeRunner:
    def __init__(self, path: Path, precision: str, threads: int):
        from ..export.onnx_parity import onnx_session
        self.path = _quantize(path) if precision == 'int8' else path
        self.session = onnx_session(self.path, threads=threads)
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        values = self.session.run(self.output_names, {name: feeds[name] for name in self.input_names})
        return dict(zip(self.output_names, values))


def require_openvino():
    try:
        import openvino
    except ImportError:
        raise InputError('runtime openvino needs the openvino package: pip install "kobert-gluon[openvino]"') \
            from None
    return openvino


def _declared_axes(shape) -> tuple:
    """An OpenVINO port's shape as the export declared it: the dynamic axes are the inputs' (``batch`` first, then
    ``sequence``: export_onnx declares no other), the static ones fixed sizes."""
    dynamic = iter((BATCH, SEQUENCE))
    return tuple(next(dynamic) if dimension.is_dynamic else dimension.get_length() for dimension in shape)


class _OpenvinoRunner:
    """Compiled static-shape models of one ONNX file, one per shape bucket."""

    def __init__(self, path: Path, precision: str, threads: int):
        ov = require_openvino()
        self.ov = ov
        self.core = ov.Core()
        source = _quantize(path, STATIC_QDQ) if precision == 'int8' else path
        self.model = self.core.read_model(str(source))
        self.input_names = [port.get_any_name() for port in self.model.inputs]
        self.output_names = [port.get_any_name() for port in self.model.outputs]
        # The outputs as the export declared them: its only dynamic axes are the inputs' batch and sequence
        self.outputs = [OutputSpec(port.get_any_name(), _declared_axes(port.get_partial_shape()))
                        for port in self.model.outputs]
        self.per_position = {output.name for output in self.outputs if output.per_position}
        hint = 'bf16' if precision == 'bf16' else 'f32'
        self.config = {'INFERENCE_PRECISION_HINT': hint, 'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1,
                       'PERFORMANCE_HINT': 'LATENCY'}
        self.compiled: Dict[Tuple[int, int], object] = {}

    def compile(self, batch: int, length: int) -> None:
        """Compile the (batch, length) shape now rather than on its first call."""
        self._compiled(batch, length)

    def _compiled(self, batch: int, length: int):
        key = (batch, length)
        if key not in self.compiled:
            model = self.model.clone()
            shapes = {}
            for port in model.inputs:
                rank = port.get_partial_shape().rank.get_length()
                shapes[port] = self.ov.PartialShape([batch, length] if rank == 2 else [batch])
            model.reshape(shapes)
            self.compiled[key] = self.core.compile_model(model, 'CPU', self.config).create_infer_request()
        return self.compiled[key]

    def __call__(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        batch, length = feeds['input_ids'].shape
        request = self._compiled(batch, length)
        results = request.infer({name: feeds[name] for name in self.input_names})
        by_name = {}
        for port, value in results.items():
            by_name[port.get_any_name()] = np.array(value, copy=True)
        return {name: by_name[name] for name in self.output_names}


@dataclass(frozen=True)
class Runtime:
    """What computes a model: its ``precisions``, whether it compiles one graph per shape bucket
    (``static_shapes``: batches are padded to buckets), and its ``runner(onnx_path, precision, threads)`` (None: the
    Gluon model itself, no ONNX file). A new runtime is a runner class and one :func:`register_runtime` call."""
    name: str
    precisions: Tuple[str, ...]
    static_shapes: bool = False
    runner: Optional[Callable] = None
    note: str = ''


RUNTIMES: Registry[Runtime] = Registry('runtime')


def register_runtime(runtime: Runtime) -> Runtime:
    return RUNTIMES.register(runtime.name, runtime)


def runtime_for(name: str, precision: str = 'fp32') -> Runtime:
    """The registered runtime ``name``, checked to run ``precision`` (one line naming the runtimes that do)."""
    runtime = RUNTIMES.get(name)
    if precision not in PRECISIONS:
        raise InputError('unknown precision {!r}; choose one of {}'.format(precision, ', '.join(PRECISIONS)))
    if precision not in runtime.precisions:
        able = [r.name for r in RUNTIMES.values() if precision in r.precisions]
        raise InputError('runtime {} runs {} only{}; for {} use runtime {}'.format(
            name, ' and '.join(runtime.precisions), ' ({})'.format(runtime.note) if runtime.note else '', precision,
            ' or '.join(able)))
    return runtime


register_runtime(Runtime('mxnet', ('fp32', 'bf16', 'int8'),
                         note='the Gluon model itself: the oneDNN-fused graph in fp32; bf16 where the CPU has it; '
                              'int8 calibrated on rows of the task\'s data (--calibration)'))
register_runtime(Runtime('onnxruntime', ('fp32', 'int8'), runner=_OnnxruntimeRunner,
                         note='no bf16 kernels on CPU'))
register_runtime(Runtime('openvino', ('fp32', 'bf16', 'int8'), static_shapes=True, runner=_OpenvinoRunner))


def _bucket_length(length: int, limit: Optional[int]) -> int:
    padded = -(-length // LENGTH_STEP) * LENGTH_STEP
    return min(padded, limit) if limit else padded


def _bucket_batch(batch: int) -> int:
    return 1 << (batch - 1).bit_length()


class InferenceModel:
    """An exported KoBERT model (or task head) run by ``runtime`` at ``precision`` with ``threads`` threads.

    Call it with numpy ``input_ids`` and ``token_type_ids`` (batch × length) and ``valid_length`` (batch); it
    returns ``{output name: numpy array}`` for exactly those rows and positions (``logits`` for a classifier,
    ``sequence_output`` and ``pooled_output`` for a bare BERT).
    """

    def __init__(self, onnx_path, runtime: str = 'onnxruntime', precision: str = 'fp32',
                 threads: Optional[int] = None, max_length: Optional[int] = None):
        chosen = runtime_for(runtime, precision)
        if chosen.runner is None:
            raise InputError('runtime {} computes the Gluon model itself, not an ONNX file; use '
                             'kobert_gluon.load_predictor or FineTunedModel'.format(runtime))
        self.path = Path(onnx_path)
        if not self.path.is_file():
            raise FileNotFoundError('{}: no such ONNX file'.format(self.path))
        if threads is not None and threads < 1:
            raise InputError('threads must be at least 1, got {}'.format(threads))
        self.runtime = runtime
        self.precision = precision
        self.threads = threads or default_threads()
        self.max_length = max_length
        self._runner = chosen.runner(self.path, precision, self.threads)
        # token_type_ids may be absent: a model without segments (DistilBERT) exports without that input
        missing = [name for name in REQUIRED_INPUTS if name not in self._runner.input_names]
        unknown = [name for name in self._runner.input_names if name not in INPUT_NAMES]
        if missing or unknown:
            raise InputError('{} has inputs {}, not this package\'s ({}); export it with export_onnx'
                             .format(self.path, ', '.join(self._runner.input_names), ', '.join(INPUT_NAMES)))
        self.output_names: Sequence[str] = tuple(self._runner.output_names)
        self._static_shapes = chosen.static_shapes

    def __repr__(self):
        return 'InferenceModel({!r}, runtime={!r}, precision={!r}, threads={})'.format(
            str(self.path), self.runtime, self.precision, self.threads)

    @property
    def compiled_shapes(self) -> Sequence[Tuple[int, int]]:
        """The (batch, length) buckets compiled so far (OpenVINO; empty for onnxruntime, which needs none)."""
        return sorted(getattr(self._runner, 'compiled', {}))

    def shape_buckets(self, max_batch: int) -> Sequence[Tuple[int, int]]:
        """Every (batch, length) bucket a batch of at most ``max_batch`` rows of at most ``max_length`` positions
        is padded to (empty for a runtime without static shapes)."""
        if not self._static_shapes:
            return []
        if not self.max_length:
            raise InputError('the shape buckets of {} need its max_length'.format(self))
        lengths = sorted({_bucket_length(length, self.max_length)
                          for length in range(LENGTH_STEP, self.max_length + LENGTH_STEP, LENGTH_STEP)})
        batches = [1 << power for power in range(_bucket_batch(max_batch).bit_length())]
        return [(batch, length) for batch in batches for length in lengths]

    def compile_shapes(self, max_batch: int) -> int:
        """Compile every bucket of :meth:`shape_buckets` ahead (a server's warm-up: no request then waits for a
        compile, which takes OpenVINO about half a second a shape); returns how many were compiled."""
        buckets = [bucket for bucket in self.shape_buckets(max_batch) if bucket not in self.compiled_shapes]
        for batch, length in buckets:
            self._runner.compile(batch, length)
        return len(buckets)

    def __call__(self, input_ids, token_type_ids, valid_length) -> Dict[str, np.ndarray]:
        input_ids = np.asarray(input_ids, dtype=np.int64)
        token_type_ids = np.asarray(token_type_ids, dtype=np.int64)
        valid_length = np.asarray(valid_length, dtype=np.int64).reshape(-1)
        if input_ids.ndim != 2 or token_type_ids.shape != input_ids.shape or valid_length.shape[0] != len(input_ids):
            raise InputError('input_ids and token_type_ids must be batch x length and valid_length batch; got {}, {} '
                             'and {}'.format(input_ids.shape, token_type_ids.shape, valid_length.shape))
        batch, length = input_ids.shape
        if batch == 0:
            raise InputError('an empty batch')
        if self._static_shapes:
            padded_batch, padded_length = _bucket_batch(batch), _bucket_length(length, self.max_length)
            padded_length = max(padded_length, length)
            ids = np.zeros((padded_batch, padded_length), np.int64)
            types = np.zeros_like(ids)
            valid = np.ones(padded_batch, np.int64)  # padded rows: one position, never all masked
            ids[:batch, :length], types[:batch, :length], valid[:batch] = input_ids, token_type_ids, valid_length
        else:
            ids, types, valid = input_ids, token_type_ids, valid_length
        outputs = self._runner({'input_ids': ids, 'token_type_ids': types, 'valid_length': valid})
        if not self._static_shapes:
            return outputs
        per_position = self._runner.per_position
        return {name: value[:batch, :length] if name in per_position else value[:batch]
                for name, value in outputs.items()}
