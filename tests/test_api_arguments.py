"""The Python API checks what it is given: one clear InputError for a wrong argument type (a bare string where texts
are expected, None or a number for a model, a device name it does not know), and named devices where it takes
contexts. Runs on the shipped models."""
import pytest

import kobert_gluon
from kobert_gluon.core.errors import InputError


# ----- argument types ---------------------------------------------------------------------------------------------
def test_predict_refuses_one_bare_string():
    model = kobert_gluon.FineTunedModel.load('kobert-mini-nsmc')
    with pytest.raises(InputError, match=r'predict\(\[text\]\)'):
        model.predict('정말 재밌어요')
    assert model.predict(['정말 재밌어요']).shape == (1, 2)


@pytest.mark.parametrize('call', [
    lambda: kobert_gluon.get_model(None), lambda: kobert_gluon.get_model(42), lambda: kobert_gluon.get_model(''),
    lambda: kobert_gluon.get_model('kobert-mini', dropout='0.1'), lambda: kobert_gluon.get_model('kobert-mini', ctx='tpu'),
    lambda: kobert_gluon.load_tokenizer(None), lambda: kobert_gluon.import_hf(None, 'out')])
def test_wrong_argument_types_are_one_clear_input_error(call):
    with pytest.raises(InputError) as caught:
        call()
    assert '\n' not in str(caught.value) and len(str(caught.value)) > 30


def test_ctx_may_be_named():
    import mxnet as mx
    model, _ = kobert_gluon.get_model('kobert-mini', ctx='cpu')
    assert model.collect_params().list_ctx() == [mx.cpu(0)]
