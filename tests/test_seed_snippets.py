"""The family's own published snippets, verbatim but for the import line (``kobert`` -> ``kobert_gluon``): KoBERT's
README (v0.1, v0.1.2 and today's), its NSMC notebook's data pipeline, DistilKoBERT's README (the ``distilkobert`` and
``kobert-transformers`` packages) and KoELECTRA's README.

The pretrained weights are not reachable here, so each snippet runs on random weights of the real shapes
(``pretrained=False``, the one argument added) and the real tokenizer files; the assertions are the shapes and ids
the pages print, that positional and keyword calls agree, and that a call in another release's argument order is
refused instead of answering wrong.
"""

import numpy as np
import pytest

from .conftest import require_shared

torch = pytest.importorskip('torch', reason='the PyTorch snippets need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the PyTorch snippets need transformers (test extra)')

from kobert_gluon.core.errors import InputError  # noqa: E402


from .family_checks import quiet_transformers  # noqa: E402,F401  (autouse: transformers' warnings off)


def _readme_inputs():
    input_ids = torch.LongTensor([[31, 51, 99], [15, 5, 0]])
    input_mask = torch.LongTensor([[1, 1, 1], [1, 1, 0]])
    token_type_ids = torch.LongTensor([[0, 0, 1], [0, 1, 0]])
    return input_ids, input_mask, token_type_ids


# ----- KoBERT README, PyTorch ----------------------------------------------------------------------------------------
def test_kobert_readme_pytorch_snippet_of_today(kobert_store):
    # >>> from kobert import get_pytorch_kobert_model
    from kobert_gluon import get_pytorch_kobert_model
    input_ids, input_mask, token_type_ids = _readme_inputs()
    model, vocab = get_pytorch_kobert_model(pretrained=False)
    outputs = model(input_ids, input_mask, token_type_ids)
    assert isinstance(outputs, tuple)  # return_dict=False, as the original
    sequence_output, pooled_output = outputs
    assert pooled_output.shape == torch.Size([2, 768])
    assert len(vocab) == 8002
    assert sequence_output[0].shape == (3, 768)  # "Last Encoding Layer" of the first sentence
    assert not model.training  # "model은 디폴트로 eval()모드로 리턴됨"
    assert isinstance(model, transformers.BertModel)
    by_keyword = model(input_ids=input_ids, attention_mask=input_mask, token_type_ids=token_type_ids)
    assert torch.equal(by_keyword[0], sequence_output) and torch.equal(by_keyword[1], pooled_output)
    with pytest.raises(InputError, match='other order'):  # v0.1's order on this model: refused, not misread
        model(input_ids, token_type_ids, input_mask)


def test_kobert_v01_pytorch_snippet(kobert_store):
    # >>> from kobert.pytorch_kobert import get_pytorch_kobert_model
    from kobert_gluon.pytorch_kobert import get_pytorch_kobert_model
    input_ids, input_mask, token_type_ids = _readme_inputs()
    model, vocab = get_pytorch_kobert_model(pretrained=False)
    all_encoder_layers, pooled_output = model(input_ids, token_type_ids, input_mask)
    assert pooled_output.shape == torch.Size([2, 768])
    assert len(all_encoder_layers) == 12 and all_encoder_layers[-1][0].shape == (3, 768)
    assert not model.training
    keywords = model(input_ids, token_type_ids=token_type_ids, attention_mask=input_mask,
                     output_all_encoded_layers=False)
    assert torch.equal(keywords[0], all_encoder_layers[-1]) and torch.equal(keywords[1], pooled_output)
    # the same weights as transformers' BertModel called with keywords
    bert = model.bert
    reference = bert(input_ids=input_ids, attention_mask=input_mask, token_type_ids=token_type_ids)
    assert torch.allclose(reference.last_hidden_state, all_encoder_layers[-1])
    # v0.1.2's README imported the same path but called it in transformers' order: refused, naming the order
    with pytest.raises(InputError, match=r'model\(input_ids, token_type_ids, attention_mask\)'):
        sequence_output, pooled_output = model(input_ids, input_mask, token_type_ids)


