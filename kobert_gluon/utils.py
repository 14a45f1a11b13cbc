"""``kobert.utils`` of the original KoBERT package (v0.1): ``get_tokenizer`` (the SentencePiece model's path),
``get_onnx`` (the ONNX file's path; ``get_onnx_kobert_model`` since v0.2) and ``download``."""
from .compat.kobert import download, get_onnx_kobert_model as get_onnx
from .tokenizers.sentencepiece import get_tokenizer, get_tokenizer_path

__all__ = ['download', 'get_onnx', 'get_tokenizer', 'get_tokenizer_path']
