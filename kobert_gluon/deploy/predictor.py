"""Fine-tuned model folders predicting through an ONNX runtime.

``load_predictor(folder, runtime, precision)`` gives the same :class:`~kobert_gluon.tasks.finetuning.FineTunedModel`
that ``predict`` and ``evaluate`` use with MXNet (same tokenizer, batches, task kind, output columns), with its
forward pass handed to an :class:`~.runtime.InferenceModel`. The ONNX file is exported once per model and kept in
the cache (``$KOBERT_GLUON_HOME/onnx/<key>/model.onnx``, with its SHA-256 recorded and checked at every use), keyed by the SHA-256 of the folder's ``config.json`` and
``model.params``: a retrained model gets a new file, the same model never exports twice. (Not inside the model folder:
its files are checksummed as a whole, and a shipped model's folder may be read-only.)

With ``runtime='mxnet'`` the Gluon model computes itself: the oneDNN-fused graph (``FineTunedModel.load``), its
bfloat16 version, or its int8 version calibrated on rows of the task's data (``calibration``: a file read the way
``predict --input`` reads one). The int8 graph is made once per model and calibration file and kept in the cache
as well (``$KOBERT_GLUON_HOME/mxnet-int8/<key>/<calibration SHA-256>.npz``, verified at every use).
"""
import dataclasses
import hashlib
import itertools
import tempfile
import json
from pathlib import Path
from typing import Optional

import numpy as np

from ..core.cache_entries import cached_file
from ..core.devices import parse_devices
from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..core.outputs import outputs_of
from ..core.owned_folders import read_marker, sha256_of
from ..export.onnx_export import export_onnx
from ..hub.artifact_store import cache_root
from ..models.inference import check_precision, load_quantized, quantize, save_quantized, to_bfloat16
from ..tasks.finetuning import FineTunedModel
from ..tasks.prediction import PredictRequest
from .runtime import InferenceModel, runtime_for

__all__ = ['load_predictor', 'cached_onnx', 'RuntimeForward', 'cached_int8_graph', 'CALIBRATION_EXAMPLES']
ONNX_FOLDER = 'onnx'
INT8_FOLDER = 'mxnet-int8'
# At most this many examples of a calibration file calibrate an int8 graph: enough for every layer's range (GluonNLP's
# BERT recipe used a few hundred), spread over the lengths so that short and long inputs both count.
CALIBRATION_EXAMPLES = 512
# Rows of the calibration file read (and run through the float32 model) to choose them from: a whole training file
# would cost a full prediction pass for nothing.
CALIBRATION_READ_FACTOR = 4


def model_key(folder: Path) -> str:
    """SHA-256 over the folder's config.json and model.params (from its marker when it records them)."""
    recorded = (read_marker(folder) or {}).get('sha256', {})
    digest = hashlib.sha256()
    for name in ('config.json', 'model.params'):
        digest.update((recorded.get(name) or sha256_of(folder / name)).encode())
    return digest.hexdigest()


def cached_onnx(fine_tuned: FineTunedModel, cachedir=None) -> Path:
    """The ONNX export of ``fine_tuned``'s model: a verified cache entry (:mod:`kobert_gluon.core.cache_entries`),
    exported once, checked against its recorded SHA-256 at every use, rebuilt when damaged."""
    path = cache_root(cachedir) / ONNX_FOLDER / model_key(fine_tuned.folder)[:32] / 'model.onnx'
    return cached_file(path, lambda target: export_onnx(fine_tuned.model, target), 'ONNX export into {}'.format(path))


class RuntimeForward:
    """Stands in for the Gluon head in ``FineTunedModel``: NDArrays in, the head's output (``logits`` or the
    regressor's ``score``) out as an NDArray, computed by an :class:`InferenceModel`."""

    def __init__(self, inference: InferenceModel, head):
        self.inference = inference
        # the one output the head declares: what its export names it
        (output,) = outputs_of(head)
        if output.name not in inference.output_names:
            raise InputError('{} has outputs {}, not this head\'s {}; delete it and export again'.format(
                inference.path, ', '.join(inference.output_names), output.name))
        self.output_name = output.name

    def prepare(self, max_batch_size: int) -> int:
        """Compile ahead every shape bucket a batch of up to ``max_batch_size`` rows uses (OpenVINO)."""
        return self.inference.compile_shapes(max_batch_size)

    def shapes_to_prepare(self, max_batch_size: int) -> int:
        compiled = set(self.inference.compiled_shapes)
        return sum(1 for bucket in self.inference.shape_buckets(max_batch_size) if bucket not in compiled)

    def __call__(self, input_ids, token_type_ids, valid_length):
        outputs = self.inference(input_ids.asnumpy(), token_type_ids.asnumpy(), valid_length.asnumpy())
        return mx.nd.array(outputs[self.output_name])


class _BatchRecorder:
    """Stands in for the head while calibration rows go through the task's own prediction code, so that int8 is
    calibrated on exactly the inputs the model receives (tokenizer, special tokens, padding) for any task."""

    def __init__(self, forward):
        self.forward = forward
        self.batches = []

    def __call__(self, input_ids, token_type_ids, valid_length):
        self.batches.append((input_ids.copy(), token_type_ids.copy(), valid_length.copy()))
        return self.forward(input_ids, token_type_ids, valid_length)


