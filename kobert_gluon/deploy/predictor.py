"""Fine-tuned model folders predicting through an ONNX runtime.

``load_predictor(folder, runtime, precision)`` gives the same :class:`~kobert_gluon.tasks.finetuning.FineTunedModel`
that ``predict`` and ``evaluate`` use with MXNet (same tokenizer, batches, task kind, output columns), with its
forward pass handed to an :class:`~.runtime.InferenceModel`. The ONNX file is exported once per model and kept in
the cache (``$KOBERT_GLUON_HOME/onnx/<key>/model.onnx``, with its SHA-256 recorded and checked at every use), keyed by the SHA-256 of the folder's ``config.json`` and
``model.params``: a retrained model gets a new file, the same model never exports twice. (Not inside the model folder:
its files are checksummed as a whole, and a shipped model's folder may be read-only.)
"""
import hashlib
from pathlib import Path
from typing import Optional

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import mxnet as mx

from ..core.cache_entries import cached_file
from ..core.devices import parse_devices
from ..core.errors import InputError
from ..core.owned_folders import read_marker, sha256_of
from ..export.onnx_export import export_onnx
from ..hub.artifact_store import cache_root
from ..tasks.finetuning import FineTunedModel
from .runtime import InferenceModel, runtime_for

__all__ = ['load_predictor', 'cached_onnx', 'RuntimeForward']
ONNX_FOLDER = 'onnx'


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

    def __init__(self, inference: InferenceModel):
        self.inference = inference
        self.output_name = inference.output_names[0]

    def __call__(self, input_ids, token_type_ids, valid_length):
        outputs = self.inference(input_ids.asnumpy(), token_type_ids.asnumpy(), valid_length.asnumpy())
        return mx.nd.array(outputs[self.output_name])


def load_predictor(folder, runtime: str = 'mxnet', precision: str = 'fp32', threads: Optional[int] = None,
                   cachedir=None, device=None) -> FineTunedModel:
    """A fine-tuned model (folder, run folder or shipped name) that predicts with ``runtime`` at ``precision``;
    ``device`` (``'cpu'``, ``'gpu'``, ``'gpu:1'``; several: the first) is where the Gluon model computes (the mxnet
    runtime only: onnxruntime and OpenVINO run on the CPU here)."""
    chosen = runtime_for(runtime, precision)  # before loading anything
    contexts = parse_devices(device)
    if chosen.runner is not None and contexts[0].device_type != 'cpu':
        raise InputError('--device {} applies to --runtime mxnet; {} runs on the CPU here'.format(device, runtime))
    fine_tuned = FineTunedModel.load(folder, ctx=contexts[0])
    if chosen.runner is None:  # the Gluon model computes itself
        return fine_tuned
    inference = InferenceModel(cached_onnx(fine_tuned, cachedir), runtime=runtime, precision=precision,
                               threads=threads, max_length=fine_tuned.max_seq_length)
    fine_tuned.run_forward_with(RuntimeForward(inference))
    return fine_tuned
