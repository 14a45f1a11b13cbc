"""Export to other runtimes: ONNX export of hybridized models (onnx and onnxruntime are loaded on use) and
parity checks between MXNet and onnxruntime.
"""
