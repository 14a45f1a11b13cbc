"""Issue 32, classes 4, 5 and 7: labels nobody chose, splits that do not split, and the edges of the API and the
options. Each is refused (or warned about) by one mechanism, with one line, the same rule for the API and the
command line; the command line names its options, the API its parameters. Nearly every check is refused before a
model is built; one tiny run shows what an accepted stray label and a partly shared dev file leave behind."""
import json
import os

import pytest

import kobert_gluon
from kobert_gluon import FinetuneSettings, FineTunedModel, TrainingConfig, finetune
from kobert_gluon.core.errors import InputError

from .conftest import error_line, run_cli

TINY = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64',
        '--num-heads', '2', '--max-seq-length', '24', '--no-progress']
GOOD = ['정말 재미있고 감동적인 영화', '배우 연기가 좋았다', '최고의 작품 강력 추천', '음악이 아름답다']
BAD = ['시간 낭비 최악의 영화', '지루하고 유치하다', '돈이 아깝다', '연출이 엉망이다']


def write_table(path, rows=40, start=0, stray=None):
    """``text<TAB>label`` reviews (labels 0/1, every text distinct), with ``stray`` as the label of row 7."""
    lines = ['text\tlabel']
    for i in range(start, start + rows):
        words = GOOD if i % 2 else BAD
        label = stray if stray is not None and i == start + 7 else str(i % 2)
        lines.append('{} {}\t{}'.format(words[i % 4], i, label))
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path


def finetune_args(train, out, *extra):
    return ['finetune', '--train', train, '--text-column', 'text', '--label-column', 'label', '--out', out,
            *TINY, *extra]


# ----- 4. labels nobody chose ----------------------------------------------------------------------------------------
def test_a_stray_label_is_refused_naming_it_its_count_and_line(tmp_path, capsys):
    train = write_table(tmp_path / 'train.tsv', stray='positive')
    code, _, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--dev-fraction', '0.2'))
    line = error_line(err, 'finetune')
    assert code == 2
    # row 7 is the file's line 9 (the header is line 1)
    assert "label 'positive' is on only 1 row (line 9), fewer than --min-label-count=5" in line
    assert 'accept it with --min-label-count=1' in line
    assert 'rows per label: 0 20, 1 19, positive 1' in err  # the counts are shown before the refusal
    assert not (tmp_path / 'run' / 'best').exists()
    # the API: the same rule, the parameter's name
    settings = FinetuneSettings(task=_custom_task(), train=str(train), dev_fraction=0.2, model='kobert-mini',
                                from_scratch=True, model_overrides=dict(num_layers=1, units=32, hidden_size=64,
                                                                        num_heads=2), max_seq_length=24)
    with pytest.raises(InputError, match=r"only 1 row \(line 9\), fewer than min_label_count=5.*"
                                         r"accept it with min_label_count=1"):
        finetune(settings, tmp_path / 'api-run', log=lambda line: None)


def test_listed_labels_refuse_a_value_outside_them_whatever_the_count(tmp_path, capsys):
    train = write_table(tmp_path / 'train.tsv', stray='2')
    code, _, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--labels', '0,1', '--min-label-count', 0))
    assert code == 2 and "line 9: unknown label '2'; expected one of 0, 1" in error_line(err, 'finetune')


