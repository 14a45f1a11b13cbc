"""Verified caches (``core.cache_entries``): the ONNX export and the int8 files a runtime builds are checked at every
use; a damaged entry is moved aside and built again, and two builders at once each work in a private folder. Runs on
the shipped kobert-mini-nsmc."""
import threading
from pathlib import Path

import numpy as np
import pytest

import kobert_gluon

from .conftest import README_REVIEWS


# ----- ONNX exports and int8 files --------------------------------------------------------------------------------------------
def _cached_entries(cache: Path):
    return sorted((cache / 'onnx').glob('*/model.onnx'))


def test_a_damaged_onnx_cache_entry_is_moved_aside_and_rebuilt(tmp_path, monkeypatch, caplog):
    pytest.importorskip('onnxruntime')
    from kobert_gluon.deploy.predictor import load_predictor
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'cache'))
    reference = kobert_gluon.FineTunedModel.load('kobert-mini-nsmc').predict(README_REVIEWS)
    first = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(first, reference, atol=1e-4)
    [entry] = _cached_entries(tmp_path / 'cache')
    data = bytearray(entry.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 4096):  # flip bytes inside the weights
        data[i] ^= 0xFF
    entry.write_bytes(bytes(data))
    again = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(again, reference, atol=1e-4)  # the flipped file was never run
    assert 'damaged' in caplog.text and 'building it again' in caplog.text
    assert len(list(entry.parent.glob('model.onnx.corrupt-*'))) == 1
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated
    third = load_predictor('kobert-mini-nsmc', runtime='onnxruntime').predict(README_REVIEWS)
    np.testing.assert_allclose(third, reference, atol=1e-4)


def test_int8_files_are_verified_rebuilt_with_their_source_and_built_in_private_folders(tmp_path, monkeypatch,
                                                                                        caplog):
    pytest.importorskip('onnxruntime')
    from kobert_gluon.deploy.predictor import cached_onnx
    from kobert_gluon.deploy.runtime import DYNAMIC, STATIC_QDQ, InferenceModel, _quantize
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path / 'cache'))
    onnx_path = cached_onnx(kobert_gluon.FineTunedModel.load('kobert-mini-nsmc'))
    # two builders at once (dynamic for onnxruntime, QDQ for OpenVINO): onnxruntime's quantizer writes
    # '<input>-inferred.onnx' beside its input, so each reads its own private link to the export
    errors = []

    def build(method):
        try:
            _quantize(onnx_path, method)
        except Exception as err:  # noqa: BLE001 -- reported below
            errors.append(err)
    threads = [threading.Thread(target=build, args=(method,)) for method in (DYNAMIC, STATIC_QDQ)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    names = sorted(p.name for p in onnx_path.parent.iterdir())
    assert names == ['model.int8.onnx', 'model.int8.onnx.sha256.json', 'model.onnx', 'model.onnx.sha256.json',
                     'model.qdq-int8.onnx', 'model.qdq-int8.onnx.sha256.json']
    int8 = onnx_path.with_name('model.int8.onnx')
    good = InferenceModel(onnx_path, precision='int8')(np.array([[2, 100, 3]]), np.zeros((1, 3), 'int64'),
                                                       np.array([3]))
    int8.write_bytes(int8.read_bytes()[:5000])  # truncated: a protobuf traceback on every run before
    again = InferenceModel(onnx_path, precision='int8')(np.array([[2, 100, 3]]), np.zeros((1, 3), 'int64'),
                                                        np.array([3]))
    assert all(np.allclose(good[name], again[name]) for name in good)
    assert 'int8.onnx' in caplog.text and 'building it again' in caplog.text
