"""Output heads over a backbone, and their registry.

A backbone is any block ``backbone(input_ids, token_type_ids, valid_length) -> (sequence_output, pooled_output)``
(``pooled_output`` may be None for an architecture without a pooler). A head describes itself as plain data
(``task_config()``, saved in a model folder's ``config.json``); :mod:`.registry` maps the saved ``kind`` back to
the code that rebuilds it; ``output_name`` is what an ONNX export calls its output. This layer knows nothing of
model folders or architectures.

* :mod:`.sequence` -- over the pooled output: classifier, regressor;
* :mod:`.token` -- over every position: token classifier, answer-span extractor.
"""
from .sequence import SequenceClassifier, SequenceRegressor  # noqa: E402,F401  (kobert_gluon.heads in 0.1)