def test_a_stray_entity_type_is_refused_in_tagged_text(tmp_path, capsys):
    sentences = []
    for i in range(12):
        name, tag = ('김민수', 'PS') if i != 5 else ('이영희', 'PSS')  # a typo in one sentence
        text = '{}씨는 서울에 {}번 갔다.'.format(name, i)
        tags = ['B-' + tag] + ['I-' + tag] * 2 + ['O'] * 3 + ['B-LC', 'I-LC'] + ['O'] * (len(text) - 8)
        sentences.append((text, tags))
    lines = []
    for number, (text, tags) in enumerate(sentences):
        lines.append('## sentence-{}\t{}'.format(number, text))
        lines.extend('{}\t{}'.format(char, tag) for char, tag in zip(text, tags))
        lines.append('')
    train = tmp_path / 'train.tsv'
    train.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    first_line = 1 + 5 * (len(sentences[0][0]) + 2) + 1  # five sentences before it, each a comment, chars, blank
    code, _, err = run_cli(capsys, 'finetune', '--kind', 'token_classification', '--data-format', 'klue',
                           '--train', train, '--dev-fraction', '0.2', '--out', tmp_path / 'run', *TINY)
    assert code == 2
    assert ("label 'PSS' is on only 1 entity (line {}), fewer than --min-label-count=5".format(first_line)
            in error_line(err, 'finetune'))
    assert 'entities per label: LC 12, PS 11, PSS 1' in err
    code, _, err = run_cli(capsys, 'finetune', '--kind', 'token_classification', '--train', train, '--labels',
                           'PS,LC', '--out', tmp_path / 'run', *TINY)
    assert code == 2 and '--labels lists the classes of a table' in error_line(err, 'finetune')


# ----- 5. splits that do not split -----------------------------------------------------------------------------------
def test_dev_and_dev_fraction_together_are_refused_by_name(tmp_path, capsys):
    train, dev = write_table(tmp_path / 'train.tsv'), write_table(tmp_path / 'dev.tsv', rows=10, start=100)
    code, _, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--dev', dev, '--dev-fraction', '0.1'))
    assert code == 2 and error_line(err, 'finetune').endswith(
        'error: --dev-fraction holds out a share of the training data as dev, and --dev names a dev file: give one '
        'or the other')
    with pytest.raises(InputError, match='^dev_fraction holds out a share .* and dev names a dev file'):
        FinetuneSettings(task='nsmc', train=str(train), dev=str(dev), dev_fraction=0.1)