def test_both_pytorch_models_compute_what_the_gluon_model_computes(kobert_store):
    import mxnet as mx
    from kobert_gluon import get_mxnet_kobert_model, get_pytorch_kobert_model
    from kobert_gluon.pytorch_kobert import get_pytorch_kobert_model as get_v01_model
    input_ids, input_mask, token_type_ids = _readme_inputs()
    mx.random.seed(3)  # the same random weights three times
    gluon, _ = get_mxnet_kobert_model(use_decoder=False, use_classifier=False, pretrained=False)
    encoder_layer, pooled = gluon(mx.nd.array(input_ids.numpy()), mx.nd.array(token_type_ids.numpy()),
                                  mx.nd.array(input_mask.sum(dim=1).numpy()))
    mx.random.seed(3)
    today, _ = get_pytorch_kobert_model(pretrained=False)
    mx.random.seed(3)
    v01, _ = get_v01_model(pretrained=False)
    sequence_output, pooled_output = today(input_ids, input_mask, token_type_ids)
    all_encoder_layers, v01_pooled = v01(input_ids, token_type_ids, input_mask)
    valid = input_mask.bool().numpy()
    for torch_sequence, torch_pooled in ((sequence_output, pooled_output), (all_encoder_layers[-1], v01_pooled)):
        np.testing.assert_allclose(torch_pooled.detach().numpy(), pooled.asnumpy(), atol=1e-5)
        np.testing.assert_allclose(torch_sequence.detach().numpy()[valid], encoder_layer.asnumpy()[valid], atol=1e-5)


# ----- KoBERT README, ONNX and MXNet ---------------------------------------------------------------------------------
def test_kobert_readme_onnx_snippet(kobert_store, tmp_path):
    onnxruntime = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    # >>> from kobert import get_onnx_kobert_model   (v0.1: from kobert.utils import get_onnx)
    from kobert_gluon import get_onnx_kobert_model
    from kobert_gluon.utils import get_onnx
    onnx_path = get_onnx_kobert_model(cachedir=tmp_path, pretrained=False)
    assert get_onnx(cachedir=tmp_path, pretrained=False) == onnx_path  # the same export, once
    sess = onnxruntime.InferenceSession(onnx_path)
    input_ids = [[31, 51, 99], [15, 5, 0]]
    input_mask = [[1, 1, 1], [1, 1, 0]]
    token_type_ids = [[0, 0, 1], [0, 1, 0]]
    len_seq = len(input_ids[0])
    pred_onnx = sess.run(None, {'input_ids': np.array(input_ids),
                                'token_type_ids': np.array(token_type_ids),
                                'input_mask': np.array(input_mask),
                                'position_ids': np.array(range(len_seq))})
    assert pred_onnx[-2][0].shape == (3, 768) and pred_onnx[-1].shape == (2, 768)
    # the same numbers as the MXNet model with the same seed
    import mxnet as mx
    from kobert_gluon.mxnet_kobert import get_mxnet_kobert_model
    mx.random.seed(0)
    model, _ = get_mxnet_kobert_model(use_decoder=False, use_classifier=False, pretrained=False)
    encoder_layer, pooled_output = model(mx.nd.array(input_ids), mx.nd.array(token_type_ids),
                                         mx.nd.array(np.array(input_mask).sum(axis=1)))
    np.testing.assert_allclose(pred_onnx[-1], pooled_output.asnumpy(), atol=1e-4)
    np.testing.assert_allclose(pred_onnx[-2][0], encoder_layer.asnumpy()[0], atol=1e-4)


def test_kobert_readme_mxnet_snippet(kobert_store):
    import mxnet as mx
    # >>> from kobert import get_mxnet_kobert_model   (v0.1: from kobert.mxnet_kobert import ...)
    from kobert_gluon.mxnet_kobert import get_mxnet_kobert_model
    input_id = mx.nd.array([[31, 51, 99], [15, 5, 0]])
    input_mask = mx.nd.array([[1, 1, 1], [1, 1, 0]])  # noqa: F841  (the README defines it and does not pass it)
    token_type_ids = mx.nd.array([[0, 0, 1], [0, 1, 0]])
    model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False, pretrained=False)
    encoder_layer, pooled_output = model(input_id, token_type_ids)
    assert pooled_output.shape == (2, 768)
    assert encoder_layer[0].shape == (3, 768)
    assert len(vocab) == 8002


