"""The heads over every position against transformers: ``*ForTokenClassification`` and ``*ForQuestionAnswering`` of
BERT, DistilBERT and ELECTRA, created by transformers itself (tiny, every tensor random), imported and run in Gluon;
Gluon token and span models exported and run in transformers; and the imported folders predicting entities and
answers as fine-tuned models, with the label names of ``id2label``."""
import json

import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.heads.token import SpanExtractor, TokenClassifier
from kobert_gluon.models.folder import save_model
from kobert_gluon.models.zoo import load_tokenizer
from kobert_gluon.tasks.datasets import TaskSpec
from kobert_gluon.tasks.finetuning import FineTunedModel, build_task_model
from kobert_gluon.tasks.tagging import Entity

from .conftest import error_line, run_cli
from .family_checks import FAMILIES, IDS, TOLERANCE, max_error, same_params, same_tensors, valid
from .family_checks import quiet_transformers  # noqa: F401  (autouse)

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')
from safetensors.numpy import load_file, save_file  # noqa: E402

BIO = ['O', 'B-PS', 'I-PS', 'B-LC', 'I-LC']
ID2LABEL = dict(enumerate(BIO))
LABEL2ID = {label: i for i, label in enumerate(BIO)}
# the Gluon encoders' shape for the models made here (the transformers configs above, in Gluon's names)
GLUON_TINY = dict(num_layers=2, units=48, hidden_size=96, num_heads=4, max_length=64)


def _class(family, head):
    return getattr(transformers, FAMILIES[family].prefix + head)


def _hf_model(family, head, tmp_path, seed=0, **config):
    """A transformers ``<Family><head>`` of the family's tiny shape, every tensor random, saved with the tokenizer
    files; ``(model, folder)``."""
    return FAMILIES[family].hf_model(FAMILIES[family].prefix + head, tmp_path, seed, **config)


def _torch_outputs(model, family):
    return FAMILIES[family].torch_outputs(model)


def _gluon_inputs(family):
    return FAMILIES[family].gluon_inputs()


# ----- transformers -> Gluon -> transformers ----------------------------------------------------------------------
@pytest.mark.parametrize('family', list(FAMILIES))
def test_token_classifier_in_and_out(family, tmp_path):
    # the head's own dropout; DistilBERT's token head has none of its own (it uses the encoder's, 0.1)
    dropout = {} if family == 'distilbert' else {'classifier_dropout': 0.2}
    hf, folder = _hf_model(family, 'ForTokenClassification', tmp_path, num_labels=len(BIO), id2label=ID2LABEL,
                           label2id=LABEL2ID, **dropout)
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = kobert_gluon.get_model(str(out))
    assert isinstance(model, TokenClassifier) and model.labels == BIO
    assert model.dropout_rate == (0.1 if family == 'distilbert' else 0.2)
    got = model(*_gluon_inputs(family)).asnumpy()
    expected = _torch_outputs(hf, family).logits.numpy()
    assert got.shape == expected.shape == IDS.shape + (len(BIO),)
    assert max_error(valid(got), valid(expected)) < TOLERANCE
    finetuning = json.loads((out / 'config.json').read_text())['finetuning']
    assert finetuning['labels'] == BIO and finetuning['max_seq_length'] == 64
    assert finetuning['task']['kind'] == 'token_classification' and finetuning['task']['metric'] == 'entity_f1'

    back = export_hf(out, tmp_path / 'back')
    assert same_tensors(folder, back, **FAMILIES[family].export_rules)
    config = json.loads((back / 'config.json').read_text())
    assert config['architectures'] == [FAMILIES[family].prefix + 'ForTokenClassification']
    assert config['id2label'] == {str(i): label for i, label in enumerate(BIO)}
    again = _class(family, 'ForTokenClassification').from_pretrained(back).eval()
    assert again.config.id2label == ID2LABEL and again.config.num_labels == len(BIO)
    assert max_error(_torch_outputs(again, family).logits.numpy(), expected) == 0.0
    import_hf(back, tmp_path / 'gluon2')
    assert same_params(out, tmp_path / 'gluon2')


