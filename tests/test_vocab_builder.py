"""Building a KoBERT-layout vocabulary on real Korean text (NSMC slices)."""
import json

import pytest
import sentencepiece as spm

import kobert_gluon
import gluonnlp as nlp  # after kobert_gluon, which imports mxnet/gluonnlp without their import warnings
from kobert_gluon import TextSource, build_vocab
from kobert_gluon.cli import main
from kobert_gluon.tokenizers.vocab_builder import bert_vocab_from_sentencepiece, read_vocab_folder

from .nsmc_fixtures import VOCAB_SIZE, nsmc_test_slice, nsmc_train_slice, nsmc_vocab  # noqa: F401


def test_kobert_vocab_is_exactly_what_the_builder_derives_from_the_kobert_sentencepiece_model(kobert_files):
    derived = bert_vocab_from_sentencepiece(kobert_files / 'tokenizer_78b3253a26.model')
    assert derived.idx_to_token == kobert_gluon.get_vocab().idx_to_token
    assert len(derived) == 8002


def test_shipped_kobert_mini_vocab_is_exactly_what_the_builder_derives_from_its_sentencepiece_model():
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    sp_path, vocab = resolve_tokenizer_files('kobert-mini')
    derived = bert_vocab_from_sentencepiece(sp_path)
    assert derived.idx_to_token == vocab.idx_to_token
    assert len(derived) == 8002


def test_built_vocab_has_kobert_layout(nsmc_vocab):
    vocab = nsmc_vocab.vocab()
    assert vocab.idx_to_token[:5] == ['[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]']
    assert len(vocab) == VOCAB_SIZE + 2
    assert (vocab.padding_token, vocab.cls_token, vocab.sep_token, vocab.mask_token) == \
        ('[PAD]', '[CLS]', '[SEP]', '[MASK]')
    processor = spm.SentencePieceProcessor(model_file=str(nsmc_vocab.tokenizer_path))
    assert processor.get_piece_size() == VOCAB_SIZE
    assert [processor.id_to_piece(i) for i in range(3)] == ['<unk>', '<s>', '</s>']
    pieces = {processor.id_to_piece(i) for i in range(3, VOCAB_SIZE)}
    assert set(vocab.idx_to_token[5:]) == pieces
    assert vocab.idx_to_token[5:] == sorted(pieces)  # KoBERT's order
    info = nsmc_vocab.build_info()
    assert info['corpus_lines'] == info['training_lines'] == 2000
    assert info['sentencepiece']['character_coverage'] == 0.9995


def test_every_piece_emitted_on_unseen_reviews_is_in_the_vocab(nsmc_vocab, nsmc_test_slice):
    sp_path, vocab = read_vocab_folder(nsmc_vocab.folder)
    tokenizer = nlp.data.BERTSPTokenizer(sp_path, vocab, lower=False)  # plain gluonnlp, as with KoBERT's files
    processor = spm.SentencePieceProcessor(model_file=sp_path)
    reviews = [text for text in TextSource([nsmc_test_slice], column='document').lines() if text.strip()]
    emitted = unknown = 0
    for review in reviews:
        for piece in tokenizer(review):
            emitted += 1
            if piece not in vocab.token_to_idx:
                # The only pieces outside the vocab are characters SentencePiece itself does not know.
                assert processor.piece_to_id(piece) == processor.unk_id(), piece
                unknown += 1
    assert emitted > 20000
    # Syllables never seen in 2,000 training reviews are all that is left out (0.6 % here; the vocab built on all
    # of NSMC train leaves far fewer); a coverage or layout mistake shows up as several percent.
    assert unknown / emitted < 0.01


def test_bert_sentence_transform_works_with_the_built_files(nsmc_vocab):
    tokenizer = nsmc_vocab.tokenizer()
    transform = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=32, pair=True)
    ids, valid_length, segments = transform(('아 더빙.. 진짜 짜증나네요', '목소리'))
    pieces = tokenizer('아 더빙.. 진짜 짜증나네요') + tokenizer('목소리')
    assert valid_length == len(pieces) + 3
    assert ids[0] == 2 and ids[valid_length - 1] == 3 and list(ids[valid_length:]) == [1] * (32 - valid_length)
    assert list(ids[1:valid_length - 1]).count(3) == 1
    assert segments[valid_length - 1] == 1 and segments[0] == 0
    assert '▁.' in pieces or '.' in pieces  # punctuation is split off before SentencePiece, as for KoBERT


def test_same_corpus_and_seed_give_identical_files_and_sampling_bounds_the_training_lines(nsmc_train_slice, tmp_path):
    first = build_vocab([nsmc_train_slice], 1000, tmp_path / 'a', column='document', input_sentence_size=500,
                        seed=7, num_threads=1)
    second = build_vocab([nsmc_train_slice], 1000, tmp_path / 'b', column='document', input_sentence_size=500,
                         seed=7, num_threads=1)
    for name in ('tokenizer.model', 'vocab.json'):
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes()
    info = first.build_info()
    assert (info['corpus_lines'], info['training_lines']) == (2000, 500)
    other = build_vocab([nsmc_train_slice], 1000, tmp_path / 'c', column='document', input_sentence_size=500,
                        seed=8, num_threads=1)
    assert (other.folder / 'tokenizer.model').read_bytes() != (first.folder / 'tokenizer.model').read_bytes()


def test_tsv_column_by_index_with_skip_header_reads_the_same_text(nsmc_train_slice):
    by_name = list(TextSource([nsmc_train_slice], column='document').lines())
    by_index = list(TextSource([nsmc_train_slice], column=1, header=True).lines())
    assert by_name == by_index and len(by_name) == 2000
    second_line = nsmc_train_slice.read_text(encoding='utf-8').split('\n')[1]
    assert by_name[0] == second_line.split('\t')[1]  # on NSMC: '아 더빙.. 진짜 짜증나네요 목소리'
    with pytest.raises(ValueError, match="no column named 'review'"):
        list(TextSource([nsmc_train_slice], column='review').lines())


def test_cli_refuses_a_non_empty_out_folder_unless_overwrite(nsmc_train_slice, tmp_path, capsys):
    out = tmp_path / 'vocab'
    out.mkdir()
    (out / 'notes.txt').write_text('keep me')
    args = ['build-vocab', '--corpus', str(nsmc_train_slice), '--column', 'document', '--size', '1500',
            '--out', str(out), '--threads', '1']
    assert main(args) == 2
    assert 'already exists and is not empty' in capsys.readouterr().err
    assert (out / 'notes.txt').read_text() == 'keep me'
    # --overwrite replaces only what kobert-gluon wrote: a folder holding the user's own files is refused
    assert main(args + ['--overwrite']) == 2
    assert 'was not written by kobert-gluon' in capsys.readouterr().err
    assert (out / 'notes.txt').read_text() == 'keep me'
    (out / 'notes.txt').unlink()
    assert main(args) == 0
    assert main(args + ['--overwrite']) == 0
    assert 'vocabulary: 1,502 tokens' in capsys.readouterr().out
    assert json.loads((out / 'build_info.json').read_text())['bert_vocab_size'] == 1502


def test_too_large_a_vocabulary_for_the_corpus_is_a_clear_error(nsmc_train_slice, tmp_path):
    with pytest.raises(ValueError, match='could not train a 60000-piece model'):
        build_vocab([nsmc_train_slice], 60000, tmp_path / 'v', column='document', num_threads=1)
    assert not (tmp_path / 'v').exists()
