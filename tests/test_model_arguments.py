"""Model arguments as users give them: ``encode`` on every family with each pooling (against a hand computation from
the model's sequence output), ``--overwrite`` of the package's own folders of every tokenizer kind, and the one line
that says what a path given as a model actually is (a mistyped folder, a transformers checkpoint, a vocabulary ...)."""
import json
import shutil

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import encode, get_model, load_tokenizer, save_model
from kobert_gluon.core.errors import InputError
from kobert_gluon.models.building import get_architecture, initialize_random
from kobert_gluon.models.sentence_vectors import POOLINGS
from kobert_gluon.models.zoo import model_folder_of
from kobert_gluon.tokenizers.wordpiece import WordPieceTokenizer

from .conftest import error_line, run_cli

TEXTS = ['한국어 영화 정말 재밌다', '배우들 연기가 너무 좋았어요', '최고']


def _tiny_folder(tmp_path, architecture, tokenizer=None, name=None, **heads):
    """A tiny model of ``architecture`` with random weights saved as a model folder, kobert-mini's tokenizer."""
    tokenizer = tokenizer or load_tokenizer('kobert-mini')
    family = get_architecture(architecture)
    shape = dict(vocab_size=len(tokenizer.vocab), num_layers=1, units=16, hidden_size=32, num_heads=2, max_length=40)
    if architecture == 'bert':
        shape['embed_size'] = 16
    model = family.build(family.config_class(**shape), **heads)
    initialize_random(model, mx.cpu())
    masked = (mx.nd.zeros((1, 1)),) if heads.get('use_decoder') else ()  # a masked-LM decoder reads positions
    model(mx.nd.ones((1, 2)), mx.nd.zeros((1, 2)), mx.nd.array([2]), *masked)
    return save_model(model, tokenizer.vocab, tmp_path / (name or architecture), tokenizer)


def _by_hand(folder, texts, pooling):
    """Each text alone through the saved model's backbone: the CLS row, the mean of its rows, or the pooled output."""
    model, _ = get_model(str(folder), use_decoder=False, use_classifier=False, use_discriminator=False,
                         use_pooler=pooling == 'pooler')
    tokenizer = load_tokenizer(str(folder))
    rows = []
    for text in texts:
        ids, valid, types = tokenizer.encode(text, max_seq_length=128, pad=False)
        outputs = model(mx.nd.array(ids[None]), mx.nd.array(types[None]), mx.nd.array([int(valid)]))
        if pooling == 'pooler':
            rows.append(outputs[1].asnumpy()[0])
            continue
        sequence = (outputs[0] if isinstance(outputs, (list, tuple)) else outputs).asnumpy()[0]
        assert sequence.shape[0] == int(valid)
        rows.append(sequence[0] if pooling == 'cls' else sequence.sum(axis=0) / int(valid))
    return np.stack(rows)


