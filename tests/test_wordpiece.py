"""The WordPiece tokenizer kind: transformers' BertTokenizer / ElectraTokenizer pieces and ids on KoELECTRA's real
vocab.txt and real Korean text, the kind's own rules on a small vocabulary, load_tokenizer for every source, and
WordPiece checkpoints through import-hf / export-hf."""
import json
import pickle

import numpy as np
import pytest

import kobert_gluon
from kobert_gluon import WordPieceTokenizer, load_tokenizer
from kobert_gluon.core.errors import InputError

from .conftest import require_shared

SMALL_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '영화', '##가', '재미', '##있', '##다', '정말', '!',
               '.', '최', '##악']


@pytest.fixture
def small_vocab(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text(''.join(token + '\n' for token in SMALL_VOCAB), encoding='utf-8')
    return path


def test_pieces_ids_and_unknowns_on_a_small_vocabulary(small_vocab):
    tokenizer = WordPieceTokenizer.from_vocab_txt(small_vocab)
    assert tokenizer.tokenize('정말 영화가 재미있다!') == ['정말', '영화', '##가', '재미', '##있', '##다', '!']
    assert tokenizer.tokenize('최악. 없는말') == ['최', '##악', '.', '[UNK]']  # no piece sequence: one [UNK]
    assert tokenizer.tokenize('영화' * 60) == ['[UNK]']  # past the 100-character limit, as transformers
    ids, length, types = tokenizer.encode('정말 영화가', '최악', max_seq_length=10)
    assert list(ids[:int(length)]) == [2, 10, 5, 6, 3, 13, 14, 3] and int(length) == 8
    assert list(types[:8]) == [0, 0, 0, 0, 0, 1, 1, 1] and list(ids[8:]) == [0, 0]  # [PAD] is id 0 here
    again = pickle.loads(pickle.dumps(tokenizer))  # DataLoader workers get a copy
    assert again.tokenize('정말 영화가') == tokenizer.tokenize('정말 영화가')


def test_load_tokenizer_takes_every_source(small_vocab, tmp_path):
    assert load_tokenizer(small_vocab).kind == 'wordpiece'
    mini = load_tokenizer('kobert-mini')
    assert mini.kind == 'sentencepiece' and len(mini.vocab) == 8002
    from kobert_gluon.models.zoo import model_folder_of
    assert load_tokenizer(model_folder_of('kobert-mini') / 'tokenizer.model').kind == 'sentencepiece'
    folder = tmp_path / 'words'
    folder.mkdir()
    WordPieceTokenizer.from_vocab_txt(small_vocab).save_files(folder)
    assert load_tokenizer(folder).vocab.idx_to_token == SMALL_VOCAB
    with pytest.raises(FileNotFoundError, match='no such tokenizer file'):
        load_tokenizer(tmp_path / 'missing' / 'vocab.txt')
    (tmp_path / 'other.bin').write_bytes(b'x')
    with pytest.raises(InputError,
                       match=r'a tokenizer file is one of .model/.spiece \(sentencepiece\), .txt/.json \(wordpiece\)'):
        load_tokenizer(tmp_path / 'other.bin')
    bad = tmp_path / 'bad.txt'
    bad.write_text('[PAD]\n[UNK]\n[PAD]\n[CLS]\n[SEP]\n[MASK]\n', encoding='utf-8')
    with pytest.raises(InputError, match='twice'):
        load_tokenizer(bad)


def _korean_lines(count):
    lines = require_shared('nsmc', 'ratings_train.txt').read_text(encoding='utf-8').splitlines()[1:count + 1]
    return [line.split('\t')[1] for line in lines]


@pytest.mark.parametrize('cls_name', ['BertTokenizer', 'ElectraTokenizer'])
def test_same_pieces_and_ids_as_transformers_on_koelectras_vocab(cls_name):
    transformers = pytest.importorskip('transformers', reason='needs transformers (in the test extra)')
    vocab = require_shared('koelectra', 'vocab.txt')
    ours = load_tokenizer(vocab)
    theirs = getattr(transformers, cls_name)(str(vocab), do_lower_case=False)
    texts = _korean_lines(3000) + ['ＫｏＥＬＥＣＴＲＡ는 2020년에 나왔다. 漢字 섞인 문장!!', 'café naïve Ünïcode',
                                   '띄어쓰기없는아주긴문장입니다' * 8]
    differences = []
    for text in texts:
        pieces = ours.tokenize(text)
        if pieces != theirs.tokenize(text) or ours.vocab[pieces] != theirs.convert_tokens_to_ids(pieces):
            differences.append(text)
    assert differences == []
    ids, length, types = ours.encode(texts[0], texts[1], max_seq_length=64)
    expected = theirs(texts[0], texts[1], max_length=64, truncation='longest_first')['input_ids']
    assert list(ids[:int(length)]) == expected


def test_a_wordpiece_checkpoint_converts_both_ways(tmp_path, small_vocab):
    transformers = pytest.importorskip('transformers', reason='needs transformers (in the test extra)')
    pytest.importorskip('torch', reason='needs torch (in the test extra)')
    config = transformers.BertConfig(vocab_size=len(SMALL_VOCAB), hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=4, intermediate_size=64, max_position_embeddings=32)
    folder = tmp_path / 'hf'
    transformers.BertModel(config).save_pretrained(folder)
    (folder / 'vocab.txt').write_bytes(small_vocab.read_bytes())  # vocab.txt alone: a WordPiece tokenizer
    out = kobert_gluon.import_hf(folder, tmp_path / 'gluon')
    assert load_tokenizer(out).kind == 'wordpiece'
    model, vocab = kobert_gluon.get_model(str(out))
    assert vocab.idx_to_token == SMALL_VOCAB
    back = kobert_gluon.export_hf(out, tmp_path / 'back')
    assert (back / 'vocab.txt').read_text(encoding='utf-8').split() == SMALL_VOCAB
    assert not (back / 'tokenizer.model').exists()
    again = transformers.BertTokenizer(str(back / 'vocab.txt'), do_lower_case=False)
    assert again.tokenize('정말 영화가') == ['정말', '영화', '##가']
    assert np.array_equal(np.array(again.convert_tokens_to_ids(['영화'])), np.array([5]))


def test_a_kind_reads_and_writes_its_transformers_files(small_vocab, tmp_path):
    from kobert_gluon.tokenizers.registry import read_transformers_tokenizer, transformers_writer
    tokenizer = WordPieceTokenizer.from_vocab_txt(small_vocab)
    folder = tmp_path / 'export'
    folder.mkdir()
    transformers_writer('wordpiece')(tokenizer, folder, 64)
    assert (folder / 'vocab.txt').read_text(encoding='utf-8').splitlines() == SMALL_VOCAB
    settings = json.loads((folder / 'tokenizer_config.json').read_text(encoding='utf-8'))
    assert settings['do_lower_case'] is False and settings['model_max_length'] == 64
    back = read_transformers_tokenizer(folder)
    assert back.kind == 'wordpiece' and back.vocab.idx_to_token == SMALL_VOCAB
    assert read_transformers_tokenizer(tmp_path / 'nothing-here') is None
    with pytest.raises(InputError, match='a mecab[+]wordpiece tokenizer has no transformers files .*export-hf writes '
                                         'the tokenizers of kinds sentencepiece, sentencepiece-transformers, wordpiece'):
        transformers_writer('mecab+wordpiece')
