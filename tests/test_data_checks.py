"""Reading what users give and writing what they asked for: encodings, blank inputs, outputs over inputs,
limits, SQuAD files and tagged text checked field by field. Every test calls the command line (or the reader) as a
user would and runs on the models that ship in the package."""
import io
import json
import sys

import pytest

from kobert_gluon.core.errors import InputError

from .conftest import LONG_REVIEW, error_line, run_cli

MODEL = 'kobert-mini-nsmc'  # NSMC sentiment: reads the 'document' column; labels 0 / 1; 128 positions
TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64',
        '--num-heads', '2', '--max-seq-length', '32', '--no-progress', '--batch-size', '8', '--epochs', '1']
REVIEWS = ['정말 재밌어요', '최악의 영화', '배우 연기가 좋다', '시간이 아깝다', '감동적인 이야기', '너무 지루하다']




def nsmc_file(path, rows, encoding='utf-8', bom=False):
    text = 'id\tdocument\tlabel\n' + ''.join('{}\t{}\t{}\n'.format(i, t, i % 2) for i, t in enumerate(rows))
    path.write_bytes((b'\xef\xbb\xbf' if bom else b'') + text.encode(encoding))
    return path


def output_rows(stdout):
    lines = stdout.rstrip('\n').split('\n')
    return lines[0].split('\t'), [line.split('\t') for line in lines[1:]]


def set_stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, 'stdin', io.TextIOWrapper(io.BytesIO(data), encoding='utf-8'))


# ----- predict: one row per input ---------------------------------------------------------------------------
def test_predict_keeps_a_row_for_every_argument_in_order(capsys):
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '정말 재밌어요', '   ', '최악의 영화', '')
    assert code == 0
    header, rows = output_rows(out)
    assert header == ['text', 'label', 'p_negative', 'p_positive']
    assert [row[0] for row in rows] == ['정말 재밌어요', '', '최악의 영화', '']
    assert [row[1] for row in rows] == ['positive', '', 'negative', '']
    assert 'argument 2 (blank)' in err and 'argument 4 (blank)' in err and '2 of 4 inputs' in err


def test_predict_keeps_a_row_for_every_stdin_line(capsys, monkeypatch):
    set_stdin(monkeypatch, '정말 재밌어요\n\n최악의 영화\n \n'.encode('utf-8'))
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL)
    assert code == 0
    _, rows = output_rows(out)
    assert [row[1] for row in rows] == ['positive', '', 'negative', '']
    assert 'stdin line 2 (blank)' in err and 'stdin line 4 (blank)' in err


def test_predict_input_file_rows_join_back_to_their_lines(tmp_path, capsys):
    source = tmp_path / 'reviews.tsv'
    source.write_text('id\tdocument\n1\t정말 재밌어요\n2\t\n\n3\t"unclosed\n4\t최악의 영화\n', encoding='utf-8')
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', source)
    assert code == 2 and 'line 5' in error_line(err, 'predict')  # a malformed row stops, as in training
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', source, '--skip-bad-rows')
    assert code == 0
    _, rows = output_rows(out)
    assert len(rows) == 5  # every data line: text, empty text, blank line, malformed, text
    assert [row[1] for row in rows] == ['positive', '', '', '', 'negative']
    assert 'line 3 (empty text)' in err and 'line 4 (blank line)' in err and 'line 5 (bad quoting' in err


def test_predict_refuses_to_write_over_its_input_whatever_the_name(tmp_path, capsys):
    source = nsmc_file(tmp_path / 'in.tsv', REVIEWS[:2])
    before = source.read_bytes()
    (tmp_path / 'hard.tsv').hardlink_to(source)
    (tmp_path / 'soft.tsv').symlink_to(source)
    for output in (source, tmp_path / 'hard.tsv', tmp_path / 'soft.tsv', tmp_path / '.' / 'in.tsv'):
        code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', source, '--output', output)
        assert code == 2 and 'would destroy the input' in error_line(err, 'predict')
    assert source.read_bytes() == before
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', source, '--output', tmp_path / 'out.tsv')
    assert code == 0, err
    _, rows = output_rows((tmp_path / 'out.tsv').read_text(encoding='utf-8'))
    assert [row[0] for row in rows] == REVIEWS[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['hard.tsv', 'in.tsv', 'out.tsv', 'soft.tsv']  # no lock left


def test_predict_output_that_is_a_folder_or_has_no_folder(tmp_path, capsys):
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '좋아요', '--output', tmp_path)
    assert code == 2 and 'is a folder' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '좋아요', '--output', tmp_path / 'missing' / 'o.tsv')
    assert code == 2 and 'does not exist' in error_line(err, 'predict')