def test_kobert_readme_tokenizer_snippets(kobert_files):
    from gluonnlp.data import SentencepieceTokenizer
    from kobert_gluon import get_tokenizer, get_tokenizer_path
    from kobert_gluon.utils import get_tokenizer as v01_get_tokenizer
    for tok_path in (get_tokenizer_path(), get_tokenizer(), v01_get_tokenizer()):
        sp = SentencepieceTokenizer(tok_path)
        assert sp('한국어 모델을 공유합니다.') == ['▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.']


# ----- KoBERT's NSMC notebook ----------------------------------------------------------------------------------------
def test_nsmc_notebook_data_pipeline(kobert_files, tmp_path):
    import gluonnlp as nlp
    # the notebook at KoBERT v0.2.3: from kobert import get_tokenizer, get_pytorch_kobert_model
    from kobert_gluon import get_pytorch_kobert_model, get_tokenizer
    train = require_shared('nsmc', 'ratings_train.txt')
    sample = tmp_path / 'ratings_train.txt'
    sample.write_text(''.join(train.read_text(encoding='utf-8').splitlines(keepends=True)[:65]), encoding='utf-8')
    bertmodel, vocab = get_pytorch_kobert_model(pretrained=False)
    dataset_train = nlp.data.TSVDataset(str(sample), field_indices=[1, 2], num_discard_samples=1)
    tokenizer = get_tokenizer()
    tok = nlp.data.BERTSPTokenizer(tokenizer, vocab, lower=False)

    class BERTDataset(torch.utils.data.Dataset):
        def __init__(self, dataset, sent_idx, label_idx, bert_tokenizer, max_len, pad, pair):
            transform = nlp.data.BERTSentenceTransform(bert_tokenizer, max_seq_length=max_len, pad=pad, pair=pair)
            self.sentences = [transform([i[sent_idx]]) for i in dataset]
            self.labels = [np.int32(i[label_idx]) for i in dataset]

        def __getitem__(self, i):
            return (self.sentences[i] + (self.labels[i], ))

        def __len__(self):
            return (len(self.labels))
    max_len = 64
    batch_size = 64
    data_train = BERTDataset(dataset_train, 0, 1, tok, max_len, True, False)
    train_dataloader = torch.utils.data.DataLoader(data_train, batch_size=batch_size, num_workers=2)
    token_ids, valid_length, segment_ids, label = next(iter(train_dataloader))
    assert token_ids.shape == (64, 64) and len(data_train) == 64
    # the first review, '아 더빙.. 진짜 짜증나네요 목소리': the original pipeline's ids ('.' split off: 517, 54)
    assert token_ids[0, :8].tolist() == [2] + vocab.to_indices(['▁아', '▁더', '빙', '▁', '.', '▁', '.'])
    # BERTClassifier's forward, as the notebook writes it
    attention_mask = torch.zeros_like(token_ids)
    for i, v in enumerate(valid_length):
        attention_mask[i][:v] = 1
    _, pooler = bertmodel(input_ids=token_ids, token_type_ids=segment_ids.long(),
                          attention_mask=attention_mask.float().to(token_ids.device))
    assert pooler.shape == (64, 768)


# ----- DistilKoBERT README -------------------------------------------------------------------------------------------
def test_distilkobert_readme_snippets(kobert_files):
    # >>> from distilkobert import get_distilkobert_model, get_tokenizer
    from kobert_gluon.distilkobert import get_distilkobert_model, get_tokenizer
    model = get_distilkobert_model(no_cuda=True, pretrained=False)
    input_ids = torch.LongTensor([[31, 51, 99], [15, 5, 0]])
    attention_mask = torch.LongTensor([[1, 1, 1], [1, 1, 0]])
    last_layer_hidden_state, _ = model(input_ids, attention_mask)
    assert last_layer_hidden_state.shape == (2, 3, 768)
    assert isinstance(model, transformers.DistilBertModel) and model.config.n_layers == 3
    keywords = model(input_ids=input_ids, attention_mask=attention_mask)
    assert torch.equal(keywords[0], last_layer_hidden_state)
    tokenizer = get_tokenizer()
    assert tokenizer.tokenize("[CLS] 한국어 모델을 공유합니다. [SEP]") == \
        ['[CLS]', '▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.', '[SEP]']
    assert tokenizer.convert_tokens_to_ids(['[CLS]', '▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.', '[SEP]']) \
        == [2, 4958, 6855, 2046, 7088, 1050, 7843, 54, 3]


