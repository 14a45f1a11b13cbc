"""The original KoBERT Gluon API (``get_mxnet_kobert_model``, ``get_kobert_model``, ``download``,
``get_onnx_kobert_model``), so code written for it runs with only its import line changed.
"""
