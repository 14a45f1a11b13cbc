"""The xlm-roberta family: its tokenizer against transformers' own XLMRobertaTokenizer (files written by its
``save_pretrained``), conversion both ways against models transformers itself creates (every tensor random), and
the package's pipeline on it: fine-tuning, predict, ONNX export and the deploy runtimes."""
import json
import shutil

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model, load_tokenizer
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.core.errors import InputError
from kobert_gluon.deploy.runtime import InferenceModel
from kobert_gluon.export.onnx_export import export_onnx
from kobert_gluon.hub.artifact_store import ArtifactNotFoundError
from kobert_gluon.hub.catalogue import get_model_spec
from kobert_gluon.models.zoo import model_folder_of

from .conftest import error_line, run_cli
from .test_convert import _perturbed

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')

TOLERANCE = 1e-5
TEXTS = ['한국어 영화 정말 재밌다', '배우들 연기가 너무 좋았어요 <mask> 최고']
PAIR = ('이 영화 추천합니다', '다시 보고 싶은 영화')
# xlm-roberta-base's shape made small: max_position_embeddings 66 = 64 positions after the padding index 1
SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             max_position_embeddings=66, pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1)


@pytest.fixture(autouse=True)
def quiet_transformers():
    transformers.logging.set_verbosity_error()
    yield


@pytest.fixture(scope='module')
def hf_tokenizer(tmp_path_factory):
    """transformers' XLMRobertaTokenizer over a SentencePiece model (kobert-mini's, which ships in the package),
    saved by transformers itself."""
    source = tmp_path_factory.mktemp('spm')
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', source / 'sentencepiece.bpe.model')
    tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(source))
    saved = tmp_path_factory.mktemp('xlmr-tokenizer')
    tokenizer.save_pretrained(str(saved))
    return tokenizer, saved


def _hf_model(cls, hf_tokenizer, tmp_path, **config):
    tokenizer, saved = hf_tokenizer
    hf_config = transformers.XLMRobertaConfig(vocab_size=len(tokenizer), **{**SMALL, **config})
    model = _perturbed(getattr(transformers, cls)(hf_config))
    folder = tmp_path / cls
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return model, folder


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


def _valid(rows, lengths):
    return np.concatenate([rows[i, :n] for i, n in enumerate(lengths)])