def test_kobert_transformers_readme_snippet(kobert_store):
    # >>> from kobert_transformers import get_kobert_model, get_distilkobert_model
    from kobert_gluon.kobert_transformers import get_kobert_model
    model = get_kobert_model(pretrained=False)
    model.eval()
    input_ids = torch.LongTensor([[31, 51, 99], [15, 5, 0]])
    attention_mask = torch.LongTensor([[1, 1, 1], [1, 1, 0]])
    token_type_ids = torch.LongTensor([[0, 0, 1], [0, 1, 0]])
    sequence_output, pooled_output = model(input_ids, attention_mask, token_type_ids)
    assert sequence_output[0].shape == (3, 768) and pooled_output.shape == (2, 768)


def test_the_transformers_side_kobert_tokenizer_gives_the_reference_ids_on_real_reviews(kobert_files, tmp_path):
    """transformers' KoBertTokenizer itself (the kobert-transformers package, the reference) against
    ``sentencepiece-transformers`` on 3,000 NSMC reviews and the edge cases its rules are about."""
    reference_module = pytest.importorskip('kobert_transformers.tokenization_kobert',
                                           reason='needs kobert-transformers (the README\'s test command installs '
                                                  'it)')
    from kobert_gluon import get_vocab
    from kobert_gluon.distilkobert import get_tokenizer
    vocab_txt = tmp_path / 'vocab.txt'
    vocab_txt.write_text(''.join(t + '\n' for t in get_vocab().idx_to_token), encoding='utf-8')
    ours = get_tokenizer()
    reference = reference_module.KoBertTokenizer(ours.sp_model_path, str(vocab_txt))
    reviews = require_shared('nsmc', 'ratings_test.txt').read_text(encoding='utf-8').splitlines()[1:3001]
    texts = [line.split('\t')[1] for line in reviews] + [
        '[CLS] 한국어 모델을 공유합니다. [SEP]', '가격은 1,000원, 2,500원입니다', 'café naïve', "``인용''",
        'a[MASK]b [UNK][PAD]', '  빈칸   많은   글  ']
    for text in texts:
        pieces = ours.tokenize(text)
        assert pieces == reference.tokenize(text), text
        assert ours.convert_tokens_to_ids(pieces) == reference.convert_tokens_to_ids(pieces), text


# ----- KoELECTRA README ----------------------------------------------------------------------------------------------
def test_koelectra_readme_tokenizer_snippet():
    # >>> tokenizer = ElectraTokenizer.from_pretrained("monologg/koelectra-base-discriminator")  (v1's vocabulary)
    from kobert_gluon import load_tokenizer
    tokenizer = load_tokenizer(require_shared('koelectra', 'vocab.txt'))
    assert tokenizer.tokenize("[CLS] 한국어 ELECTRA를 공유합니다. [SEP]") == \
        ['[CLS]', '한국어', 'E', '##L', '##EC', '##T', '##RA', '##를', '공유', '##합니다', '.', '[SEP]']
    assert tokenizer.convert_tokens_to_ids(
        ['[CLS]', '한국어', 'E', '##L', '##EC', '##T', '##RA', '##를', '공유', '##합니다', '.', '[SEP]']) == \
        [2, 18429, 41, 6240, 15229, 6204, 20894, 5689, 12622, 10690, 18, 3]


