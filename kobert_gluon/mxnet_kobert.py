"""``kobert.mxnet_kobert`` of the original KoBERT package: ``from kobert_gluon.mxnet_kobert import
get_mxnet_kobert_model`` runs code written for it unchanged."""
from .compat.kobert import get_mxnet_kobert_model

__all__ = ['get_mxnet_kobert_model']
