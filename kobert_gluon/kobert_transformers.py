"""The ``kobert_transformers`` package of DistilKoBERT's README (``pip install kobert-transformers``):
``get_kobert_model``, ``get_distilkobert_model`` and ``get_tokenizer`` with the same calls and results."""
from .compat.distilkobert import get_distilkobert_model, get_kobert_model, get_tokenizer

__all__ = ['get_kobert_model', 'get_distilkobert_model', 'get_tokenizer']