# ----- encodings --------------------------------------------------------------------------------------------
def test_a_cp949_data_file_stops_with_line_offset_and_hint_then_reads_with_encoding(tmp_path, capsys):
    data = nsmc_file(tmp_path / 'test.tsv', REVIEWS, encoding='cp949')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', data)
    assert code == 2
    line = error_line(err, 'evaluate')
    offset = len('id\tdocument\tlabel\n0\t'.encode('cp949'))
    assert 'line 2' in line and 'byte offset {}'.format(offset) in line and '--encoding cp949' in line
    code, out, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', data, '--encoding', 'cp949')
    assert code == 0, err
    assert 'examples\t6' in out


def test_utf8_with_a_byte_order_mark_is_read_as_utf8(tmp_path, capsys):
    data = nsmc_file(tmp_path / 'bom.tsv', REVIEWS, bom=True)
    code, out, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', data)
    assert code == 0, err
    assert 'examples\t6' in out


def test_binary_empty_and_folder_data_files_are_named_as_such(tmp_path, capsys):
    binary = tmp_path / 'model.bin'
    binary.write_bytes(b'id\tdocument\tlabel\n\x00\x01\x02\x00')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', binary)
    assert code == 2 and 'looks like a binary file' in error_line(err, 'evaluate')
    empty = tmp_path / 'empty.tsv'
    empty.write_bytes(b'')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', empty)
    assert code == 2 and 'is empty' in error_line(err, 'evaluate')
    blank_header = tmp_path / 'blank.tsv'
    blank_header.write_text('\n1\t좋아요\t1\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', blank_header)
    assert code == 2 and 'header' in error_line(err, 'evaluate') and 'blank' in error_line(err, 'evaluate')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', tmp_path)
    assert code == 2 and 'is a folder, not a file' in error_line(err, 'evaluate')


def test_corpus_commands_refuse_mojibake_and_read_with_encoding(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_bytes('\n'.join('{} 번째 리뷰: {}'.format(i, REVIEWS[i % 6]) for i in range(200)).encode('cp949'))
    code, _, err = run_cli(capsys, 'build-vocab', '--corpus', corpus, '--size', '60', '--out', tmp_path / 'v')
    assert code == 2 and 'line 1' in error_line(err, 'build-vocab') and '--encoding' in err
    assert not (tmp_path / 'v').exists()
    code, _, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--vocab', 'kobert-mini',
                       '--input-format', 'lines', '--max-seq-length', '32', '--out', tmp_path / 'd')
    assert code == 2 and 'not valid utf-8' in error_line(err, 'create-pretraining-data')
    code, _, err = run_cli(capsys, 'build-vocab', '--corpus', corpus, '--size', '60', '--out', tmp_path / 'v',
                       '--encoding', 'cp949', '--threads', '1')
    assert code == 0, err
    import json
    vocab = json.loads((tmp_path / 'v' / 'vocab.json').read_text(encoding='utf-8'))
    assert {'리', '뷰', '영화'} <= {t.lstrip('▁') for t in vocab['idx_to_token']}  # Korean, not mojibake
    assert '\ufffd' not in ''.join(vocab['idx_to_token'])


def test_finetune_reads_a_cp949_training_file_only_when_told(tmp_path, capsys):
    train = tmp_path / 'train.tsv'
    rows = ''.join('{} {}\t{}\n'.format(REVIEWS[i % 6], i, i % 2) for i in range(40))
    train.write_bytes(('text\tlabel\n' + rows).encode('cp949'))
    args = ['finetune', '--train', train, '--text-column', 'text', '--label-column', 'label', '--dev-fraction',
            '0.2', '--out', tmp_path / 'run'] + TINY
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and '--encoding cp949' in error_line(err, 'finetune')
    assert not (tmp_path / 'run').exists()
    code, _, err = run_cli(capsys, *args, '--encoding', 'cp949')
    assert code == 0, err


def test_non_utf8_arguments_and_stdin_are_one_line_errors(capsys, monkeypatch):
    undecodable = b'\xc7\xd1\xb1\xb9'.decode('utf-8', 'surrogateescape')  # what Python makes of cp949 argv
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, undecodable)
    assert code == 2 and 'argument 4 is not valid UTF-8' in error_line(err, 'predict')
    set_stdin(monkeypatch, '좋아요\n'.encode('utf-8') + '별로'.encode('cp949') + b'\n')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL)
    assert code == 2 and 'stdin, line 2' in error_line(err, 'predict')
    set_stdin(monkeypatch, '좋아요\n'.encode('utf-8') + '별로'.encode('cp949') + b'\n')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--encoding', 'cp949')
    assert code == 2  # the first line is not cp949 either: the mixed input is refused, never half-guessed


