"""Hugging Face checkpoints in and out, checked against transformers itself: models that transformers creates (random
weights, every tensor perturbed so a missed or swapped mapping shows), imported and run in Gluon, exported and run
in transformers again."""
import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon.convert.huggingface import export_hf, import_hf, to_transformers_bert_model
from kobert_gluon.core.errors import InputError
from kobert_gluon.models.zoo import model_folder_of

from .conftest import error_line, run_cli
from .family_checks import BERT, MASKED, TOLERANCE, max_error, valid
from .family_checks import quiet_transformers  # noqa: F401  (autouse)
from .family_tests import FamilyTests

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')
from safetensors.numpy import load_file, save_file  # noqa: E402

SMALL = BERT.small  # KoBERT's vocabulary and special ids, a small shape; [PAD] is id 1 as in KoBERT
_hf_model, _torch_outputs, _gluon_inputs = BERT.hf_model, BERT.torch_outputs, BERT.gluon_inputs


class TestBert(FamilyTests):
    family = BERT

    def test_the_pooler_and_the_vocabulary_come_along(self, base):
        _, pooled = base.model(*_gluon_inputs())
        vocab = base.tokenizer.vocab
        assert max_error(pooled.asnumpy(), _torch_outputs(base.hf).pooler_output.numpy()) < TOLERANCE
        # the tokenizer came along with transformers' ids (vocab.txt line numbers)
        lines = (base.hf_folder / 'vocab.txt').read_text(encoding='utf-8').splitlines()
        assert vocab.idx_to_token == lines and vocab['[PAD]'] == 1


def test_pretraining_heads_in_and_out(tmp_path):
    hf, folder = _hf_model('BertForPreTraining', tmp_path)
    model, _ = kobert_gluon.get_model(str(import_hf(folder, tmp_path / 'gluon')))
    _, _, nsp, mlm = model(*_gluon_inputs(), mx.nd.array(MASKED))
    expected = _torch_outputs(hf)
    mlm_expected = expected.prediction_logits.numpy()[np.arange(2)[:, None], MASKED]
    assert max_error(mlm.asnumpy(), mlm_expected) < TOLERANCE
    assert max_error(nsp.asnumpy(), expected.seq_relationship_logits.numpy()) < TOLERANCE
    again = transformers.BertForPreTraining.from_pretrained(export_hf(tmp_path / 'gluon', tmp_path / 'back')).eval()
    assert max_error(_torch_outputs(again).prediction_logits.numpy(), expected.prediction_logits.numpy()) == 0.0


