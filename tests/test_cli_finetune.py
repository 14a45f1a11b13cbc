"""The finetune / evaluate / predict commands, as a user runs them."""
import json

import pytest

from kobert_gluon.cli import main

from .nsmc_fixtures import nsmc_train_slice  # noqa: F401

# kobert-mini's architecture and vocabulary ship in the package: nothing to download
TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64', '--num-heads', '2',
        '--max-seq-length', '32', '--no-progress']


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope='module')
def nsmc_run(tmp_path_factory, nsmc_train_slice):
    """A short NSMC run: 160 training reviews, 64 dev reviews, 2 epochs of a one-layer model.

    The dev reviews are a later slice of the training file (NSMC's test file is kept for final figures). The
    reviews are the first of NSMC's training file, or review-like text in its format where NSMC is absent
    (see nsmc_fixtures): the checks are of the commands, not of the accuracy.
    """
    folder = tmp_path_factory.mktemp('nsmc')
    data = folder / 'data' / 'nsmc'  # --data-dir's layout: <dir>/nsmc/ratings_train.txt
    data.mkdir(parents=True)
    (data / 'ratings_train.txt').write_bytes(nsmc_train_slice.read_bytes())
    lines = nsmc_train_slice.read_text(encoding='utf-8').split('\n')
    (folder / 'dev.txt').write_text('\n'.join([lines[0]] + lines[1001:1065]) + '\n', encoding='utf-8')
    out = folder / 'run'
    code = main(['finetune', '--task', 'nsmc', '--data-dir', str(data.parent), '--dev', str(folder / 'dev.txt'),
                 '--max-train-rows', '160', '--epochs', '2', '--batch-size', '16', '--lr', '1e-3',
                 '--num-workers', '2', '--out', str(out)] + TINY)
    assert code == 0
    return out


def test_finetune_writes_a_run_that_evaluate_reproduces(nsmc_run, capsys):
    metrics = json.loads((nsmc_run / 'metrics.json').read_text())
    best = metrics['best']
    assert best['metric'] == 'accuracy' and best['epoch'] in (1, 2)
    dev = str(nsmc_run.parent / 'dev.txt')
    code, out, err = run(capsys, 'evaluate', '--model', nsmc_run, '--data', dev, '--json')
    assert code == 0, err
    evaluated = json.loads(out)
    assert evaluated['examples'] == 64
    assert evaluated['accuracy'] == pytest.approx(best['value'])  # same model, same 64 reviews
    assert evaluated['accuracy'] == pytest.approx(metrics['epochs'][best['epoch'] - 1]['dev']['accuracy'])


def test_predict_from_arguments_stdin_and_tsv_agree(nsmc_run, capsys, monkeypatch, tmp_path):
    texts = ['정말 재미있는 영화', '시간 낭비였다']
    code, from_args, err = run(capsys, 'predict', '--model', nsmc_run / 'best', *texts)
    assert code == 0, err
    rows = [line.split('\t') for line in from_args.splitlines()]
    assert rows[0] == ['text', 'label', 'p_negative', 'p_positive']
    assert [row[0] for row in rows[1:]] == texts
    for row in rows[1:]:
        p_negative, p_positive = float(row[2]), float(row[3])
        assert p_negative + p_positive == pytest.approx(1.0, abs=1e-5)
        assert row[1] == ('positive' if p_positive > p_negative else 'negative')

    import io
    monkeypatch.setattr('sys.stdin', io.StringIO('\n'.join(texts) + '\n\n'))
    code, from_stdin, _ = run(capsys, 'predict', '--model', nsmc_run)
    # the trailing blank line is an input too: it keeps its own (empty) row, so outputs join back to inputs
    assert code == 0 and from_stdin == from_args + '\t\t\t\n'

    table = tmp_path / 'in.tsv'
    table.write_text('id\tdocument\tlabel\n1\t{}\t1\n2\t{}\t0\n'.format(*texts), encoding='utf-8')
    output = tmp_path / 'out.tsv'
    code, _, _ = run(capsys, 'predict', '--model', nsmc_run, '--input', table, '--output', output)
    assert code == 0 and output.read_text(encoding='utf-8') == from_args


