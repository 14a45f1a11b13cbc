"""build-vocab --kind wordpiece: KoELECTRA's layout, the same ids through transformers' own tokenizer, repeatable
files, Mecab pre-tokenization, and the vocabulary working where a vocabulary does (pretraining data with whole-word
masking, pretraining, fine-tuning)."""
import json

import numpy as np
import pytest

from kobert_gluon import load_tokenizer
from kobert_gluon.pretraining.data import PretrainingData

from .conftest import SHARED_DATA, run_cli
from .nsmc_fixtures import nsmc_test_slice, nsmc_train_slice  # noqa: F401

SIZE, UNUSED = 3000, 10


@pytest.fixture(scope='module')
def wordpiece_folder(nsmc_train_slice, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp('wordpiece') / 'vocab'
    from kobert_gluon.cli import main
    assert main(['build-vocab', '--kind', 'wordpiece', '--corpus', str(nsmc_train_slice), '--column', 'document',
                 '--size', str(SIZE), '--unused-tokens', str(UNUSED), '--out', str(out)]) == 0
    return out


def _reviews(path, count=300):
    lines = path.read_text(encoding='utf-8').splitlines()[1:count + 1]
    return [line.split('\t')[1] for line in lines if len(line.split('\t')) > 1]


def test_layout_and_ids_equal_transformers(wordpiece_folder, nsmc_train_slice, nsmc_test_slice, tmp_path,  # noqa: F811
                                           capsys):
    tokens = (wordpiece_folder / 'vocab.txt').read_text(encoding='utf-8').splitlines()
    assert tokens[:5] == ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    assert tokens[-UNUSED:] == ['[unused{}]'.format(i) for i in range(UNUSED)]
    assert len(tokens) == len(set(tokens)) == SIZE + UNUSED
    assert any(token.startswith('##') for token in tokens)
    info = json.loads((wordpiece_folder / 'build_info.json').read_text())
    assert info['kind'] == 'wordpiece' and info['wordpiece']['pre_tokenize'] == 'none'
    assert 0 <= info['unk_rate_on_training_sample'] < 0.01 and info['pieces_per_word_on_training_sample'] > 1

    transformers = pytest.importorskip('transformers')
    reference = transformers.BertTokenizer(str(wordpiece_folder / 'vocab.txt'), do_lower_case=False,
                                           tokenize_chinese_chars=True, strip_accents=False)
    ours = load_tokenizer(wordpiece_folder)
    for text in _reviews(nsmc_test_slice):  # text the vocabulary was not built on
        ids = ours.encode(text, max_seq_length=64, pad=False).input_ids.tolist()
        assert ids == reference(text, max_length=64, truncation=True)['input_ids'], text

    # the same corpus and settings: the same tokens but for ties (the tokenizers trainer breaks ties between equally
    # frequent merges in an order that changes from process to process)
    code, out, _ = run_cli(capsys, 'build-vocab', '--kind', 'wordpiece', '--corpus', nsmc_train_slice,
                           '--column', 'document', '--size', SIZE, '--unused-tokens', UNUSED, '--out', tmp_path / 'again')
    assert code == 0 and 'vocab.txt' in out
    again = (tmp_path / 'again' / 'vocab.txt').read_text(encoding='utf-8').splitlines()
    assert len(again) == len(tokens) and again[:5] == tokens[:5] and again[-UNUSED:] == tokens[-UNUSED:]
    assert len(set(again) & set(tokens)) >= 0.97 * len(tokens)


def test_mecab_pre_tokenization(nsmc_train_slice, wordpiece_folder, tmp_path, capsys):  # noqa: F811
    pytest.importorskip('mecab_ko', reason='the [mecab] extra is not installed')
    code, _, err = run_cli(capsys, 'build-vocab', '--kind', 'wordpiece', '--pre-tokenize', 'mecab', '--corpus',
                           nsmc_train_slice, '--column', 'document', '--size', SIZE, '--unused-tokens', UNUSED,
                           '--out', tmp_path / 'mecab')
    assert code == 0, err
    info = json.loads((tmp_path / 'mecab' / 'build_info.json').read_text())
    assert info['wordpiece']['pre_tokenize'] == 'mecab'
    tokens = set((tmp_path / 'mecab' / 'vocab.txt').read_text(encoding='utf-8').splitlines())
    plain = set((wordpiece_folder / 'vocab.txt').read_text(encoding='utf-8').splitlines())
    assert tokens != plain
    if (SHARED_DATA / 'nsmc').is_dir():  # real reviews: particles and endings become continuation pieces
        assert {'##는', '##다', '##을'} <= tokens
        assert load_tokenizer(tmp_path / 'mecab').tokenize('영화는') == ['영화', '##는']
        # morpheme-bounded pieces split words into more pieces than whole-word training does
        assert info['pieces_per_word_on_training_sample'] > \
            json.loads((wordpiece_folder / 'build_info.json').read_text())['pieces_per_word_on_training_sample']


def test_a_wordpiece_vocabulary_pretrains_and_fine_tunes(wordpiece_folder, nsmc_train_slice, tmp_path,  # noqa: F811
                                                         capsys):
    code, _, err = run_cli(capsys, 'create-pretraining-data', '--input', nsmc_train_slice, '--column', 'document',
                           '--input-format', 'lines', '--vocab', wordpiece_folder, '--out', tmp_path / 'data',
                           '--max-seq-length', 48, '--max-predictions-per-seq', 8, '--dupe-factor', 1,
                           '--do-whole-word-mask', '--workers', 2, '--chunk-documents', 500)
    assert code == 0, err
    data = PretrainingData(tmp_path / 'data')
    tokens = load_tokenizer(wordpiece_folder).vocab.idx_to_token
    shard = np.load(str(tmp_path / 'data' / data.manifest['shards'][0]['file']))
    # whole-word masking: a masked continuation piece (##) always follows a masked piece of the same word (or
    # [CLS]/[SEP], where truncation cut a word)
    specials = {tokens.index('[CLS]'), tokens.index('[SEP]')}
    checked = 0
    for ids, positions, originals, weights in zip(shard['input_ids'], shard['masked_lm_positions'],
                                                   shard['masked_lm_ids'], shard['masked_lm_weights']):
        masked = {int(p) for p, w in zip(positions, weights) if w > 0}
        for position, original in zip(positions, originals):
            if int(position) in masked and tokens[int(original)].startswith('##'):
                assert int(position) - 1 in masked or int(ids[int(position) - 1]) in specials
                checked += int(position) - 1 in masked
    assert checked > 0

    code, _, err = run_cli(capsys, 'pretrain', '--data', tmp_path / 'data', '--vocab', wordpiece_folder,
                           '--from-scratch', '--num-layers', 1, '--units', 32, '--hidden-size', 64, '--num-heads', 2,
                           '--max-length', 48, '--max-steps', 2, '--eval-every', 2, '--no-progress',
                           '--out', tmp_path / 'run')
    assert code == 0, err
    config = json.loads((tmp_path / 'run' / 'best' / 'config.json').read_text())
    assert config['tokenizer']['kind'] == 'wordpiece'
    assert (tmp_path / 'run' / 'best' / 'vocab.txt').read_bytes() == (wordpiece_folder / 'vocab.txt').read_bytes()
    code, _, err = run_cli(capsys, 'finetune', '--task', 'nsmc', '--train', nsmc_train_slice, '--model',
                           tmp_path / 'run' / 'best', '--epochs', 1, '--max-seq-length', 32, '--no-progress',
                           '--out', tmp_path / 'nsmc')
    assert code == 0, err
    code, printed, err = run_cli(capsys, 'predict', '--model', tmp_path / 'nsmc', '재미있는 영화')
    assert code == 0 and printed.splitlines()[1].split('\t')[0] == '재미있는 영화'


def test_option_errors(nsmc_train_slice, tmp_path, capsys):  # noqa: F811
    base = ['build-vocab', '--corpus', nsmc_train_slice, '--column', 'document', '--size', 500]
    code, _, err = run_cli(capsys, *base, '--pre-tokenize', 'mecab', '--out', tmp_path / 'a')
    assert code == 2 and '--pre-tokenize is an option of --kind wordpiece, not of --kind sentencepiece' in err
    code, _, err = run_cli(capsys, *base, '--kind', 'wordpiece', '--threads', 2, '--out', tmp_path / 'b')
    assert code == 2 and '--threads is an option of --kind sentencepiece, not of --kind wordpiece' in err
    code, _, err = run_cli(capsys, *base, '--kind', 'wordpiece', '--unused-tokens', -1, '--out', tmp_path / 'c')
    assert code == 2 and 'unused_tokens' in err
    # 2,000 reviews need ~1,100 characters, twice over with their ## forms: 1,000 tokens cannot hold them
    code, _, err = run_cli(capsys, *base[:-1], 1000, '--kind', 'wordpiece', '--out', tmp_path / 'd')
    assert code == 2 and 'alphabet' in err and '--size' in err
    assert not any((tmp_path / name).exists() for name in 'abcd')


def test_a_kind_builds_its_own_vocabulary(nsmc_train_slice, tmp_path):  # noqa: F811
    from kobert_gluon.tokenizers.registry import get_tokenizer_kind, vocabulary_kinds
    assert vocabulary_kinds() == ['sentencepiece', 'wordpiece', 'mecab+wordpiece']
    kind = get_tokenizer_kind('wordpiece')
    assert 'pre_tokenize' in kind.vocab_options and 'num_threads' not in kind.vocab_options
    folder = kind.build_vocab(str(nsmc_train_slice), SIZE, tmp_path / 'vocab', column='document', unused_tokens=0)
    assert folder.kind == 'wordpiece' and folder.files == [tmp_path / 'vocab' / 'vocab.txt']
    assert folder.tokenizer().kind == 'wordpiece' and len(folder.tokenizer().vocab) == SIZE
    assert load_tokenizer(tmp_path / 'vocab' / 'vocab.txt').vocab.idx_to_token == folder.vocab().idx_to_token