@pytest.mark.parametrize('kind', ['wordpiece', 'sentencepiece'])
def test_special_tokens_stay_whole_as_transformers_keeps_them(kind):
    """The reference: transformers' own ElectraTokenizer on KoELECTRA's vocabulary; for SentencePiece the same
    split rule (a special token is a piece of its own wherever it stands)."""
    from kobert_gluon import load_tokenizer
    texts = ['[CLS] 한국어 ELECTRA를 공유합니다. [SEP]', '문장[SEP]다음 문장', '[MASK]는 무엇일까', '[PAD][PAD]',
             '[CLS]', '[cls] 소문자는 특수 토큰이 아니다', '[UNK]와 [MASK] 사이']
    if kind == 'wordpiece':
        vocab = require_shared('koelectra', 'vocab.txt')
        ours = load_tokenizer(vocab)
        reference = transformers.ElectraTokenizer(str(vocab), do_lower_case=False)
        for text in texts:
            assert ours.tokenize(text) == reference.tokenize(text), text
    else:
        ours = load_tokenizer('kobert-mini')
        for text in texts:
            pieces = ours.tokenize(text)
            for special in ('[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]'):
                assert pieces.count(special) == text.count(special), (text, pieces)
        ids, valid_length, _ = ours.encode('문장[SEP]다음', max_seq_length=16, pad=False)
        assert list(ids).count(ours.vocab['[SEP]']) == 2


# ----- folders that transformers itself saves, tokenizers included ---------------------------------------------------
TEXTS = ['[CLS] 한국어 ELECTRA를 공유합니다. [SEP]', '아 더빙.. 진짜 짜증나네요 목소리', '흠...포스터보고 초딩영화줄....오버연기조차',
         'ABC 123,456원 [MASK] 테스트']


def test_a_folder_saved_by_todays_transformers_imports_with_its_tokenizer_json(tmp_path, capsys):
    from kobert_gluon import FineTunedModel, import_hf, load_tokenizer
    from .conftest import run_cli
    vocab = require_shared('koelectra', 'vocab.txt')
    reference = transformers.ElectraTokenizer(str(vocab), do_lower_case=False)
    config = transformers.ElectraConfig(vocab_size=reference.vocab_size, embedding_size=16, hidden_size=32,
                                        num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                        max_position_embeddings=64, num_labels=2)
    folder = tmp_path / 'electra'
    transformers.ElectraForSequenceClassification(config).save_pretrained(folder)
    reference.save_pretrained(folder)
    assert not (folder / 'vocab.txt').exists() and (folder / 'tokenizer.json').exists()  # transformers 5
    model = FineTunedModel.load(import_hf(folder, tmp_path / 'gluon'))
    for text in TEXTS:
        assert model.tokenizer.tokenize(text) == reference.tokenize(text), text
    ours = load_tokenizer(folder / 'tokenizer.json')  # --tokenizer takes the file too
    assert ours.convert_tokens_to_ids(ours.tokenize(TEXTS[0])) == reference.convert_tokens_to_ids(
        reference.tokenize(TEXTS[0]))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'again', '--tokenizer',
                           folder / 'tokenizer.json')
    assert code == 0, err
    lowercase = tmp_path / 'uncased'
    transformers.ElectraTokenizer(str(vocab), do_lower_case=True).save_pretrained(lowercase)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'x', '--tokenizer', lowercase)
    assert code == 2 and 'lowercases' in err


def test_an_exported_wordpiece_model_tokenizes_in_transformers_as_here(tmp_path):
    from kobert_gluon import export_hf, load_tokenizer, save_model
    from kobert_gluon.models.building import get_architecture, initialize_random
    vocab = require_shared('koelectra', 'vocab.txt')
    tokenizer = load_tokenizer(vocab)
    electra = get_architecture('electra')
    model = electra.build(electra.config_from(dict(vocab_size=len(tokenizer.vocab), num_layers=1, units=32,
                                                   embed_size=16, hidden_size=64, num_heads=2, max_length=64)),
                          use_pooler=False)
    initialize_random(model)
    import mxnet as mx
    ids = mx.nd.array([[2, 10, 3]])
    model(ids, mx.nd.zeros_like(ids), mx.nd.array([3]))  # deferred shapes
    folder = save_model(model, tokenizer.vocab, tmp_path / 'gluon', tokenizer)
    exported = export_hf(folder, tmp_path / 'hf')
    theirs = transformers.AutoTokenizer.from_pretrained(str(exported))
    for text in TEXTS:
        assert theirs.tokenize(text) == tokenizer.tokenize(text), text
        assert theirs(text)['input_ids'] == list(tokenizer.encode(text, pad=False).input_ids), text


