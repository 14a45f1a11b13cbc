"""``kobert.onnx_kobert`` of the original KoBERT package: ``get_onnx_kobert_model()`` is the path of an ONNX file
with the original inputs (``input_ids``, ``token_type_ids``, ``input_mask``, ``position_ids``)."""
from .compat.kobert import get_onnx_kobert_model

__all__ = ['get_onnx_kobert_model']
