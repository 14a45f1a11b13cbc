"""The xlm-roberta family: what every family passes (tests/family_tests.py: conversion both ways, ONNX, fine-tuning
and predict), its tokenizer against transformers' own XLMRobertaTokenizer (files written by its ``save_pretrained``),
real texts and pairs through an imported model, its token classifier and its catalogue entry."""
import json
import shutil

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model, load_tokenizer
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.hub.artifact_store import ArtifactNotFoundError
from kobert_gluon.hub.catalogue import get_model_spec
from kobert_gluon.models.zoo import model_folder_of

from .conftest import error_line, run_cli
from .family_checks import TOLERANCE, XLM_ROBERTA, max_error, same_tensors, valid, xlm_roberta_tokenizer
from .family_checks import quiet_transformers  # noqa: F401  (autouse)
from .family_tests import FamilyTests, first

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

TEXTS = ['한국어 영화 정말 재밌다', '배우들 연기가 너무 좋았어요 <mask> 최고']
PAIR = ('이 영화 추천합니다', '다시 보고 싶은 영화')


@pytest.fixture(scope='module')
def hf_tokenizer():
    """transformers' XLMRobertaTokenizer over kobert-mini's SentencePiece model, and the folder its
    ``save_pretrained`` wrote."""
    return xlm_roberta_tokenizer()


def _hf_model(cls, tmp_path, **config):
    return XLM_ROBERTA.hf_model(cls, tmp_path, **config)


def _batch(tokenizer):
    """transformers' encoding of two texts and a pair, padded: ids, attention mask, lengths."""
    encoded = [tokenizer(TEXTS[0])['input_ids'], tokenizer(TEXTS[1])['input_ids'], tokenizer(*PAIR)['input_ids']]
    width = max(len(ids) for ids in encoded)
    ids = np.array([row + [1] * (width - len(row)) for row in encoded])
    lengths = np.array([len(row) for row in encoded])
    return ids, (np.arange(width)[None] < lengths[:, None]).astype('int64'), lengths


def _torch(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))


def _gluon(model, ids, lengths, types=None):
    types = np.zeros_like(ids) if types is None else types
    return model(mx.nd.array(ids), mx.nd.array(types), mx.nd.array(lengths))


def test_tokenizer_gives_transformers_ids_for_texts_pairs_and_special_tokens(hf_tokenizer, tmp_path):
    reference, saved = hf_tokenizer
    ours = load_tokenizer(str(saved / 'tokenizer.json'))
    assert ours.kind == 'xlm-roberta-sentencepiece' and len(ours.vocab) == len(reference)
    assert [ours.vocab[t] for t in ('<s>', '<pad>', '</s>', '<unk>')] == [0, 1, 2, 3]
    assert ours.vocab['<mask>'] == len(reference) - 1
    for text in TEXTS + ['', '  띄어쓰기   여러 칸  ', 'ｆｕｌｌ ｗｉｄｔｈ ㈜ 뷁']:
        ids, valid_length, types = ours.encode(text, max_seq_length=64, pad=False)
        assert list(ids) == reference(text)['input_ids'] and int(valid_length) == len(ids) and not types.any()
    ids, _, types = ours.encode(*PAIR, max_seq_length=64, pad=False)
    assert list(ids) == reference(*PAIR)['input_ids'] and not types.any()  # <s> A </s></s> B </s>
    # truncation keeps the four special tokens and cuts the longer text first, as transformers' longest_first
    long_pair = (PAIR[0] * 3, PAIR[1])
    for pair in (PAIR, long_pair, long_pair[::-1]):
        for max_seq_length in range(5, 24):
            ids, _, _ = ours.encode(*pair, max_seq_length=max_seq_length, pad=False)
            assert list(ids) == reference(*pair, truncation='longest_first', max_length=max_seq_length)['input_ids']
    padded, valid_length, _ = ours.encode(TEXTS[0], max_seq_length=32)
    assert len(padded) == 32 and set(padded[int(valid_length):]) == {1}


