"""The distilbert architecture (DistilKoBERT): its shape, and conversion both ways against transformers itself
(models transformers creates, every tensor random), as tests/test_convert.py does for BERT."""
import json

import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.hub.artifact_store import ArtifactNotFoundError
from kobert_gluon.deploy.runtime import InferenceModel
from kobert_gluon.export.onnx_export import export_onnx
from kobert_gluon.models.distilbert import DISTILKOBERT_CONFIG
from kobert_gluon.models.distilbert.model import sinusoidal_table

from .conftest import run_cli
from .test_convert import IDS, LENGTHS, MASKED, TOLERANCE, _max_error, _params, _perturbed, _valid, \
    _with_tokenizer_files

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

SMALL = dict(vocab_size=8002, dim=48, n_layers=2, n_heads=4, hidden_dim=96, max_position_embeddings=64,
             pad_token_id=1)


def _hf_model(architecture, tmp_path, **config):
    model = _perturbed(getattr(transformers, architecture)(transformers.DistilBertConfig(**{**SMALL, **config})))
    folder = tmp_path / architecture
    model.save_pretrained(folder)
    _with_tokenizer_files(folder)
    return model, folder


def _same_tensors(original, exported) -> bool:
    """Every tensor export-hf wrote is bit-identical to the one transformers saved under that name."""
    from safetensors.numpy import load_file
    first, second = load_file(str(original / 'model.safetensors')), load_file(str(exported / 'model.safetensors'))
    return set(second) <= set(first) and all(np.array_equal(first[name], second[name]) for name in second)


def _torch_outputs(model):
    mask = (np.arange(IDS.shape[1])[None] < LENGTHS[:, None]).astype('int64')
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(mask))


def _gluon_inputs():
    return mx.nd.array(IDS), mx.nd.zeros(IDS.shape), mx.nd.array(LENGTHS)


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


