"""Conversion to and from other frameworks' checkpoints: Hugging Face transformers (``import_hf``, ``export_hf``),
with the tensor-name tables in :mod:`.name_maps` as the only place that knows both naming schemes."""
