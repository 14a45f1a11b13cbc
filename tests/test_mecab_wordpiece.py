"""The mecab+wordpiece tokenizer kind: Mecab morphemes, then WordPiece, as a model trained on Mecab-split text is
fed; built by build-vocab --kind mecab+wordpiece, recorded in model folders, with piece offsets for NER."""
import json
import pickle

import pytest

from kobert_gluon import load_tokenizer
from kobert_gluon.tokenizers.mecab_wordpiece import MecabWordPieceTokenizer
from kobert_gluon.tokenizers.wordpiece import WordPieceTokenizer

from .conftest import run_cli

pytest.importorskip('mecab_ko', reason='the [mecab] extra is not installed')

SYLLABLES = '영화가정말재밌었다배우연기좋았어요는을를이서울에갔김민수부산최고'
VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '영화', '재밌', '배우', '연기', '서울', '김민수', '부산'] + \
    list(SYLLABLES) + ['##' + c for c in SYLLABLES]


@pytest.fixture
def vocab_txt(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text(''.join(token + '\n' for token in dict.fromkeys(VOCAB)), encoding='utf-8')
    return path


def test_pieces_follow_morphemes_where_plain_wordpiece_does_not(vocab_txt):
    mecab = MecabWordPieceTokenizer.from_vocab_txt(vocab_txt)
    plain = WordPieceTokenizer.from_vocab_txt(vocab_txt)
    assert mecab.tokenize('영화가 정말 재밌었다') == ['영화', '가', '정', '##말', '재밌', '었', '다']
    assert plain.tokenize('영화가 정말 재밌었다') == ['영화', '##가', '정', '##말', '재밌', '##었', '##다']
    # special tokens stay whole, the text between them goes through Mecab
    assert mecab.tokenize('[CLS] 영화가 [MASK] [SEP]') == ['[CLS]', '영화', '가', '[MASK]', '[SEP]']
    # offsets: every piece's characters in the text as given
    text = '김민수는  서울에 갔다'
    spans = mecab.piece_offsets(text)
    assert [(s.piece, text[s.start:s.end]) for s in spans][:3] == [('김민수', '김민수'), ('는', '는'), ('서울', '서울')]
    # it pickles (into DataLoader and pretraining-data workers) without its Mecab tagger, and works after
    again = pickle.loads(pickle.dumps(mecab))
    assert again.tokenize('영화가') == ['영화', '가'] and again.kind == 'mecab+wordpiece'


def test_build_vocab_makes_a_folder_of_the_kind_and_models_keep_it(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join(['영화가 정말 재밌었다', '배우들 연기가 좋았어요', '김민수는 서울에 갔다',
                                 '부산에서 영화를 봤다'] * 50) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'build-vocab', '--kind', 'mecab+wordpiece', '--corpus', corpus, '--size', '120',
                           '--unused-tokens', '0', '--min-frequency', '1', '--out', tmp_path / 'vocab')
    assert code == 0, err
    info = json.loads((tmp_path / 'vocab' / 'build_info.json').read_text())
    assert info['kind'] == 'mecab+wordpiece' and info['wordpiece']['pre_tokenize'] == 'mecab'
    tokenizer = load_tokenizer(tmp_path / 'vocab')
    assert tokenizer.kind == 'mecab+wordpiece'
    # --kind wordpiece --pre-tokenize mecab stays KoELECTRA's recipe: plain WordPiece at use
    code, _, err = run_cli(capsys, 'build-vocab', '--kind', 'wordpiece', '--pre-tokenize', 'mecab', '--corpus', corpus,
                           '--size', '120', '--unused-tokens', '0', '--min-frequency', '1', '--out', tmp_path / 'ko')
    assert code == 0, err and load_tokenizer(tmp_path / 'ko').kind == 'wordpiece'
    # a model with it records the kind; a tagger fine-tuned on it predicts entities as spans of the text
    import mxnet as mx
    from kobert_gluon import BertConfig, build_bert, save_model
    from kobert_gluon.models.building import initialize_random
    model = build_bert(BertConfig(vocab_size=len(tokenizer.vocab), num_layers=1, units=32, hidden_size=64,
                                  num_heads=2, max_length=64, embed_size=32), use_decoder=False, use_classifier=False)
    initialize_random(model, seed=1)
    model(mx.nd.array([[2, 3]]), mx.nd.zeros((1, 2)), mx.nd.array([2]))
    save_model(model, tokenizer.vocab, tmp_path / 'base', tokenizer)
    rows = ['1\t{}는\tPER_B\n2\t{}에\tLOC_B\n3\t{}\t-\n'.format(name, place, verb)
            for name in ('김민수', '이영희', '박지성', '최수진') for place in ('서울', '부산', '대구', '광주')
            for verb in ('갔다', '왔다', '살았다')]
    train = tmp_path / 'train.tsv'
    train.write_text('\n'.join(rows), encoding='utf-8')
    code, _, err = run_cli(capsys, 'finetune', '--kind', 'token_classification', '--data-format', 'naver', '--train',
                           train, '--dev-fraction', '0.2', '--max-steps', '3', '--batch-size', '8',
                           '--max-seq-length', '24', '--model', tmp_path / 'base', '--no-progress',
                           '--out', tmp_path / 'run')
    assert code == 0, err
    document = json.loads((tmp_path / 'run' / 'best' / 'config.json').read_text())
    assert document['tokenizer']['kind'] == 'mecab+wordpiece'
    text = '김민수는 서울에 갔다'
    code, out, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', text)
    assert code == 0, err
    for entity in json.loads(out)['entities']:
        assert text[entity['start']:entity['end']] == entity['text']