def test_distilbert_model_in_and_out(tmp_path, capsys):
    hf, folder = _hf_model('DistilBertModel', tmp_path)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'gluon')
    assert code == 0, err
    model, _ = get_model(str(tmp_path / 'gluon'))
    sequence = model(*_gluon_inputs())
    expected = _torch_outputs(hf).last_hidden_state.numpy()
    assert _max_error(_valid(sequence.asnumpy()), _valid(expected)) < TOLERANCE
    config = json.loads((tmp_path / 'gluon' / 'config.json').read_text())
    assert config['architecture'] == 'distilbert' and config['converted_from']['architecture'] == 'DistilBertModel'

    back = export_hf(tmp_path / 'gluon', tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.DistilBertModel.from_pretrained(back).eval()
    assert _max_error(_torch_outputs(again).last_hidden_state.numpy(), expected) < 1e-6
    import_hf(back, tmp_path / 'gluon2')
    first, second = _params(tmp_path / 'gluon'), _params(tmp_path / 'gluon2')
    assert first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


def test_masked_lm_head_in_and_out(tmp_path):
    hf, folder = _hf_model('DistilBertForMaskedLM', tmp_path)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    _, mlm = model(*_gluon_inputs(), mx.nd.array(MASKED))
    logits = _torch_outputs(hf).logits.numpy()
    assert _max_error(mlm.asnumpy(), logits[np.arange(2)[:, None], MASKED]) < TOLERANCE
    back = export_hf(tmp_path / 'gluon', tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.DistilBertForMaskedLM.from_pretrained(back)
    assert _max_error(_torch_outputs(again.eval()).logits.numpy(), logits) < 1e-6


@pytest.mark.parametrize('num_labels', [3, 1])
def test_sequence_classifier_and_regressor_in_and_out(tmp_path, capsys, num_labels):
    labels = {0: 'neg', 1: 'neutral', 2: 'pos'} if num_labels == 3 else {0: 'score'}
    hf, folder = _hf_model('DistilBertForSequenceClassification', tmp_path, num_labels=num_labels, id2label=labels,
                           label2id={v: k for k, v in labels.items()})
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = get_model(str(out))
    got = model(*_gluon_inputs()).asnumpy()
    expected = _torch_outputs(hf).logits.numpy()
    assert _max_error(got.reshape(expected.shape), expected) < TOLERANCE
    if num_labels == 3:  # the imported classifier predicts from the CLI as is
        code, printed, err = run_cli(capsys, 'predict', '--model', out, '좋아요')
        assert code == 0 and printed.splitlines()[0].split('\t') == ['text', 'label', 'p_neg', 'p_neutral', 'p_pos']
    back = export_hf(out, tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.DistilBertForSequenceClassification.from_pretrained(back).eval()
    assert _max_error(_torch_outputs(again).logits.numpy(), expected) < 1e-6  # same weights; torch's thread order
    assert again.config.num_labels == num_labels


def test_sinusoidal_positions_and_unknown_tensors(tmp_path):
    hf, folder = _hf_model('DistilBertModel', tmp_path, sinusoidal_pos_embds=True)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    assert _max_error(_valid(model(*_gluon_inputs()).asnumpy()),
                      _valid(_torch_outputs(hf).last_hidden_state.numpy())) < TOLERANCE
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


def test_distilbert_classifier_exports_to_onnx_and_runs(tmp_path):
    _, folder = _hf_model('DistilBertForSequenceClassification', tmp_path, num_labels=2)
    model, _ = get_model(str(import_hf(folder, tmp_path / 'gluon')))
    path = export_onnx(model, tmp_path / 'distil.onnx')
    inference = InferenceModel(path, threads=1)
    got = inference(IDS, np.zeros_like(IDS), LENGTHS)['logits']
    assert _max_error(got, model(*_gluon_inputs()).asnumpy()) < TOLERANCE


def test_an_imported_distilbert_fine_tunes_predicts_and_deploys(tmp_path, capsys):
    """The imported backbone has no pre-classifier (transformers keeps it in the head): fine-tuning makes one, learns
    the toy task, and the result predicts through MXNet and onnxruntime alike and exports back to transformers."""
    from kobert_gluon import FinetuneSettings, TrainingConfig, finetune
    from .test_finetune import write_reviews
    folder = tmp_path / 'hf'  # transformers' own initialisation (the perturbed weights above do not train well)
    torch.manual_seed(0)
    transformers.DistilBertModel(transformers.DistilBertConfig(**SMALL)).save_pretrained(folder)
    _with_tokenizer_files(folder)
    backbone = import_hf(folder, tmp_path / 'gluon')
    train, dev = write_reviews(tmp_path / 'train.tsv'), write_reviews(tmp_path / 'dev.tsv', rows=20, held_out=True)
    settings = FinetuneSettings(task='nsmc', train=str(train), dev=str(dev), model=str(backbone), max_seq_length=24,
                                batch_size=8, training=TrainingConfig(epochs=3, learning_rate=2e-3, progress=False))
    result = finetune(settings, tmp_path / 'run')
    assert result.best['value'] >= 0.9  # dev accuracy on the toy reviews
    rows = [line.split('\t') for line in dev.read_text(encoding='utf-8').splitlines()[1:]]
    texts, gold = [row[1] for row in rows], ['positive' if row[2] == '1' else 'negative' for row in rows]
    code, by_mxnet, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', *texts)
    assert code == 0, err
    code, by_onnx, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', '--runtime', 'onnxruntime', *texts)
    assert code == 0, err
    labels = [line.split('\t')[1] for line in by_mxnet.splitlines()[1:]]
    assert labels == [line.split('\t')[1] for line in by_onnx.splitlines()[1:]]
    assert sum(a == b for a, b in zip(labels, gold)) >= 0.9 * len(gold)
    back = export_hf(tmp_path / 'run' / 'best', tmp_path / 'back')
    assert transformers.AutoModelForSequenceClassification.from_pretrained(back).config.model_type == 'distilbert'
