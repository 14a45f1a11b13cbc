"""Reading labeled tables: column selection, quoting, malformed rows, and the ready-made tasks on the real files."""
import pytest

from .conftest import require_shared
from kobert_gluon import MalformedRowError, TableSpec, get_task, list_tasks, read_table
from kobert_gluon.tasks.datasets import infer_labels


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return path


SINGLE = TableSpec(text_columns=('text',), label_column='label')


def test_columns_by_name_and_labels_kept_as_strings(tmp_path):
    path = write(tmp_path, 'a.tsv', 'id\ttext\tlabel\n1\t좋아요\t1\n2\t별로\t0\n')
    table = read_table(path, SINGLE)
    assert list(table) == [('좋아요', '1'), ('별로', '0')]
    assert table.line_numbers == [2, 3]
    assert infer_labels(table) == ['0', '1']


def test_malformed_row_names_file_and_line(tmp_path):
    path = write(tmp_path, 'bad.tsv', 'id\ttext\tlabel\n1\t좋아요\t1\n2\t별로\n3\t그냥\t0\n')
    with pytest.raises(MalformedRowError) as info:
        read_table(path, SINGLE)
    assert info.value.line == 3
    assert str(path) in str(info.value) and 'line 3' in str(info.value)
    assert '2 fields where the header has 3' in str(info.value)


def test_skip_bad_rows_reports_count(tmp_path):
    text = 'id\ttext\tlabel\n1\t좋아요\t1\n2\t별로\n3\t그냥\t0\n4\t\t1\n5\t음\tmaybe\n6\t최고\t1\n'
    path = write(tmp_path, 'bad.tsv', text)
    table = read_table(path, SINGLE, labels=['0', '1'], skip_bad_rows=True)
    assert [t[0] for t in table] == ['좋아요', '그냥', '최고']
    assert [line for line, _ in table.skipped] == [3, 5, 6]
    assert 'empty text' in table.skipped[1][1] and "unknown label 'maybe'" in table.skipped[2][1]
    assert '3 malformed rows skipped (first: line 3' in table.summary()


def test_empty_text_skip_policy_counts_separately(tmp_path):
    path = write(tmp_path, 'e.tsv', 'id\ttext\tlabel\n1\t\t1\n2\t별로\t0\n')
    with pytest.raises(MalformedRowError, match='line 2: empty text'):
        read_table(path, SINGLE)
    table = read_table(path, TableSpec(text_columns=('text',), label_column='label', empty_text='skip'))
    assert len(table) == 1 and table.empty_dropped == 1 and table.skipped == []


def test_csv_quoting_versus_literal_quotes(tmp_path):
    path = write(tmp_path, 'q.tsv', 'text\tlabel\n"가족끼리 ""사랑해요""라는말"\t1\n"슈퍼맨" 셔츠\t0\n')
    quoted = read_table(path, TableSpec(text_columns=('text',), label_column='label'), skip_bad_rows=True)
    assert quoted[0] == ('가족끼리 "사랑해요"라는말', '1')
    # '"슈퍼맨" 셔츠' is not valid CSV quoting: an error that points to quoting='none'
    assert quoted.skipped[0][0] == 3 and "quoting='none'" in quoted.skipped[0][1]
    literal = read_table(path, TableSpec(text_columns=('text',), label_column='label', quoting='none'))
    assert literal[1] == ('"슈퍼맨" 셔츠', '0')
    assert literal[0][0] == '"가족끼리 ""사랑해요""라는말"'


def test_headerless_csv_pairs_and_regression_range(tmp_path):
    path = write(tmp_path, 'p.csv', 'a,"b, with comma",4.5\nc,d,0\ne,f,7\n')
    spec = TableSpec(text_columns=(0, 1), label_column=2, header=False, delimiter=',')
    with pytest.raises(MalformedRowError, match=r'line 3: label 7.0 is outside the range 0.0..5.0'):
        read_table(path, spec, kind='regression', label_range=(0.0, 5.0))
    table = read_table(path, spec, kind='regression', label_range=(0.0, 5.0), skip_bad_rows=True)
    assert list(table) == [('a', 'b, with comma', 4.5), ('c', 'd', 0.0)]


