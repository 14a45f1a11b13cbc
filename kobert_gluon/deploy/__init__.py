"""Deployment: exported models run by onnxruntime or OpenVINO (``runtime``: :class:`InferenceModel`), and fine-tuned
model folders predicting through them (``predictor``: the ONNX file exported once per folder and cached)."""