@pytest.mark.parametrize('family', list(FAMILIES))
def test_span_extractor_in_and_out(family, tmp_path):
    hf, folder = _hf_model(family, 'ForQuestionAnswering', tmp_path)
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = kobert_gluon.get_model(str(out))
    assert isinstance(model, SpanExtractor)
    got = model(*_gluon_inputs(family)).asnumpy()
    expected = _torch_outputs(hf, family)
    assert got.shape == IDS.shape + (2,)
    assert max_error(valid(got[..., 0]), valid(expected.start_logits.numpy())) < TOLERANCE
    assert max_error(valid(got[..., 1]), valid(expected.end_logits.numpy())) < TOLERANCE
    finetuning = json.loads((out / 'config.json').read_text())['finetuning']
    assert finetuning['labels'] is None and finetuning['task']['kind'] == 'extractive_qa'
    assert finetuning['task']['data_format'] == 'squad' and finetuning['task']['metric'] == 'f1'

    back = export_hf(out, tmp_path / 'back')
    assert same_tensors(folder, back, **FAMILIES[family].export_rules)
    again = _class(family, 'ForQuestionAnswering').from_pretrained(back).eval()
    outputs = _torch_outputs(again, family)
    assert max_error(outputs.start_logits.numpy(), expected.start_logits.numpy()) == 0.0
    assert max_error(outputs.end_logits.numpy(), expected.end_logits.numpy()) == 0.0
    import_hf(back, tmp_path / 'gluon2')
    assert same_params(out, tmp_path / 'gluon2')


# ----- Gluon -> transformers ----------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def backbone_sources(tmp_path_factory):
    """What build_task_model starts from, per family (made once for the module's tests): kobert-mini's BERT; for the
    others a folder of that family (imported from a transformers model; the weights do not matter, the head model is
    built from scratch on it). ``family -> (model argument, overrides)``."""
    made = {}

    def source(family):
        if family == 'bert':
            return 'kobert-mini', GLUON_TINY
        if family not in made:
            described, folder = FAMILIES[family], tmp_path_factory.mktemp(family + '-backbone')
            model = getattr(transformers, described.prefix + 'Model')(
                getattr(transformers, described.config_class)(**described.small))
            model.save_pretrained(folder / 'hf')
            described.tokenizer_files(folder / 'hf')
            made[family] = str(import_hf(folder / 'hf', folder / 'gluon')), {}
        return made[family]
    return source


def _perturbed_gluon(model, family, seed=0):
    """Every Gluon parameter random (fresh LayerNorms are 1/0 and biases 0: a swapped name would not show)."""
    model(*_gluon_inputs(family))  # a new head's Dense learns its input width at the first forward pass
    state = np.random.RandomState(seed)
    for param in model.collect_params().values():
        param.set_data(mx.nd.array(state.normal(0.0, 0.05, param.shape), dtype='float32'))
    return model


@pytest.mark.parametrize('family', list(FAMILIES))
@pytest.mark.parametrize('kind', ['token_classification', 'extractive_qa'])
def test_gluon_token_heads_export_to_transformers(family, kind, tmp_path, backbone_sources):
    source, overrides = backbone_sources(family)
    labels = BIO if kind == 'token_classification' else []
    spec = TaskSpec(name='tiny', kind=kind, metric='entity_f1' if labels else 'f1', table=None,
                    data_format='klue' if labels else 'squad')
    model, vocab = build_task_model(spec, labels, model=source, from_scratch=True, model_overrides=overrides,
                                    dropout=0.3, seed=1)
    _perturbed_gluon(model, family, seed=1)
    folder = save_model(model, vocab, tmp_path / 'gluon', load_tokenizer(source))
    gluon = model(*_gluon_inputs(family)).asnumpy()

    back = export_hf(folder, tmp_path / 'back')
    config = json.loads((back / 'config.json').read_text())
    if kind == 'token_classification':
        again = _class(family, 'ForTokenClassification').from_pretrained(back).eval()
        assert again.config.id2label == ID2LABEL and again.config.label2id == LABEL2ID
        # the head's dropout goes where transformers reads it; DistilBERT's token head uses the encoder's dropout
        assert config['dropout' if family == 'distilbert' else 'classifier_dropout'] == 0.3
        expected = _torch_outputs(again, family).logits.numpy()
        assert max_error(valid(gluon), valid(expected)) < TOLERANCE
    else:
        again = _class(family, 'ForQuestionAnswering').from_pretrained(back).eval()
        assert config['num_labels'] == 2
        outputs = _torch_outputs(again, family)
        assert max_error(valid(gluon[..., 0]), valid(outputs.start_logits.numpy())) < TOLERANCE
        assert max_error(valid(gluon[..., 1]), valid(outputs.end_logits.numpy())) < TOLERANCE
    # and back into Gluon: the same parameters
    import_hf(back, tmp_path / 'gluon2')
    assert same_params(folder, tmp_path / 'gluon2')