def test_missing_column_and_file_are_clear_errors(tmp_path):
    path = write(tmp_path, 'a.tsv', 'id\ttext\tlabel\n1\t좋아요\t1\n')
    with pytest.raises(ValueError, match="no column named 'document'; the header has: id, text, label"):
        read_table(path, TableSpec(text_columns=('document',), label_column='label'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        read_table(tmp_path / 'nope.tsv', SINGLE)
    with pytest.raises(ValueError, match='only in a file with a header'):
        TableSpec(text_columns=('text',), label_column=1, header=False)


def test_max_rows_and_unicode_line_separator(tmp_path):
    # U+2028 inside a text must not split the row (str.splitlines would) nor shift line numbers
    path = write(tmp_path, 'u.tsv', 'text\tlabel\n첫\u2028줄\t1\n둘\t0\n셋\t1\n')
    table = read_table(path, SINGLE, max_rows=2)
    assert list(table) == [('첫\u2028줄', '1'), ('둘', '0')]
    assert table.line_numbers == [2, 3]


# Ready-made tasks on the real files: counts from the datasets' documentation, quirks as found in the files.
REAL_COUNTS = {('nsmc', 'train'): (149995, 5), ('nsmc', 'test'): (49997, 3),
               ('hate_speech', 'train'): (7896, 0), ('hate_speech', 'test'): (471, 0),
               ('question_pair', 'train'): (6136, 0), ('question_pair', 'dev'): (682, 0),
               ('question_pair', 'test'): (758, 0),
               ('korsts', 'train'): (5749, 0), ('korsts', 'dev'): (1500, 0), ('korsts', 'test'): (1379, 0),
               ('kornli_xnli', 'train'): (2490, 0), ('kornli_xnli', 'test'): (5010, 0),
               ('kornli', 'dev'): (2490, 0), ('kornli', 'test'): (5010, 0)}


@pytest.mark.parametrize('task_name,split', sorted(REAL_COUNTS))
def test_ready_made_tasks_read_their_real_files(task_name, split):
    spec = get_task(task_name)
    path = require_shared(spec.files[split])
    table = read_table(path, spec.table, spec.kind, labels=spec.labels, label_range=spec.label_range)
    examples, empty = REAL_COUNTS[task_name, split]
    assert (len(table), table.empty_dropped, len(table.skipped)) == (examples, empty, 0)
    assert len(table[0]) == len(spec.table.text_columns) + 1


def test_real_file_quirks_are_handled():
    spec = get_task('nsmc')
    path = require_shared('nsmc', 'ratings_train.txt')
    table = read_table(path, spec.table, spec.kind, labels=spec.labels)
    row = table[table.line_numbers.index(167)]
    assert row == ('"영화 끝나갈때쯤에 멍하다가 다보고나면 한마디 나올거임 ""ㅈ같다."""', '1')
    sts = get_task('korsts')
    path = require_shared('korsts', 'sts-train.tsv')
    table = read_table(path, sts.table, sts.kind, label_range=sts.label_range)
    assert table[table.line_numbers.index(1525)][0] == '"슈퍼맨" 셔츠를 입은 개는 담요 위에서 잠을 잔다.'


def test_task_registry():
    assert list_tasks() == ['nsmc', 'hate_speech', 'question_pair', 'korsts', 'kornli', 'kornli_xnli', 'paws_x',
                            'klue_ner', 'korquad']
    assert get_task('klue_ner').table is None and get_task('klue_ner').task_kind.structure == 'tagged'
    assert get_task('korsts').table.pair and get_task('korsts').is_regression
    assert get_task('nsmc').display_labels(['0', '1']) == ['negative', 'positive']
    with pytest.raises(ValueError, match='unknown task'):
        get_task('squad')


def test_dev_split_is_stable_and_disjoint(tmp_path):
    path = tmp_path / 'reviews.tsv'
    path.write_text('id\tdocument\tlabel\n' + ''.join('{}\t리뷰 {}\t{}\n'.format(i, i, i % 2) for i in range(400)),
                    encoding='utf-8')
    spec = get_task('nsmc').table
    table = read_table(str(path), spec, 'classification', labels=('0', '1'))
    rest, dev = table.split_off(0.1)
    assert len(rest) + len(dev) == 400 and 20 <= len(dev) <= 60
    assert not set(rest.line_numbers) & set(dev.line_numbers)
    # The split depends on the line only: a prefix of the file splits the same way.
    _, dev_of_prefix = read_table(str(path), spec, 'classification', labels=('0', '1'), max_rows=200).split_off(0.1)
    assert dev_of_prefix.line_numbers == [n for n in dev.line_numbers if n <= 201]
    assert dev.head(5).line_numbers == dev.line_numbers[:5]
    with pytest.raises(ValueError, match='between 0 and 1'):
        table.split_off(1.5)


def test_tasks_without_a_dev_file_hold_out_part_of_train():
    for name in ('nsmc', 'hate_speech', 'kornli_xnli'):
        task = get_task(name)
        assert 'dev' not in task.files and task.dev_fraction and 'test' in task.files
    assert get_task('korsts').files['dev'] == 'korsts/sts-dev.tsv' and get_task('korsts').dev_fraction is None