@pytest.mark.parametrize('how', ['same path', 'symbolic link', 'copy', 'copy of a part'])
def test_dev_that_is_the_training_data_is_refused(tmp_path, capsys, how):
    train = write_table(tmp_path / 'train.tsv')
    dev = tmp_path / 'dev.tsv'
    if how == 'same path':
        dev = train
    elif how == 'symbolic link':
        os.symlink(train, dev)
    elif how == 'copy':
        dev.write_bytes(train.read_bytes())
    else:
        lines = train.read_text(encoding='utf-8').splitlines()
        dev.write_text('\n'.join(lines[:1] + lines[5:15]) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--dev', dev))
    line = error_line(err, 'finetune')
    assert code == 2
    if how in ('same path', 'symbolic link'):
        assert '--dev {} is the training data itself (--train {})'.format(dev, train) in line
    else:
        rows = 40 if how == 'copy' else 10
        assert 'every one of the {} rows of --dev {} is also in --train {}'.format(rows, dev, train) in line
    assert not (tmp_path / 'run' / 'best').exists()


def test_pretraining_dev_data_that_is_its_data_is_refused(tmp_path, capsys):
    from kobert_gluon import InstanceOptions, TextSource, create_pretraining_data, load_tokenizer
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text(''.join('{} {}번째 문장입니다.\n{}\n\n'.format(GOOD[i % 4], i, BAD[i % 4]) for i in range(30)),
                      encoding='utf-8')
    data = create_pretraining_data(TextSource([corpus]), tmp_path / 'data', load_tokenizer('kobert-mini'),
                                   options=InstanceOptions(max_seq_length=32, max_predictions_per_seq=4, dupe_factor=1))
    (tmp_path / 'copy').mkdir()
    link = tmp_path / 'link'
    os.symlink(data.folder, link)
    args = ['--data', data.folder, '--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32',
            '--hidden-size', '64', '--num-heads', '2', '--max-length', '32', '--no-progress', '--max-steps', '1']
    for dev in (data.folder, link):
        code, _, err = run_cli(capsys, 'pretrain', *args, '--dev-data', dev, '--out', tmp_path / 'run')
        assert code == 2 and '--dev-data {} is the training data itself (--data {})'.format(dev, data.folder) in \
            error_line(err, 'pretrain')
    code, _, err = run_cli(capsys, 'distill', '--data', data.folder, '--dev-data', link, '--teacher', 'kobert-mini',
                           '--student-layers', '1', '--max-steps', '1', '--no-progress', '--out', tmp_path / 'run')
    assert code == 2 and '--dev-data {} is the training data itself'.format(link) in error_line(err, 'distill')


# ----- 7. the edges of the API and the options -----------------------------------------------------------------------
SEED_RULE = 'must be a whole number from 0 to 4294967295, got -1'


def test_a_negative_seed_is_one_rule_for_every_command_and_the_api(tmp_path, capsys):
    train = write_table(tmp_path / 'train.tsv')
    commands = {'finetune': finetune_args(train, tmp_path / 'run', '--seed', '-1'),
                'pretrain': ['pretrain', '--data', tmp_path, '--seed', '-1', '--out', tmp_path / 'run'],
                'distill': ['distill', '--data', tmp_path, '--teacher', 'kobert-mini', '--student-layers', '1',
                            '--seed', '-1', '--out', tmp_path / 'run']}
    for command, args in commands.items():
        code, _, err = run_cli(capsys, *args)
        assert code == 2 and error_line(err, command).endswith('error: --seed ' + SEED_RULE), err
    with pytest.raises(InputError, match='^seed ' + SEED_RULE + '$'):
        TrainingConfig(seed=-1)
    with pytest.raises(InputError, match='^training.seed ' + SEED_RULE + '$'):
        FinetuneSettings(task='nsmc', train=str(train), training={'seed': -1})
    with pytest.raises(InputError, match='^training.seed ' + SEED_RULE + '$'):
        kobert_gluon.PretrainSettings(data=str(tmp_path), training={'seed': -1})


@pytest.mark.parametrize('option,value,rule', [
    ('--batch-size', '-1', 'must be a whole number >= 1, got -1'),
    ('--eval-batch-size', '0', 'must be a whole number >= 1, got 0'),
    ('--epochs', '-2', 'must be a whole number >= 0, got -2'),
    ('--num-workers', '-1', 'must be a whole number >= 0, got -1'),
    ('--lr', '0', 'must be a number > 0, got 0.0'),
    ('--dropout', '1.5', 'must be a number >= 0 and < 1, got 1.5'),
    ('--max-train-rows', '0', 'must be a whole number >= 1, got 0'),
    ('--min-label-count', '-1', 'must be a whole number >= 0, got -1'),
])
def test_finetune_options_and_settings_share_the_rules(tmp_path, capsys, option, value, rule):
    train = write_table(tmp_path / 'train.tsv')
    code, _, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--dev-fraction', '0.2', option, value))
    assert code == 2 and error_line(err, 'finetune').endswith('error: {} {}'.format(option, rule))
    field = {'--lr': 'training.learning_rate', '--epochs': 'training.epochs'}.get(option, option[2:].replace('-', '_'))
    section, _, name = field.rpartition('.')
    number = float(value) if option in ('--lr', '--dropout') else int(value)
    values = {'training': {name: number}} if section else {name: number}
    with pytest.raises(InputError, match='^{} {}$'.format(field, rule.replace('.', r'\.'))):
        FinetuneSettings(task='nsmc', train=str(train), **values)


def test_a_length_without_room_for_the_text_is_refused_by_encode_and_the_command_alike(capsys):
    tokenizer = kobert_gluon.load_tokenizer('kobert-mini')
    assert len(tokenizer.encode('한국어', max_seq_length=3, pad=False).input_ids) == 3  # [CLS] a piece [SEP]
    rule = 'must be a whole number >= 3 (room for [CLS], [SEP] and the text), got 2'
    with pytest.raises(InputError, match=r'^max_seq_length ' + rule.replace('[', r'\[').replace('(', r'\(')
                       .replace(')', r'\)')):
        tokenizer.encode('한국어', max_seq_length=2)
    with pytest.raises(InputError, match=r'max_seq_length must be a whole number >= 5 \(room for \[CLS\], two'):
        tokenizer.encode('한국어', '모델', max_seq_length=4)
    code, _, err = run_cli(capsys, 'tokenize', '--model', 'kobert-mini', '--max-seq-length', '2', '한국어')
    assert code == 2 and err.strip() == 'kobert-gluon tokenize: error: --max-seq-length ' + rule
    code, _, err = run_cli(capsys, 'finetune', '--task', 'nsmc', '--train', 'x.tsv', '--max-seq-length', '2',
                           '--model', 'kobert-mini', '--out', 'never')
    assert code == 2 and error_line(err, 'finetune').endswith('--max-seq-length ' + rule)


def test_texts_of_the_wrong_type_are_one_line_naming_the_place():
    tokenizer = kobert_gluon.load_tokenizer('kobert-mini')
    for call, message in ((lambda: tokenizer.tokenize(None), '^text must be a string, got None$'),
                          (lambda: tokenizer.encode(12), '^text must be a string, got int 12$'),
                          (lambda: tokenizer.encode('좋다', b'bytes'), "^text_pair must be a string, got bytes b'bytes'$"),
                          (lambda: tokenizer.tokenize('\udfff'), r'^text holds a lone surrogate \(U\+DFFF at')):
        with pytest.raises(InputError, match=message):
            call()
    model = FineTunedModel.load('kobert-mini-nsmc')
    assert model.predict(['재미있다', ('지루하다',)]).shape == (2, 2)
    for texts, message in (
            (['재미있다', None], r'^texts\[1\] must be a string, got None$'),
            (['재미있다', 3.5], r'^texts\[1\] must be a string, got float 3\.5$'),
            ('재미있다', '^texts must be a list of texts, not one string'),
            (7, '^texts must be a list of texts, got int 7$'),
            ([('재미있다', '지루하다')], r'^texts\[0\] has 2 text\(s\); this model takes 1$'),
            # a lone surrogate (JSON's "\ud800", a bad decode): sentencepiece itself fails on it with a C++ error
            (['재미있다', '좋\ud800'], r'^texts\[1\] holds a lone surrogate \(U\+D800 at character 1\)')):
        with pytest.raises(InputError, match=message):
            model.predict(texts)
    with pytest.raises(InputError, match='^batch_size must be a whole number >= 1, got 0$'):
        model.predict(['재미있다'], batch_size=0)


# ----- the one run: an accepted stray label and a dev file that shares some rows --------------------------------
def test_an_accepted_stray_label_is_counted_in_run_json_and_shared_dev_rows_are_warned(tmp_path, capsys):
    train = write_table(tmp_path / 'train.tsv', stray='positive')
    dev = tmp_path / 'dev.tsv'
    lines = train.read_text(encoding='utf-8').splitlines()
    fresh = write_table(tmp_path / 'fresh.tsv', rows=8, start=200).read_text(encoding='utf-8').splitlines()
    dev.write_text('\n'.join(lines[:1] + lines[1:4] + fresh[1:]) + '\n', encoding='utf-8')  # 3 of 11 shared
    code, out, err = run_cli(capsys, *finetune_args(train, tmp_path / 'run', '--dev', dev, '--min-label-count', 1,
                                                    '--max-steps', 2, '--batch-size', 8))
    assert code == 0, err
    assert '3 of the 11 dev rows ({}) are also in the training data ({})'.format(dev, train) in err
    run = json.loads((tmp_path / 'run' / 'run.json').read_text())
    assert run['labels'] == ['0', '1', 'positive']
    assert run['data']['train']['label_counts'] == {'0': 20, '1': 19, 'positive': 1}
    assert run['data']['dev']['label_counts'] == {'0': 6, '1': 5}
    assert run['settings']['min_label_count'] == 1


def _custom_task():
    from kobert_gluon import TableSpec, TaskSpec
    return TaskSpec(name='custom', kind='classification', metric='accuracy',
                    table=TableSpec(text_columns=('text',), label_column='label'))