# ----- limits -----------------------------------------------------------------------------------------------
def test_max_seq_length_beyond_the_position_table_is_refused(tmp_path, capsys):
    train = tmp_path / 'train.tsv'
    train.write_text('text\tlabel\n' + ''.join('{}\t{}\n'.format(t, i % 2) for i, t in enumerate(REVIEWS * 5)),
                     encoding='utf-8')
    args = ['finetune', '--train', train, '--text-column', 'text', '--label-column', 'label', '--model',
            'kobert-mini', '--max-seq-length', '600', '--no-progress', '--out', tmp_path / 'run']
    code, _, err = run_cli(capsys, *args)
    line = error_line(err, 'finetune')
    assert code == 2 and '600' in line and '128 positions' in line
    assert not (tmp_path / 'run').exists()
    code, _, err = run_cli(capsys, 'create-pretraining-data', '--input', train, '--vocab', 'kobert-mini',
                       '--max-seq-length', '600', '--out', tmp_path / 'data')
    assert code == 2 and '128 positions' in error_line(err, 'create-pretraining-data')
    # a from-scratch model with a larger table of its own is fine
    code, _, err = run_cli(capsys, *(args[:-2] + ['--from-scratch', '--num-layers', '1', '--units', '32',
                                              '--hidden-size', '64', '--num-heads', '2', '--epochs', '1',
                                              '--max-seq-length', '128', '--batch-size', '8', '--out',
                                              tmp_path / 'ok']))
    assert code == 0, err


def test_training_logs_what_its_readers_passed_over(tmp_path, capsys):
    train = tmp_path / 'train.tsv'
    rows = ['text\tlabel'] + ['{} {}\t{}'.format(REVIEWS[i % 6], i, i % 2) for i in range(40)]
    rows[5:5] = ['', '   ']
    train.write_text('\n'.join(rows) + '\n\t1\n', encoding='utf-8')
    args = ['finetune', '--train', train, '--text-column', 'text', '--label-column', 'label', '--dev-fraction',
            '0.2', '--out', tmp_path / 'run'] + TINY
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and 'empty text' in error_line(err, 'finetune')  # an empty text is malformed here
    code, _, err = run_cli(capsys, *args, '--skip-bad-rows')
    assert code == 0, err
    assert '40 examples' in err and '1 malformed rows skipped' in err and '2 blank lines passed over' in err


def test_create_pretraining_data_says_how_many_blank_lines_it_skipped(tmp_path, capsys):
    corpus = tmp_path / 'reviews.txt'
    corpus.write_text('좋은 영화다. 정말로.\n\n   \n최악의 영화. 다시는 안 봐.\n', encoding='utf-8')
    code, out, err = run_cli(capsys, 'create-pretraining-data', '--input', corpus, '--input-format', 'lines', '--vocab',
                         'kobert-mini', '--max-seq-length', '32', '--dupe-factor', '1', '--out', tmp_path / 'd')
    assert code == 0, err
    assert out.startswith('2 documents (2 blank lines skipped) -> ')
    import json
    assert json.loads((tmp_path / 'd' / 'manifest.json').read_text(encoding='utf-8'))['blank_lines_skipped'] == 2


def test_sentencepiece_advice_names_this_package_s_option(tmp_path, capsys):
    corpus = tmp_path / 'corpus.txt'
    # ~600 distinct syllables: far more characters than a 100-piece vocabulary can hold
    corpus.write_text('\n'.join(''.join(chr(0xAC00 + (i * 37 + j) % 11172) for j in range(30))
                                for i in range(300)) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'build-vocab', '--corpus', corpus, '--size', '100', '--out', tmp_path / 'v')
    line = error_line(err, 'build-vocab')
    assert code == 2 and '--character-coverage' in line and '--character_coverage' not in line


