"""kobert-mini and kobert-mini-nsmc ship inside the package and work with no download."""
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import FineTunedModel, KoBERTTokenizer, get_model, list_models
from kobert_gluon.cli import main
from kobert_gluon.models.zoo import SHIPPED_MODELS_DIR

from .conftest import require_shared

SHIPPED = ('kobert-mini', 'kobert-mini-nsmc')
pytestmark = pytest.mark.skipif(
    not all((SHIPPED_MODELS_DIR / name / 'config.json').is_file() for name in SHIPPED),
    reason='the shipped models are not in {} (made by recipes/kobert_mini.sh --package)'.format(SHIPPED_MODELS_DIR))


@pytest.fixture(autouse=True)
def no_artifacts(tmp_path, monkeypatch):
    """Nothing from the artifact store: the shipped models must not need it."""
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(tmp_path / 'no-mirror'))


def test_registered_after_the_families_models():
    names = list_models()
    assert names[0] == 'kobert-base' and names[-2:] == ['kobert-mini', 'kobert-mini-nsmc']
    assert {'distilkobert', 'koelectra-small-v3', 'xlm-roberta-base'} <= set(names)
    assert list_models('kobert-mini*') == ['kobert-mini', 'kobert-mini-nsmc']


def test_both_fit_the_size_budget_and_have_model_cards():
    total = sum(p.stat().st_size for name in SHIPPED for p in (SHIPPED_MODELS_DIR / name).iterdir())
    assert total <= 15e6
    for name in SHIPPED:
        card = (SHIPPED_MODELS_DIR / name / 'MODEL_CARD.md').read_text(encoding='utf-8')
        assert card.startswith('# ' + name) and 'recipes/kobert_mini.sh' in card and 'wall time' in card
    assert 'test accuracy' in (SHIPPED_MODELS_DIR / 'kobert-mini-nsmc' / 'MODEL_CARD.md').read_text(encoding='utf-8')


def test_kobert_mini_is_a_pretrained_bert_with_its_heads():
    model, vocab = get_model('kobert-mini')
    config = model.kobert_config
    assert (config.num_layers, config.units, config.num_heads, config.hidden_size) == (4, 192, 3, 768)
    assert len(vocab) == 8002 and [vocab[t] for t in ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')] == [0, 1, 2, 3, 4]
    random_model, _ = get_model('kobert-mini', pretrained=False)  # same architecture and vocab, random weights
    assert random_model.kobert_config == config
    tok = KoBERTTokenizer.from_pretrained('kobert-mini')
    sentences = ['이 영화 정말 재밌어요 배우들 연기도 좋고', '스토리가 너무 지루하고 재미없다', '최고의 영화 강력 추천합니다',
                 '시간 가는 줄 모르고 봤네요', '돈이 아까운 영화였다']

    def recovered(bert):
        # Mask each real token in turn: a pretrained masked LM recovers a good share, a random one none.
        hits = total = 0
        for text in sentences:
            ids, valid_length, types = tok.encode(text, max_seq_length=32)
            n = int(valid_length)
            for position in range(1, n - 1):
                masked = ids.copy()
                masked[position] = vocab['[MASK]']
                outputs = bert(mx.nd.array(masked[None]), mx.nd.array(types[None]), mx.nd.array([n]),
                               mx.nd.array([[position]]))
                hits += int(outputs[-1].asnumpy()[0, 0].argmax() == ids[position])
                total += 1
        return hits / total
    pretrained_share, random_share = recovered(model), recovered(random_model)
    assert pretrained_share >= 0.2 and random_share <= 0.05, (pretrained_share, random_share)


def test_kobert_mini_nsmc_predicts_sentiment():
    model = FineTunedModel.load('kobert-mini-nsmc')
    assert model.label_names == ['negative', 'positive']
    probabilities = np.asarray(model.predict(['이 영화 정말 재밌어요', '최악의 영화 시간 아까움']))
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities[0, 1] > 0.5 > probabilities[1, 1]


def test_predict_command_on_the_shipped_model(capsys):
    assert main(['predict', '--model', 'kobert-mini-nsmc', '이 영화 정말 재밌어요', '최악의 영화']) == 0
    rows = [line.split('\t') for line in capsys.readouterr().out.splitlines()]
    assert rows[0][:2] == ['text', 'label'] and [r[1] for r in rows[1:]] == ['positive', 'negative']


def test_accuracy_on_a_slice_of_nsmc_test():
    path = require_shared('nsmc', 'ratings_test.txt')
    metrics = FineTunedModel.load('kobert-mini-nsmc').evaluate(str(path), max_rows=1000)
    assert metrics['accuracy'] > 0.83, metrics