# ----- encode: every model, a pooling choice ---------------------------------------------------------------------
@pytest.mark.parametrize('architecture, heads, default', [
    ('electra', dict(use_pooler=False, use_discriminator=True, use_decoder=False), 'mean'),  # a discriminator
    ('xlm-roberta', dict(use_pooler=False), 'mean'),                                          # xlm-roberta-base
    ('bert', dict(use_pooler=False, use_decoder=True, use_classifier=False), 'mean'),         # BertForMaskedLM
    ('distilbert', dict(use_pooler=True, use_decoder=False), 'pooler'),
])
def test_encode_takes_every_family_with_each_pooling(tmp_path, architecture, heads, default):
    folder = _tiny_folder(tmp_path, architecture, **heads)
    for pooling in POOLINGS:
        if pooling == 'pooler' and not heads['use_pooler']:
            with pytest.raises(InputError, match='no pooler in its weights.*mean or cls'):
                encode(TEXTS, str(folder), pooling=pooling)
            continue
        vectors = encode(TEXTS, str(folder), pooling=pooling, batch_size=2)  # padded batches, a partial last one
        assert vectors.shape == (3, 16) and vectors.dtype == np.float32
        np.testing.assert_allclose(vectors, _by_hand(folder, TEXTS, pooling), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(encode(TEXTS, str(folder)), encode(TEXTS, str(folder), pooling=default))
    assert encode('최고', str(folder), pooling='cls').shape == (1, 16)


def test_encode_command_pools_as_asked_and_says_how(tmp_path, capsys):
    folder = _tiny_folder(tmp_path, 'electra', use_pooler=False, use_discriminator=True, use_decoder=False)
    for pooling, printed in ((None, 'mean'), ('cls', 'cls'), ('mean', 'mean')):
        code, out, err = run_cli(capsys, 'encode', '--model', folder, TEXTS[0],
                                 *(('--pooling', pooling) if pooling else ()))
        assert code == 0, err
        assert 'sentence vector ({}): (1, 16)'.format(printed) in out
        values = [float(v) for v in out.splitlines()[-1].split(':')[1].split()]
        assert values == pytest.approx(_by_hand(folder, TEXTS[:1], printed)[0, :8].tolist(), abs=1e-4)
    code, out, err = run_cli(capsys, 'encode', '--model', folder, '--pooling', 'pooler', TEXTS[0])
    assert code == 2 and not out and '--pooling mean|cls' in error_line(err, 'encode')
    code, out, err = run_cli(capsys, 'encode', '--model', 'kobert-mini', TEXTS[0])  # a pooler: the default
    assert code == 0 and 'sentence vector (pooler): (1, ' in out


def test_encode_refuses_what_it_cannot_take():
    from kobert_gluon.cli.text import POOLINGS as CHOICES  # the parser's copy (built without mxnet)
    assert CHOICES == POOLINGS
    with pytest.raises(InputError, match='pooling must be one of pooler, cls, mean'):
        encode(TEXTS, 'kobert-mini', pooling='max')
    with pytest.raises(InputError, match='non-empty list of texts'):
        encode([], 'kobert-mini')
    with pytest.raises(InputError, match='position table'):
        encode(TEXTS, 'kobert-mini', max_seq_length=100000)


# ----- --overwrite: the package's own folders, of every tokenizer kind ----------------------------------------------
def test_overwrite_replaces_model_folders_of_every_tokenizer_kind(tmp_path, capsys):
    mini = load_tokenizer('kobert-mini')
    vocab_txt = tmp_path / 'vocab.txt'
    vocab_txt.write_text(''.join(token + '\n' for token in mini.vocab.idx_to_token), encoding='utf-8')
    wordpiece = WordPieceTokenizer.from_vocab_txt(vocab_txt)
    for name, tokenizer in (('sentencepiece', mini), ('wordpiece', wordpiece)):
        folder = _tiny_folder(tmp_path, 'electra', tokenizer, name=name, use_pooler=False, use_discriminator=True,
                              use_decoder=False)
        again = _tiny_folder(tmp_path, 'electra', tokenizer, name=name + '-again', use_pooler=False,
                             use_discriminator=True, use_decoder=False)
        model, vocab = get_model(str(again))
        save_model(model, vocab, folder, load_tokenizer(str(again)), overwrite=True)
        assert (folder / 'model.params').read_bytes() == (again / 'model.params').read_bytes()
    # a file the package did not write is still named and kept
    (folder / 'notes.txt').write_text('mine', encoding='utf-8')
    with pytest.raises(Exception, match='notes.txt'):
        save_model(model, vocab, folder, load_tokenizer(str(again)), overwrite=True)
    assert (folder / 'notes.txt').read_text(encoding='utf-8') == 'mine'


def test_import_hf_overwrite_replaces_its_own_xlm_roberta_folder(tmp_path, capsys):
    transformers = pytest.importorskip('transformers', reason='the XLM-R checkpoint is made by transformers')
    pytest.importorskip('torch')
    transformers.logging.set_verbosity_error()
    source = tmp_path / 'spm'
    source.mkdir()
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', source / 'sentencepiece.bpe.model')
    tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(source))
    config = transformers.XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                           num_attention_heads=2, intermediate_size=32, max_position_embeddings=42,
                                           type_vocab_size=1)
    checkpoint = tmp_path / 'xlmr'
    transformers.XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    out = tmp_path / 'converted'
    assert run_cli(capsys, 'import-hf', checkpoint, '--out', out)[0] == 0
    assert (out / 'tokenizer.json').is_file()
    code, _, err = run_cli(capsys, 'import-hf', checkpoint, '--out', out, '--overwrite')
    assert code == 0, err
    # the checkpoint given to --model, and the converted folder given to import-hf: each says what it is
    code, _, err = run_cli(capsys, 'encode', '--model', checkpoint, '안녕')
    assert code == 2 and error_line(err, 'encode').endswith(
        '{} is a transformers checkpoint, not a kobert-gluon model folder: convert it with kobert-gluon import-hf '
        '{} --out DIR (kobert_gluon.import_hf) and use DIR'.format(checkpoint, checkpoint))
    code, _, err = run_cli(capsys, 'import-hf', out, '--out', tmp_path / 'again')
    assert code == 2 and '{} is already a kobert-gluon model folder: use it directly'.format(out) in \
        error_line(err, 'import-hf')
    assert code == 2 and 'no weights' not in err