# ----- the walk-throughs' options -------------------------------------------------------------------------------------
def test_notebook_head_dropout_and_bert_warmup_steps(tmp_path, capsys):
    """The NSMC notebook's BERTClassifier(dr_rate=0.5) over an encoder at 0.1; BERT's --num_warmup_steps."""
    import json
    from kobert_gluon import FineTunedModel
    from .conftest import run_cli
    from .conftest import write_reviews
    train = write_reviews(tmp_path / 'train.tsv')
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--dev-fraction', '0.2', '--model', 'kobert-mini', '--max-steps', '6', '--batch-size', '8',
                           '--max-seq-length', '32', '--classifier-dropout', '0.5', '--warmup-steps', '3', '--lr',
                           '1e-4', '--no-progress', '--out', tmp_path / 'run')
    assert code == 0, err
    model = FineTunedModel.load(tmp_path / 'run')
    assert model.model.dropout_rate == 0.5
    assert model.model.bert.kobert_config.dropout == 0.1  # the encoder keeps its own
    rates = [step[2] for step in json.loads((tmp_path / 'run' / 'metrics.json').read_text())['steps']]
    assert rates[:3] == pytest.approx([1e-4 / 3, 2e-4 / 3, 1e-4]) and rates[-1] < rates[3]
    with pytest.raises(SystemExit) as usage:  # argparse: one or the other
        run_cli(capsys, 'finetune', '--train', train, '--warmup-steps', '3', '--warmup-ratio', '0.1', '--out',
                tmp_path / 'x')
    assert usage.value.code == 2 and 'not allowed with argument' in capsys.readouterr().err


def test_create_pretraining_data_defaults_to_berts_dupe_factor_and_takes_a_bare_vocab_file(tmp_path, capsys):
    import json
    from .conftest import run_cli
    from .conftest import write_reviews
    corpus = write_reviews(tmp_path / 'corpus.tsv', rows=20)
    code, _, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--input-format', 'lines',
                           '--column', 'text', '--vocab', require_shared('koelectra', 'vocab.txt'),
                           '--out', tmp_path / 'data', '--max-seq-length', '32')
    assert code == 0, err
    manifest = json.loads((tmp_path / 'data' / 'manifest.json').read_text())
    assert manifest['options']['dupe_factor'] == 10


def test_a_kobert_folder_written_by_the_reference_tokenizer_imports_with_its_convention(kobert_files, tmp_path):
    """transformers' BertModel.save_pretrained beside KoBertTokenizer's own file writer (kobert-transformers'
    save_vocabulary; its save_pretrained fails under transformers 5) imports with the whole-text convention."""
    reference_module = pytest.importorskip('kobert_transformers.tokenization_kobert',
                                           reason='needs kobert-transformers (the README\'s test command installs it)')
    from kobert_gluon import get_vocab, import_hf, load_tokenizer
    vocab_txt = tmp_path / 'vocab.txt'
    vocab_txt.write_text(''.join(t + '\n' for t in get_vocab().idx_to_token), encoding='utf-8')
    reference = reference_module.KoBertTokenizer(str(require_shared('kobert', 'tokenizer_78b3253a26.model')),
                                                 str(vocab_txt))
    folder = tmp_path / 'checkpoint'
    transformers.BertModel(transformers.BertConfig(vocab_size=8002, hidden_size=32, num_hidden_layers=1,
                                                   num_attention_heads=2, intermediate_size=64,
                                                   max_position_embeddings=64, pad_token_id=1)).save_pretrained(folder)
    reference.save_vocabulary(str(folder))
    ours = load_tokenizer(import_hf(folder, tmp_path / 'gluon'))
    assert ours.kind == 'sentencepiece-transformers'
    for text in ['[CLS] 한국어 모델을 공유합니다. [SEP]', '아 더빙.. 진짜 짜증나네요 목소리', '가격은 1,000원, 2,500원']:
        assert ours.tokenize(text) == reference.tokenize(text), text
        assert list(ours.encode(text, pad=False).input_ids) == reference.encode(text), text
