"""The distilbert architecture (DistilKoBERT): what every family passes (tests/family_tests.py), its shape, its
masked-LM head and sinusoidal positions against transformers itself (models transformers creates, every tensor
random)."""
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.convert.huggingface import import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.hub.artifact_store import ArtifactNotFoundError
from kobert_gluon.models.distilbert import DISTILKOBERT_CONFIG
from kobert_gluon.models.distilbert.model import sinusoidal_table

from .family_checks import DISTILBERT, MASKED, TOLERANCE, max_error, valid
from .family_checks import quiet_transformers  # noqa: F401  (autouse)
from .family_tests import FamilyTests

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

_hf_model, _torch_outputs, _gluon_inputs = DISTILBERT.hf_model, DISTILBERT.torch_outputs, DISTILBERT.gluon_inputs


class TestDistilBert(FamilyTests):
    family = DISTILBERT


def test_distilkobert_has_the_published_shape(kobert_store):
    assert DISTILKOBERT_CONFIG.num_parameters() == 27_803_904  # DistilKoBERT without heads
    model, vocab = get_model('distilkobert', pretrained=False, use_pooler=False)
    ids = mx.nd.array([[2, 100, 3]])
    sequence = model(ids, mx.nd.zeros_like(ids), mx.nd.array([3]))
    assert sequence.shape == (1, 3, 768) and len(vocab) == 8002
    assert sum(p.data().size for p in model.collect_params().values()) == 27_803_904
    # the weights are the transformers checkpoint, fetched and converted on first use; offline and never fetched,
    # the error says where to get it and what to run then
    with pytest.raises(ArtifactNotFoundError, match='(?s)distilkobert is the transformers checkpoint monologg/distilkobert'
                                                    '.*hf download monologg/distilkobert.*import-hf DIR'):
        get_model('distilkobert')


def test_masked_lm_head_in_and_out(tmp_path):
    hf, folder = _hf_model('DistilBertForMaskedLM', tmp_path)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    _, mlm = model(*_gluon_inputs(), mx.nd.array(MASKED))
    logits = _torch_outputs(hf).logits.numpy()
    assert max_error(mlm.asnumpy(), logits[np.arange(2)[:, None], MASKED]) < TOLERANCE
    DISTILBERT.check_export(folder, tmp_path / 'gluon', 'DistilBertForMaskedLM', tmp_path, logits, subset=True)


def test_sinusoidal_positions_and_unknown_tensors(tmp_path):
    hf, folder = _hf_model('DistilBertModel', tmp_path, sinusoidal_pos_embds=True)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    assert max_error(valid(model(*_gluon_inputs()).asnumpy()),
                     valid(_torch_outputs(hf).last_hidden_state.numpy())) < TOLERANCE
    fresh, _ = get_model(str(tmp_path / 'gluon'), pretrained=False)
    np.testing.assert_allclose(fresh.encoder.position_weight.data().asnumpy(), sinusoidal_table(64, 48), atol=1e-6)
    assert fresh.encoder.position_weight.grad_req == 'null'

    from safetensors.numpy import load_file, save_file
    tensors = load_file(str(folder / 'model.safetensors'))
    tensors['transformer.layer.5.ffn.lin1.weight'] = tensors['transformer.layer.0.ffn.lin1.weight']
    save_file(tensors, str(folder / 'model.safetensors'))
    with pytest.raises(InputError, match='transformer.layer.5.ffn.lin1.weight'):
        import_hf(folder, tmp_path / 'bad')
    assert not (tmp_path / 'bad').exists()