def test_tokenizer_offsets_and_refusals(hf_tokenizer, tmp_path):
    _, saved = hf_tokenizer
    ours = load_tokenizer(str(saved / 'tokenizer.json'))
    text = '배우들 연기가 좋았어요'
    spans = ours.piece_offsets(text)
    assert ''.join(text[s.start:s.end] for s in spans) == text.replace(' ', '')
    wordpiece = tmp_path / 'wp.json'
    wordpiece.write_text(json.dumps({'model': {'type': 'WordPiece', 'vocab': {'[UNK]': 0}}}), encoding='utf-8')
    from kobert_gluon.models.xlm_roberta.tokenizer import XLMRobertaTokenizer
    with pytest.raises(InputError, match='a WordPiece tokenizer'):
        XLMRobertaTokenizer(wordpiece)


class TestXLMRoberta(FamilyTests):
    family = XLM_ROBERTA

    def test_real_texts_pairs_and_token_types(self, base, hf_tokenizer, tmp_path):
        reference, _ = hf_tokenizer
        document = json.loads((base.folder / 'config.json').read_text())
        assert document['tokenizer']['kind'] == 'xlm-roberta-sentencepiece'
        assert document['xlm-roberta']['max_length'] == 64 and document['xlm-roberta']['padding_idx'] == 1
        model = base.model
        ids, mask, lengths = _batch(reference)  # transformers' own encoding of texts and a pair
        expected = _torch(base.hf, ids, mask).last_hidden_state.numpy()
        got = first(_gluon(model, ids, lengths))
        assert max_error(valid(got.asnumpy(), lengths), valid(expected, lengths)) < TOLERANCE
        # BERT-style token types (ones after the first text) change nothing: XLM-R has one token type
        ones = (np.arange(ids.shape[1])[None] >= 3).astype('int64')
        assert max_error(first(_gluon(model, ids, lengths, ones)).asnumpy(), got.asnumpy()) == 0.0
        # the tokenizer exports back as transformers' own
        back = export_hf(base.folder, tmp_path / 'back')
        assert transformers.AutoTokenizer.from_pretrained(str(back))(*PAIR)['input_ids'] == \
            reference(*PAIR)['input_ids']


def test_token_classifier_in_and_out(hf_tokenizer, tmp_path):
    reference, _ = hf_tokenizer
    labels = {0: 'O', 1: 'B-PS', 2: 'I-PS', 3: 'B-LC', 4: 'I-LC'}
    hf, folder = _hf_model('XLMRobertaForTokenClassification', tmp_path, num_labels=5, id2label=labels,
                           label2id={v: k for k, v in labels.items()})
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = get_model(str(out))
    ids, mask, lengths = _batch(reference)
    expected = _torch(hf, ids, mask).logits.numpy()
    got = _gluon(model, ids, lengths).asnumpy()
    assert max_error(valid(got, lengths), valid(expected, lengths)) < TOLERANCE
    back = export_hf(out, tmp_path / 'back')
    assert same_tensors(folder, back, **XLM_ROBERTA.export_rules)
    again = transformers.XLMRobertaForTokenClassification.from_pretrained(str(back)).eval()
    assert max_error(valid(_torch(again, ids, mask).logits.numpy(), lengths), valid(expected, lengths)) < 1e-6


def test_catalogue_entry_and_refusals(hf_tokenizer, tmp_path, capsys):
    spec = get_model_spec('xlm-roberta-base')
    assert spec.hf_repo == 'FacebookAI/xlm-roberta-base' and spec.architecture == 'xlm-roberta'
    # by name it is fetched and converted on first use; offline and never fetched, the error says what to do
    with pytest.raises(ArtifactNotFoundError, match='(?s)hf download FacebookAI/xlm-roberta-base'
                                                    '.*import-hf DIR'):
        load_tokenizer('xlm-roberta-base')
    # a folder saved by transformers before 5 (sentencepiece.bpe.model only) says how to get tokenizer.json
    _, folder = _hf_model('XLMRobertaModel', tmp_path)
    (folder / 'tokenizer.json').unlink()
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', folder / 'sentencepiece.bpe.model')
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'out')
    assert code == 2 and 'save_pretrained' in error_line(err, 'import-hf')
    assert not (tmp_path / 'out').exists()