# ----- a model argument that is not a model folder: what it is, what to do --------------------------------------
def test_a_path_that_is_not_a_model_says_what_it_is(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _tiny_folder(tmp_path, 'bert', use_pooler=True, use_decoder=False, use_classifier=False)
    (tmp_path / 'runs' / 'nsmc').mkdir(parents=True)
    shutil.copytree(model, tmp_path / 'runs' / 'nsmc' / 'best')
    (tmp_path / 'runs' / 'nsmc' / 'run.json').write_text('{}', encoding='utf-8')
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'unfinished').mkdir()
    (tmp_path / 'unfinished' / 'run.json').write_text('{}', encoding='utf-8')
    (tmp_path / 'vocab').mkdir()
    (tmp_path / 'vocab' / 'vocab.txt').write_text('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n안녕\n', encoding='utf-8')
    (tmp_path / 'vocab' / 'build_info.json').write_text('{}', encoding='utf-8')
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'manifest.json').write_text('{}', encoding='utf-8')
    (tmp_path / 'data' / 'part-00000-00.npz').write_bytes(b'')
    (tmp_path / 'tf').mkdir()
    (tmp_path / 'tf' / 'model.ckpt.index').write_bytes(b'')
    (tmp_path / 'tf' / 'model.ckpt.data-00000-of-00001').write_bytes(b'')
    (tmp_path / 'hf').mkdir()
    (tmp_path / 'hf' / 'config.json').write_text(json.dumps({'model_type': 'bert'}), encoding='utf-8')
    (tmp_path / 'hf' / 'model.safetensors').write_bytes(b'')
    expected = {
        'runs/nsmcc/best': 'runs/nsmcc/best: no such model folder (a model is a registered name or a model folder); '
                           'did you mean runs/nsmc/best?',
        'hf': 'hf is a transformers checkpoint, not a kobert-gluon model folder: convert it with kobert-gluon '
              'import-hf hf --out DIR (kobert_gluon.import_hf) and use DIR',
        'tf': 'tf holds a TensorFlow checkpoint, not a kobert-gluon model folder: convert it with kobert-gluon '
              'import-tf tf/model.ckpt --config CONFIG --vocab VOCAB --out DIR and use DIR',
        'vocab': 'vocab is a vocabulary folder (build-vocab), not a model: give it to --vocab',
        'data': 'data is pretraining data (create-pretraining-data), not a model: give it to pretrain --data',
        'empty': 'empty is an empty folder, not a model folder',
        'unfinished': 'unfinished is a run folder without a best model yet',
        'bert/model.params': 'bert/model.params is a file of the model folder bert: give the folder itself',
    }
    for given, message in expected.items():
        code, out, err = run_cli(capsys, 'encode', '--model', given, '안녕')
        assert code == 2 and not out and message in error_line(err, 'encode'), given
        with pytest.raises(InputError) as caught:
            get_model(given)
        assert message in str(caught.value), given
    # a run folder still means its best model, and the vocabulary folder still gives its tokenizer
    code, out, err = run_cli(capsys, 'encode', '--model', 'runs/nsmc', '안녕')
    assert code == 0, err
    assert load_tokenizer('vocab').kind == 'wordpiece'
    code, _, err = run_cli(capsys, 'import-hf', 'bert', '--out', 'converted')
    assert code == 2 and 'bert is already a kobert-gluon model folder: use it directly' in error_line(err, 'import-hf')
    code, _, err = run_cli(capsys, 'import-hf', 'tf', '--out', 'converted')
    assert code == 2 and 'convert it with kobert-gluon import-tf tf/model.ckpt' in error_line(err, 'import-hf')


# ----- data files: what they are, not what they are not ------------------------------------------------------------
def test_a_utf16_table_is_named_as_utf16_not_binary(tmp_path, capsys):
    rows = 'document\tlabel\n정말 재밌어요\t1\n별로예요\t0\n'
    for name, data in (('bom.tsv', rows.encode('utf-16')), ('le.tsv', rows.encode('utf-16-le'))):
        (tmp_path / name).write_bytes(data)
        code, out, err = run_cli(capsys, 'evaluate', '--model', 'kobert-mini-nsmc', '--data', tmp_path / name)
        assert code == 2 and not out
        assert error_line(err, 'evaluate').endswith(
            '{}, line 1: this file is UTF-16, not text in a one-byte-per-character encoding; convert it to UTF-8 '
            'or pass --encoding utf-16'.format(tmp_path / name))
    (tmp_path / 'binary.tsv').write_bytes((model_folder_of('kobert-mini') / 'model.params').read_bytes()[:200])
    code, _, err = run_cli(capsys, 'evaluate', '--model', 'kobert-mini-nsmc', '--data', tmp_path / 'binary.tsv')
    assert code == 2 and 'binary file' in error_line(err, 'evaluate')


def test_a_naver_ner_file_without_blank_lines_is_refused_where_a_sentence_restarts(tmp_path):
    from kobert_gluon.tasks.tagging import read_tagged
    path = tmp_path / 'naver.tsv'
    path.write_text('1\t김민수는\tPER_B\n2\t갔다\t-\n1\t서울은\tLOC_B\n2\t크다\t-\n', encoding='utf-8')
    with pytest.raises(InputError, match=r'line 3: index 1 starts a new sentence, but no blank line ends the one '
                                         r'that started on line 1'):
        read_tagged(str(path), 'naver')
    path.write_text('1\t김민수는\tPER_B\n3\t갔다\t-\n', encoding='utf-8')
    with pytest.raises(InputError, match='line 2: index 3 where 2 was expected'):
        read_tagged(str(path), 'naver')
    path.write_text('1\t김민수는\tPER_B\n2\t갔다\t-\n\n1\t서울은\tLOC_B\n2\t크다\t-\n', encoding='utf-8')
    data = read_tagged(str(path), 'naver')
    assert [example.text for example in data.examples] == ['김민수는 갔다', '서울은 크다']