def test_shipped_models_export_to_transformers(tmp_path):
    """Trained weights, not random ones: kobert-mini-nsmc's classifier and kobert-mini's MLM head."""
    finetuned = kobert_gluon.FineTunedModel.load('kobert-mini-nsmc')
    reviews = ['이 영화 정말 재밌어요', '최악의 영화']
    encoded = [finetuned.tokenizer.encode(text, max_seq_length=32) for text in reviews]
    ids = np.stack([e.input_ids for e in encoded]).astype('int64')
    lengths = np.array([int(e.valid_length) for e in encoded])
    mask = (np.arange(ids.shape[1])[None] < lengths[:, None]).astype('int64')
    logits = finetuned.model(mx.nd.array(ids), mx.nd.zeros(ids.shape), mx.nd.array(lengths)).asnumpy()
    hf = transformers.BertForSequenceClassification.from_pretrained(export_hf('kobert-mini-nsmc', tmp_path / 'nsmc'))
    with torch.no_grad():
        hf_logits = hf.eval()(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    assert max_error(logits, hf_logits) < TOLERANCE
    assert hf.config.id2label == {0: 'negative', 1: 'positive'}
    assert transformers.BertForPreTraining.from_pretrained(export_hf('kobert-mini', tmp_path / 'mini')).config \
        .num_hidden_layers == 4


def test_pytorch_model_bin_needs_no_safetensors(tmp_path):
    hf, folder = _hf_model('BertModel', tmp_path)
    torch.save(hf.state_dict(), folder / 'pytorch_model.bin')
    (folder / 'model.safetensors').unlink()
    model, _ = kobert_gluon.get_model(str(import_hf(folder, tmp_path / 'gluon')))
    assert max_error(model(*_gluon_inputs())[1].asnumpy(), _torch_outputs(hf).pooler_output.numpy()) < TOLERANCE


def test_missing_or_unknown_tensors_are_errors_and_nothing_is_written(tmp_path, capsys):
    _, folder = _hf_model('BertModel', tmp_path)
    tensors = load_file(str(folder / 'model.safetensors'))
    del tensors['encoder.layer.1.output.dense.bias']
    save_file(tensors, str(folder / 'model.safetensors'), metadata={'format': 'pt'})
    code, _, err = run_cli(capsys, 'import-hf', str(folder), '--out', str(tmp_path / 'out'))
    assert code == 2 and 'lacks 1 tensor(s)' in err and 'encoder.layer.1.output.dense.bias' in err
    tensors['encoder.layer.1.output.dense.bias'] = np.zeros(48, dtype=np.float32)
    tensors['encoder.layer.1.adapter.weight'] = np.zeros((4, 4), dtype=np.float32)
    save_file(tensors, str(folder / 'model.safetensors'), metadata={'format': 'pt'})
    code, _, err = run_cli(capsys, 'import-hf', str(folder), '--out', str(tmp_path / 'out'))
    assert code == 2 and 'encoder.layer.1.adapter.weight' in error_line(err, 'import-hf')
    assert not (tmp_path / 'out').exists()


def test_tokenizer_rule(tmp_path, capsys, kobert_store):
    _, folder = _hf_model('BertModel', tmp_path)
    for name in ('tokenizer.model', 'vocab.txt'):
        (folder / name).unlink()
    # KoBERT's 8,002 tokens and no tokenizer files: refused (kobert-mini has 8,002 rows too), naming the way out
    code, _, err = run_cli(capsys, 'import-hf', str(folder), '--out', str(tmp_path / 'kobert-vocab'))
    assert code == 2 and '--tokenizer kobert-base' in error_line(err, 'import-hf')
    _, vocab = kobert_gluon.get_model(str(import_hf(folder, tmp_path / 'kobert-vocab', tokenizer='kobert-base')))
    assert vocab.idx_to_token == kobert_gluon.get_vocab().idx_to_token
    # any other vocabulary size: a one-line error asking for --tokenizer, which then works
    _, small = _hf_model('BertModel', tmp_path / 'small', vocab_size=100)
    for name in ('tokenizer.model', 'vocab.txt'):
        (small / name).unlink()
    code, _, err = run_cli(capsys, 'import-hf', str(small), '--out', str(tmp_path / 'x'))
    line = error_line(err, 'import-hf')
    assert code == 2 and '--tokenizer PATH' in line and 'kobert-base' not in line
    code, _, err = run_cli(capsys, 'import-hf', str(small), '--out', str(tmp_path / 'x'),
                           '--tokenizer', str(model_folder_of('kobert-mini')))
    assert code == 2 and 'the tokenizer has 8002 tokens but the checkpoint\'s embeddings have 100' in err


def test_gluon_bert_in_transformers_memory():
    # (get_pytorch_kobert_model, KoBERT-base as a transformers BertModel: tests/test_seed_snippets.py)
    model, vocab = kobert_gluon.get_model('kobert-mini', use_decoder=False, use_classifier=False)
    hf = to_transformers_bert_model(model, vocab)
    sequence, pooled = model(*_gluon_inputs())
    expected = _torch_outputs(hf)
    assert max_error(pooled.asnumpy(), expected.pooler_output.numpy()) < TOLERANCE
    assert max_error(valid(sequence.asnumpy()), valid(expected.last_hidden_state.numpy())) < TOLERANCE