def _max_error(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def _same_tensors(original, exported) -> bool:
    from safetensors.numpy import load_file
    first, second = load_file(str(original / 'model.safetensors')), load_file(str(exported / 'model.safetensors'))
    ignored = {'roberta.embeddings.position_ids', 'roberta.embeddings.token_type_ids'}
    return (set(second) == set(first) - ignored
            and all(np.array_equal(first[name], second[name]) for name in second))


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


def test_base_model_in_and_out(hf_tokenizer, tmp_path):
    reference, _ = hf_tokenizer
    hf, folder = _hf_model('XLMRobertaModel', hf_tokenizer, tmp_path)
    out = import_hf(folder, tmp_path / 'gluon')
    document = json.loads((out / 'config.json').read_text())
    assert document['architecture'] == 'xlm-roberta' and document['tokenizer']['kind'] == 'xlm-roberta-sentencepiece'
    assert document['xlm-roberta']['max_length'] == 64 and document['xlm-roberta']['padding_idx'] == 1
    model, vocab = get_model(str(out))
    ids, mask, lengths = _batch(reference)
    expected = _torch(hf, ids, mask).last_hidden_state.numpy()
    got = _gluon(model, ids, lengths)
    got = got[0] if isinstance(got, (list, tuple)) else got
    assert _max_error(_valid(got.asnumpy(), lengths), _valid(expected, lengths)) < TOLERANCE
    # BERT-style token types (ones after the first text) change nothing: XLM-R has one token type
    ones = (np.arange(ids.shape[1])[None] >= 3).astype('int64')
    again = _gluon(model, ids, lengths, ones)
    again = again[0] if isinstance(again, (list, tuple)) else again
    assert _max_error(again.asnumpy(), got.asnumpy()) == 0.0

    back = export_hf(out, tmp_path / 'back')
    assert _same_tensors(folder, back) is False  # the untrained base pooler is not kept ...
    reloaded = transformers.XLMRobertaModel.from_pretrained(str(back)).eval()
    assert _max_error(_valid(_torch(reloaded, ids, mask).last_hidden_state.numpy(), lengths),
                      _valid(expected, lengths)) < TOLERANCE  # ... and everything else is
    hf_tokenizer_back = transformers.AutoTokenizer.from_pretrained(str(back))
    assert hf_tokenizer_back(*PAIR)['input_ids'] == reference(*PAIR)['input_ids']


@pytest.mark.parametrize('num_labels', [3, 1])
def test_sequence_classifier_in_and_out_with_onnx(hf_tokenizer, tmp_path, capsys, num_labels):
    reference, _ = hf_tokenizer
    labels = {0: 'neg', 1: 'neutral', 2: 'pos'} if num_labels == 3 else {0: 'score'}
    hf, folder = _hf_model('XLMRobertaForSequenceClassification', hf_tokenizer, tmp_path, num_labels=num_labels,
                           id2label=labels, label2id={v: k for k, v in labels.items()})
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = get_model(str(out))
    ids, mask, lengths = _batch(reference)
    expected = _torch(hf, ids, mask).logits.numpy()
    got = _gluon(model, ids, lengths).asnumpy().reshape(expected.shape)
    assert _max_error(got, expected) < TOLERANCE
    back = export_hf(out, tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.XLMRobertaForSequenceClassification.from_pretrained(str(back)).eval()
    assert _max_error(_torch(again, ids, mask).logits.numpy(), expected) < 1e-6
    if num_labels == 3:
        path = export_onnx(model, tmp_path / 'xlmr.onnx')
        by_onnx = InferenceModel(path, threads=1)(ids, np.zeros_like(ids), lengths)['logits']
        assert _max_error(by_onnx, got) < TOLERANCE
        code, printed, err = run_cli(capsys, 'predict', '--model', out, TEXTS[0])
        assert code == 0, err
        row = printed.splitlines()[1].split('\t')
        probabilities = np.exp(expected[0]) / np.exp(expected[0]).sum()
        assert row[1] == labels[int(expected[0].argmax())]
        assert [float(p) for p in row[2:]] == pytest.approx(probabilities.tolist(), abs=1e-3)


def test_token_classifier_in_and_out(hf_tokenizer, tmp_path):
    reference, _ = hf_tokenizer
    labels = {0: 'O', 1: 'B-PS', 2: 'I-PS', 3: 'B-LC', 4: 'I-LC'}
    hf, folder = _hf_model('XLMRobertaForTokenClassification', hf_tokenizer, tmp_path, num_labels=5, id2label=labels,
                           label2id={v: k for k, v in labels.items()})
    out = import_hf(folder, tmp_path / 'gluon')
    model, _ = get_model(str(out))
    ids, mask, lengths = _batch(reference)
    expected = _torch(hf, ids, mask).logits.numpy()
    got = _gluon(model, ids, lengths).asnumpy()
    assert _max_error(_valid(got, lengths), _valid(expected, lengths)) < TOLERANCE
    back = export_hf(out, tmp_path / 'back')
    assert _same_tensors(folder, back)
    again = transformers.XLMRobertaForTokenClassification.from_pretrained(str(back)).eval()
    assert _max_error(_valid(_torch(again, ids, mask).logits.numpy(), lengths), _valid(expected, lengths)) < 1e-6


def test_fine_tune_predict_and_deploy_an_imported_xlm_roberta(hf_tokenizer, tmp_path, capsys):
    _, folder = _hf_model('XLMRobertaModel', hf_tokenizer, tmp_path)
    base = import_hf(folder, tmp_path / 'base')
    rows = ['영화 정말 재밌다\t1', '배우 연기 최고\t1', '시간 아까운 영화\t0', '정말 지루했다\t0'] * 8
    train = tmp_path / 'train.tsv'
    train.write_text('text\tlabel\n' + '\n'.join(rows) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--dev-fraction', '0.25', '--max-steps', '6', '--batch-size', '8', '--max-seq-length', '32',
                           '--lr', '1e-3', '--no-progress', '--model', base, '--out', tmp_path / 'run')
    assert code == 0, err
    best = tmp_path / 'run' / 'best'
    assert json.loads((best / 'config.json').read_text())['architecture'] == 'xlm-roberta'
    outputs = {}
    for runtime in ('mxnet', 'onnxruntime', 'openvino'):
        options = [] if runtime == 'mxnet' else ['--runtime', runtime]
        code, printed, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', *options, '영화 정말 재밌다',
                                     '시간 아까운 영화')
        assert code == 0, err
        outputs[runtime] = [[float(p) for p in line.split('\t')[2:]] for line in printed.splitlines()[1:]]
    assert len(outputs['mxnet']) == 2
    for runtime in ('onnxruntime', 'openvino'):
        assert np.abs(np.array(outputs[runtime]) - np.array(outputs['mxnet'])).max() < 1e-4
    # the exported fine-tuned model is transformers' XLMRobertaForSequenceClassification
    back = export_hf(tmp_path / 'run', tmp_path / 'hf')
    assert json.loads((back / 'config.json').read_text())['architectures'] == ['XLMRobertaForSequenceClassification']


def test_catalogue_entry_and_refusals(hf_tokenizer, tmp_path, capsys):
    spec = get_model_spec('xlm-roberta-base')
    assert spec.hf_repo == 'FacebookAI/xlm-roberta-base' and spec.architecture == 'xlm-roberta'
    # by name it is fetched and converted on first use; offline and never fetched, the error says what to do
    with pytest.raises(ArtifactNotFoundError, match='(?s)hf download FacebookAI/xlm-roberta-base'
                                                    '.*import-hf DIR'):
        load_tokenizer('xlm-roberta-base')
    # a folder saved by transformers before 5 (sentencepiece.bpe.model only) says how to get tokenizer.json
    _, folder = _hf_model('XLMRobertaModel', hf_tokenizer, tmp_path)
    (folder / 'tokenizer.json').unlink()
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', folder / 'sentencepiece.bpe.model')
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'out')
    assert code == 2 and 'save_pretrained' in error_line(err, 'import-hf')
    assert not (tmp_path / 'out').exists()