def _calibration_batches(fine_tuned: FineTunedModel, calibration, table_overrides, encoding: str):
    """The batches ``fine_tuned`` receives predicting the first rows of ``calibration``, at most
    :data:`CALIBRATION_EXAMPLES` examples chosen evenly over them (the batches come sorted by length)."""
    table = None
    if fine_tuned.pipeline.reads_tables:
        table = dataclasses.replace(fine_tuned.spec.table, label_column=None, **dict(table_overrides or {}))
    recorder = _BatchRecorder(fine_tuned.model)
    model = fine_tuned.model
    fine_tuned.run_forward_with(recorder)
    rows = CALIBRATION_READ_FACTOR * CALIBRATION_EXAMPLES
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if 'max_rows' in fine_tuned.pipeline.predict_options:  # a structure that reads N rows itself (SQuAD)
                request = PredictRequest(input=str(calibration), encoding=encoding, max_rows=rows)
            else:  # lines of text or of a table: the first lines (the header too) are what calibrates
                head = Path(tmp) / Path(calibration).name
                with open(calibration, 'rb') as source:
                    head.write_bytes(b''.join(itertools.islice(source, rows + 1)))
                request = PredictRequest(input=str(head), encoding=encoding, table=table, skip_bad_rows=True)
            try:
                fine_tuned.pipeline.predict_output(fine_tuned, request)
            except InputError as err:  # name the user's file, not the copy of its first lines
                raise InputError('--calibration: ' + str(err).replace(request.input, str(calibration))) from None
    finally:
        fine_tuned.run_forward_with(model)
    if not recorder.batches:
        raise InputError('--calibration {} has no rows to calibrate on (give rows of the task\'s data: the dev split, '
                         'a few hundred rows)'.format(calibration))
    batches = recorder.batches
    examples = sum(batch[0].shape[0] for batch in batches)
    if examples > CALIBRATION_EXAMPLES:
        keep = max(1, round(len(batches) * CALIBRATION_EXAMPLES / examples))
        batches = [batches[i] for i in np.linspace(0, len(batches) - 1, keep).round().astype(int)]
    return batches


def cached_int8_graph(fine_tuned: FineTunedModel, calibration, cachedir=None, table_overrides=None,
                      encoding: str = 'utf-8') -> Path:
    """The int8 graph of ``fine_tuned`` calibrated on the rows of the file ``calibration``: a verified cache entry,
    made once per model and calibration file."""
    if not Path(calibration).is_file():
        raise InputError('--calibration {}: {} (give a file of the task\'s rows: the dev split, a few hundred '
                         'rows)'.format(calibration, 'a folder' if Path(calibration).is_dir() else 'no such file'))
    key = hashlib.sha256(json.dumps({'file': sha256_of(calibration), 'table': table_overrides or {},
                                     'encoding': encoding, 'examples': CALIBRATION_EXAMPLES,
                                     'rows': CALIBRATION_READ_FACTOR * CALIBRATION_EXAMPLES},
                                    sort_keys=True).encode()).hexdigest()
    path = cache_root(cachedir) / INT8_FOLDER / model_key(fine_tuned.folder)[:32] / '{}.npz'.format(key[:32])

    def build(target: Path):
        batches = _calibration_batches(fine_tuned, calibration, table_overrides, encoding)
        save_quantized(quantize(fine_tuned.model, batches, fine_tuned.ctx), target)

    return cached_file(path, build, 'int8 calibration into {}'.format(path))


def load_predictor(folder, runtime: str = 'mxnet', precision: str = 'fp32', threads: Optional[int] = None,
                   cachedir=None, device=None, calibration=None, table_overrides=None,
                   encoding: str = 'utf-8') -> FineTunedModel:
    """A fine-tuned model (folder, run folder or shipped name) that predicts with ``runtime`` at ``precision``;
    ``device`` (``'cpu'``, ``'gpu'``, ``'gpu:1'``; several: the first) is where the Gluon model computes (the mxnet
    runtime only: onnxruntime and OpenVINO run on the CPU here). ``calibration``: for ``mxnet`` at ``int8``, a file of
    the task's rows (read as ``predict --input`` reads it, with ``table_overrides`` such as ``text_columns``)."""
    chosen = runtime_for(runtime, precision)  # before loading anything
    contexts = parse_devices(device)
    if chosen.runner is not None and contexts[0].device_type != 'cpu':
        raise InputError('--device {} applies to --runtime mxnet; {} runs on the CPU here'.format(device, runtime))
    if calibration is not None and (chosen.runner is not None or precision != 'int8'):
        raise InputError('--calibration applies to --runtime mxnet --precision int8 (onnxruntime and openvino '
                         'quantize without it)')
    if chosen.runner is None:
        check_precision(precision, contexts[0])
        if precision == 'int8' and calibration is None:
            raise InputError('--runtime mxnet --precision int8 is calibrated on rows of the task\'s data: pass '
                             '--calibration FILE (the dev split, or a few hundred training rows)')
    # an ONNX runtime computes the forward pass: the Gluon graph is only exported, so it is not partitioned first
    fine_tuned = FineTunedModel.load(folder, ctx=contexts[0], fused=chosen.runner is None)
    if chosen.runner is None:  # the Gluon model computes itself
        if precision == 'bf16':
            fine_tuned.run_forward_with(to_bfloat16(fine_tuned.model, fine_tuned.ctx))
            fine_tuned.graph = 'oneDNN-fused graph, dense layers in bfloat16'
        elif precision == 'int8':
            path = cached_int8_graph(fine_tuned, calibration, cachedir, table_overrides, encoding)
            fine_tuned.run_forward_with(load_quantized(path, fine_tuned.ctx))
            fine_tuned.graph = 'oneDNN int8 graph calibrated on {}'.format(calibration)
        return fine_tuned
    inference = InferenceModel(cached_onnx(fine_tuned, cachedir), runtime=runtime, precision=precision,
                               threads=threads, max_length=fine_tuned.max_seq_length)
    fine_tuned.run_forward_with(RuntimeForward(inference, fine_tuned.model))
    fine_tuned.graph = '{} at {} on {}'.format(runtime, precision, inference.path if hasattr(inference, 'path')
                                               else 'its ONNX export')
    return fine_tuned