def test_existing_run_folder_is_refused(nsmc_run, capsys):
    code, _, err = run(capsys, 'finetune', '--task', 'nsmc', '--train', 'x.tsv', '--out', nsmc_run, *TINY)
    assert code == 2 and 'already exists and is not empty' in err


def test_malformed_row_is_one_line_error_naming_file_and_line(tmp_path, capsys):
    train = tmp_path / 'train.tsv'
    train.write_text('id\tdocument\tlabel\n1\t좋다\t1\n2\t나쁘다\n3\t별로\t0\n', encoding='utf-8')
    code, _, err = run(capsys, 'finetune', '--task', 'nsmc', '--train', train, '--out', tmp_path / 'run',
                       *TINY)
    assert code == 2
    assert '{}, line 3: 2 fields where the header has 3'.format(train) in err
    assert not (tmp_path / 'run' / 'best').exists()
    # Two usable rows are too few to hold out a dev part, so a file of two other reviews serves as dev here.
    dev = tmp_path / 'dev.tsv'
    dev.write_text('id\tdocument\tlabel\n4\t재밌다\t1\n5\t지루하다\t0\n', encoding='utf-8')
    code, out, err = run(capsys, 'finetune', '--task', 'nsmc', '--train', train, '--dev', dev, '--skip-bad-rows',
                         '--epochs', 1,
                         '--out', tmp_path / 'run', '--overwrite', *TINY)
    assert code == 0, err
    assert '1 malformed rows skipped (first: line 3' in err and 'model: ' in out


def test_own_headerless_csv_pairs_as_regression(tmp_path, capsys):
    rows = ['"{}, 그리고",{},{}'.format(a, b, score) for a, b, score in
            [('고양이가 잔다', '고양이가 자고 있다', 4.8), ('남자가 요리한다', '여자가 노래한다', 0.4),
             ('비가 온다', '비가 내린다', 4.5), ('아이가 웃는다', '차가 달린다', 0.1)] * 4]
    data = tmp_path / 'sts.csv'
    data.write_text('\n'.join(rows) + '\n', encoding='utf-8')
    dev = tmp_path / 'sts-dev.csv'  # other pairs: a dev file made of training rows is refused
    dev.write_text('"고양이가 잔다, 그리고",고양이가 잠을 잔다,4.6\n"남자가 요리한다, 그리고",비가 온다,0.2\n'
                   '"아이가 웃는다, 그리고",아이가 미소 짓는다,4.2\n"비가 온다, 그리고",차가 달린다,0.3\n', encoding='utf-8')
    code, out, err = run(capsys, 'finetune', '--kind', 'regression', '--text-column', 0, '--text-column', 1,
                         '--label-column', 2, '--no-header', '--delimiter', ',', '--train', data, '--dev', dev,
                         '--epochs', 2, '--batch-size', 4, '--out', tmp_path / 'run', *TINY)
    assert code == 0, err
    assert 'best dev spearman' in out
    code, out, err = run(capsys, 'evaluate', '--model', tmp_path / 'run', '--data', data)
    assert code == 0 and out.splitlines()[0].startswith('pearson\t')
    import io
    import sys
    sys.stdin = io.StringIO('고양이가 잔다\t고양이가 자고 있다\n')
    try:
        code, out, err = run(capsys, 'predict', '--model', tmp_path / 'run')
    finally:
        sys.stdin = sys.__stdin__
    assert code == 0, err
    header, row = out.splitlines()
    assert header == 'text_a\ttext_b\tscore' and row.startswith('고양이가 잔다\t고양이가 자고 있다\t')
    float(row.split('\t')[2])


def test_usage_errors(tmp_path, capsys):
    code, _, err = run(capsys, 'finetune', '--train', 'x.tsv', '--out', tmp_path / 'run')
    assert code == 2 and 'say what to learn' in err
    code, _, err = run(capsys, 'finetune', '--task', 'nsmc', '--train', 'x.tsv', '--num-layers', 2,
                       '--out', tmp_path / 'run')
    assert code == 2 and 'only works with --from-scratch' in err
    code, _, err = run(capsys, 'finetune', '--resume', '--out', tmp_path / 'nothing')
    assert code == 2 and 'no run.json' in err