def test_a_line_too_long_for_a_row_is_named_for_what_it_is_not_blamed_on_quoting(tmp_path, capsys):
    lone_cr = tmp_path / 'mac.tsv'
    lone_cr.write_text('id\tdocument\tlabel\r' + ''.join('{}\t리뷰 {}\t{}\r'.format(i, i, i % 2) for i in range(20000)),
                       encoding='utf-8')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', lone_cr)
    line = error_line(err, 'evaluate')
    assert code == 2 and 'lone \\r' in line and 'quoting' not in line
    long_line = tmp_path / 'long.tsv'
    long_line.write_text('id\tdocument\tlabel\n1\t' + '가' * 300000 + '\t1\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'evaluate', '--model', MODEL, '--data', long_line)
    line = error_line(err, 'evaluate')
    assert code == 2 and '0.9 MB long' in line and 'line 2' in line and 'quoting' not in line


# ----- every command with --max-seq-length checks it against the model ------------------------------------------
@pytest.mark.parametrize('command', ['encode', 'tokenize'])
def test_max_seq_length_past_the_position_table_is_refused_by_every_command(command, capsys):
    code, out, err = run_cli(capsys, command, '--model', 'kobert-mini', '--max-seq-length', '600', LONG_REVIEW)
    assert code == 2 and 'position table' in error_line(err, command) and not out
    code, out, _ = run_cli(capsys, command, '--model', 'kobert-mini', LONG_REVIEW)  # the default fits the model
    assert code == 0


# ----- SQuAD files: every field checked ---------------------------------------------------------------------------
SQUAD = {'data': [{'title': 't', 'paragraphs': [{'context': '서울은 수도다', 'qas': [
    {'id': 'q1', 'question': '수도는?', 'answers': [{'text': '서울', 'answer_start': 0}]}]}]}]}


def _squad_with(tmp_path, change):
    document = json.loads(json.dumps(SQUAD))
    change(document)
    path = tmp_path / 'squad.json'
    path.write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')
    return path


BAD_SQUAD = {
    'data is null': (lambda d: d.update(data=None), '"data" must be a list'),
    'paragraphs is null': (lambda d: d['data'][0].update(paragraphs=None), '"paragraphs" must be a list'),
    'qas is a string': (lambda d: d['data'][0]['paragraphs'][0].update(qas='abc'), '"qas" must be a list'),
    'answers is null': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=None),
                        '"answers" must be a list'),
    'answer is a string': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=['서울']),
                           'must be an object'),
    'negative answer_start': (lambda d: d['data'][0]['paragraphs'][0]['qas'][0]['answers'][0].update(
        text='다', answer_start=-1), 'not at character -1'),
}


@pytest.mark.parametrize('case', sorted(BAD_SQUAD))
def test_malformed_squad_files_are_one_line_in_every_command(case, tmp_path, capsys):
    change, expected = BAD_SQUAD[case]
    path = _squad_with(tmp_path, change)
    predictions = tmp_path / 'predictions.json'
    predictions.write_text('{"q1": "서울"}', encoding='utf-8')
    code, _, err = run_cli(capsys, 'score-qa', path, predictions)
    assert code == 2 and expected in error_line(err, 'score-qa')
    from kobert_gluon.tasks.extractive_qa import read_squad
    with pytest.raises(InputError, match=expected.replace('"', '.').replace('(', '.').replace(')', '.')):
        read_squad(path, need_answers=False)


def test_score_qa_words_an_unanswered_gold_question_as_scoring(tmp_path, capsys):
    path = _squad_with(tmp_path, lambda d: d['data'][0]['paragraphs'][0]['qas'][0].update(answers=[]))
    predictions = tmp_path / 'predictions.json'
    predictions.write_text('{"q1": "서울"}', encoding='utf-8')
    code, _, err = run_cli(capsys, 'score-qa', path, predictions)
    line = error_line(err, 'score-qa')
    assert code == 2 and 'to score a prediction against' in line and 'learn' not in line


# ----- tagged text: repaired tags counted where they are ----------------------------------------------------------
def test_repaired_tags_are_counted_per_part(tmp_path):
    from kobert_gluon.tasks.tagging import read_klue_ner, split_off
    sentences = []
    for i in range(40):
        tags = ['I-PS', 'I-PS'] if i < 10 else ['B-PS', 'I-PS']  # the first ten begin with a bare I-
        sentences.append('\n'.join('{}\t{}'.format(c, t) for c, t in zip('홍길' + str(i), tags + ['O'] * 9)))
    path = tmp_path / 'ner.tsv'
    path.write_text('\n\n'.join(sentences) + '\n', encoding='utf-8')
    data = read_klue_ner(path)
    assert data.repaired == 10
    rest, dev = split_off(data, 0.3)
    assert rest.repaired + dev.repaired == 10
    assert rest.repaired == sum(1 for e in rest.examples if e.text[2:] and int(e.text[2:]) < 10)
