"""``predict --input``: a plain text file of reviews, one per line, reads as standard input does; a table is read
by its header; a table whose header does not name the model's column is one line, never predicted as a review.
With the shipped kobert-mini-nsmc, as a user runs it."""
import io

import pytest

from kobert_gluon.core.errors import InputError
from kobert_gluon.tasks.datasets import TableSpec, prediction_input_format

from .conftest import error_line, require_shared, run_cli

MODEL = 'kobert-mini-nsmc'
HEADER = ['text', 'label', 'p_negative', 'p_positive']


@pytest.fixture(scope='module')
def nsmc_reviews():
    """The first 40 reviews of NSMC's test file, as a user would paste them: the document column alone."""
    path = require_shared('nsmc', 'ratings_test.txt')
    with open(path, encoding='utf-8') as stream:
        next(stream)  # id, document, label
        return [next(stream).rstrip('\n').split('\t')[1] for _ in range(40)]


def _rows(out):
    return [line.split('\t') for line in out.splitlines()]


def test_a_plain_text_file_reads_as_stdin_does_one_row_per_line(nsmc_reviews, tmp_path, capsys, monkeypatch):
    lines = nsmc_reviews[:20] + [''] + nsmc_reviews[20:]  # a blank line inside: it keeps its row
    reviews = tmp_path / 'reviews.txt'
    reviews.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    code, from_file, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews)
    assert code == 0, err
    rows = _rows(from_file)
    assert rows[0] == HEADER and len(rows) == 1 + len(lines)  # one row per input line, in order
    assert [row[0] for row in rows[1:]] == lines
    assert rows[21] == ['', '', '', '']
    for row in rows[1:21] + rows[22:]:
        assert row[1] == ('positive' if float(row[3]) > float(row[2]) else 'negative')
    # what was decided, and the blank line, are said on stderr
    assert "its first line is not a header naming the column 'document'" in err and '--input-format lines' in err
    assert '1 of 41 inputs had nothing to predict and got an empty label: line 21 (blank)' in err

    monkeypatch.setattr('sys.stdin', io.StringIO('\n'.join(lines) + '\n'))
    code, from_stdin, _ = run_cli(capsys, 'predict', '--model', MODEL)
    assert code == 0 and from_stdin == from_file  # the same rows as the same lines on stdin

    code, explicit, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews, '--input-format', 'lines')
    assert code == 0 and explicit == from_file and 'first line' not in err  # asked for: nothing to explain


def test_nsmc_table_is_read_by_its_header(nsmc_reviews, tmp_path, capsys):
    table = tmp_path / 'test.tsv'
    table.write_text('id\tdocument\tlabel\n' + ''.join('{}\t{}\t0\n'.format(i, r) for i, r in enumerate(
        nsmc_reviews[:5])), encoding='utf-8')
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', table, '--no-progress')
    assert code == 0 and err == ''  # a table read by its header: nothing to explain
    assert [row[0] for row in _rows(out)[1:]] == nsmc_reviews[:5]


def test_a_table_with_another_header_is_one_line_not_a_review(tmp_path, capsys):
    table = tmp_path / 'reviews.tsv'
    table.write_text('id\treview\tlabel\n1\t정말 재밌어요\t1\n2\t최악의 영화\t0\n', encoding='utf-8')
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', table)
    assert code == 2 and out == ''
    assert error_line(err, 'predict') == (
        "kobert-gluon predict: error: {}: the first line has 3 tab-separated fields ('id', 'review', 'label') but "
        "not the column 'document' this model reads: if it is a header, name the text column with --text-column "
        "COL; to read every line as one text, pass --input-format lines".format(table))
    code, out, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', table, '--text-column', 'review')
    assert code == 0, err
    assert [row[0] for row in _rows(out)[1:]] == ['정말 재밌어요', '최악의 영화']


def test_input_format_usage_errors(tmp_path, capsys):
    reviews = tmp_path / 'reviews.txt'
    reviews.write_text('정말 재밌어요\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--input-format', 'lines', '좋아요')
    assert code == 2 and '--input-format says how to read --input' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews, '--input-format', 'lines',
                           '--text-column', 'document')
    assert code == 2 and 'describe a table; --input-format lines reads every line' in error_line(err, 'predict')
    code, _, err = run_cli(capsys, 'predict', '--model', MODEL, '--input', reviews, '--input-format', 'table')
    assert code == 2 and "no column named 'document'; the header has: 정말 재밌어요" in error_line(err, 'predict')


def test_the_first_line_decides_for_pairs_and_headerless_tables(tmp_path):
    pairs = TableSpec(text_columns=('sentence1', 'sentence2'))
    path = tmp_path / 'pairs.tsv'
    path.write_text('고양이가 잔다\t고양이가 자고 있다\n', encoding='utf-8')
    with pytest.raises(InputError, match="not the columns 'sentence1' and 'sentence2' this model reads: .* "
                                         'every line as TEXT_A<tab>TEXT_B, pass --input-format lines'):
        prediction_input_format(path, pairs)
    path.write_text('sentence1\tsentence2\n고양이가 잔다\t고양이가 자고 있다\n', encoding='utf-8')
    assert prediction_input_format(path, pairs) == ('table', None)
    headerless_csv = TableSpec(text_columns=(0,), header=False, delimiter=',')
    path.write_text('고양이가 잔다,4.5\n', encoding='utf-8')
    assert prediction_input_format(path, headerless_csv) == ('table', None)
    path.write_text('고양이가 잔다\n', encoding='utf-8')
    assert prediction_input_format(path, headerless_csv)[0] == 'lines'
    path.write_text('', encoding='utf-8')
    with pytest.raises(InputError, match='is empty'):
        prediction_input_format(path, headerless_csv)
