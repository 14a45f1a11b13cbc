"""Conversion to and from other frameworks' checkpoints: Hugging Face transformers (``import_hf``, ``export_hf``),
with the tensor-name tables in each family folder (``kobert_gluon/models/<family>/transformers.py``)."""