# ----- an imported folder is a fine-tuned model ---------------------------------------------------------------------
@pytest.mark.parametrize('family', list(FAMILIES))
def test_imported_token_classifier_predicts_entities_with_its_labels(family, tmp_path, capsys):
    hf, folder = _hf_model(family, 'ForTokenClassification', tmp_path, num_labels=len(BIO),
                           id2label={i: label for i, label in enumerate(BIO)}, label2id=LABEL2ID)
    # a head that says B-PS for every piece: then every piece with characters is an entity of type PS
    with torch.no_grad():
        hf.classifier.weight.zero_()
        hf.classifier.bias.copy_(torch.tensor([0.0, 5.0, 0.0, 1.0, 0.0]))
    hf.save_pretrained(folder)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'gluon')
    assert code == 0, err
    finetuned = FineTunedModel.load(tmp_path / 'gluon')
    assert finetuned.label_names == BIO and finetuned.structure == 'tagged'
    texts = ['서울에서 홍길동을 만났다', '부산']
    entities, truncated = finetuned.predict_entities(texts)
    assert truncated == 0
    for text, found in zip(texts, entities):
        pieces = [span for span in finetuned.tokenizer.piece_offsets(text) if span.end > span.start]
        assert found == [Entity(span.start, span.end, 'PS') for span in pieces] and found


@pytest.mark.parametrize('family', list(FAMILIES))
def test_imported_span_extractor_predicts_answers(family, tmp_path):
    hf, folder = _hf_model(family, 'ForQuestionAnswering', tmp_path)
    # every position scores 0 as start and end: the best span is the context's first piece (the first of the ties)
    with torch.no_grad():
        hf.qa_outputs.weight.zero_()
        hf.qa_outputs.bias.zero_()
    hf.save_pretrained(folder)
    finetuned = FineTunedModel.load(import_hf(folder, tmp_path / 'gluon'))
    assert finetuned.structure == 'squad' and finetuned.label_names == ['start', 'end']
    context = '대한민국의 수도는 서울이다.'
    squad = tmp_path / 'questions.json'
    squad.write_text(json.dumps({'data': [{'title': 't', 'paragraphs': [{'context': context, 'qas': [
        {'id': 'q1', 'question': '대한민국의 수도는?', 'answers': []}]}]}]}, ensure_ascii=False), encoding='utf-8')
    first = next(span for span in finetuned.tokenizer.piece_offsets(context) if span.end > span.start)
    assert finetuned.predict_answers(str(squad)) == {'q1': context[first.start:first.end]}


# ----- what does not convert ----------------------------------------------------------------------------------------
def test_a_pre_4_0_checkpoint_with_its_unused_pooler_imports(tmp_path):
    """transformers before 4.0 saved BertForTokenClassification with a pooler nothing reads; it is left out."""
    hf, folder = _hf_model('bert', 'ForTokenClassification', tmp_path, num_labels=len(BIO), id2label=ID2LABEL,
                           label2id=LABEL2ID)
    tensors = load_file(str(folder / 'model.safetensors'))
    tensors['bert.pooler.dense.weight'] = np.ones((48, 48), dtype=np.float32)
    tensors['bert.pooler.dense.bias'] = np.ones(48, dtype=np.float32)
    save_file(tensors, str(folder / 'model.safetensors'), metadata={'format': 'pt'})
    model, _ = kobert_gluon.get_model(str(import_hf(folder, tmp_path / 'gluon')))
    assert json.loads((tmp_path / 'gluon' / 'config.json').read_text())['heads']['use_pooler'] is False
    expected = _torch_outputs(hf, 'bert').logits.numpy()
    assert max_error(valid(model(*_gluon_inputs('bert')).asnumpy()), valid(expected)) < TOLERANCE


def test_heads_that_do_not_fit_are_one_line_errors(tmp_path, capsys):
    # a question-answering head with three scores per position
    _, folder = _hf_model('bert', 'ForQuestionAnswering', tmp_path, num_labels=3)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'qa')
    assert code == 2 and 'qa_outputs gives 3 scores per position' in error_line(err, 'import-hf')
    # id2label with fewer labels than the classifier has rows
    _, folder = _hf_model('electra', 'ForTokenClassification', tmp_path, num_labels=len(BIO), id2label=ID2LABEL,
                          label2id=LABEL2ID)
    config = json.loads((folder / 'config.json').read_text())
    config['id2label'] = {'0': 'O', '1': 'B-PS', '2': 'I-PS'}
    (folder / 'config.json').write_text(json.dumps(config))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'ner')
    assert code == 2 and 'id2label says 3 labels, but the classifier\'s weight gives 5 scores' \
        in error_line(err, 'import-hf')
    # a transformers head this package has no Gluon counterpart for names the ones it reads
    _, folder = _hf_model('bert', 'ForMultipleChoice', tmp_path)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'mc')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'BertForMultipleChoice is not supported' in line
    assert 'BertForTokenClassification' in line and 'ElectraForQuestionAnswering' in line
    assert not any((tmp_path / name).exists() for name in ('qa', 'ner', 'mc'))
