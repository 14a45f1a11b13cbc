"""The benchmark formats of the family's result tables, read from small hand-written samples in their exact
published layouts (the data itself is not here): Naver NER (index, word, TYPE_B|TYPE_I|-), PAWS-X's Korean pairs
(id, sentence1, sentence2, label) and KorNLI's training TSVs (sentence1, sentence2, gold_label)."""
import json

import pytest

from kobert_gluon import get_task, read_table
from kobert_gluon.core.errors import InputError
from kobert_gluon.tasks.tagging import read_tagged

from .conftest import error_line, run_cli

# Naver's 2018 NER challenge layout, as KoBERT's NER results read it: the index restarts at 1 in each sentence
NAVER = ('1\t비토리오\tPER_B\n2\t양일\tDAT_B\n3\t만에\t-\n4\t영사관\tORG_B\n5\t감호\tCVL_B\n6\t용퇴,\t-\n7\t항룡\t-\n'
         '8\t압력설\t-\n9\t의심만\t-\n10\t가율\t-\n\n'
         '1\t이\t-\n2\t음경동맥의\tTRM_B\n3\t직경이\tTRM_I\n4\t8\tNUM_B\n5\t19mm입니다\tNUM_I\n6\t.\t-\n')


def test_naver_ner_reads_as_entities_of_the_joined_words(tmp_path):
    path = tmp_path / 'naver.tsv'
    path.write_text(NAVER, encoding='utf-8')
    data = read_tagged(str(path), 'naver')
    assert len(data) == 2
    first, second = data.examples
    assert first.text == '비토리오 양일 만에 영사관 감호 용퇴, 항룡 압력설 의심만 가율'
    assert [(first.text[e.start:e.end], e.label) for e in first.entities] == [
        ('비토리오', 'PER'), ('양일', 'DAT'), ('영사관', 'ORG'), ('감호', 'CVL')]
    assert [(second.text[e.start:e.end], e.label) for e in second.entities] == [
        ('음경동맥의 직경이', 'TRM'), ('8 19mm입니다', 'NUM')]  # a _I word extends its entity across the space


@pytest.mark.parametrize('line,what', [('1\t비토리오\n', 'index<TAB>word<TAB>TAG'),
                                       ('x\t비토리오\tPER_B\n', 'index<TAB>word<TAB>TAG'),
                                       ('1\t비토리오\tB-PER\n', "tag 'B-PER' is not TYPE_B, TYPE_I or -")])
def test_naver_ner_malformed_lines_are_named(tmp_path, line, what):
    path = tmp_path / 'bad.tsv'
    path.write_text('1\t양일\tDAT_B\n' + line, encoding='utf-8')
    with pytest.raises(InputError, match='line 2: .*' + what.replace('|', r'\|')):
        read_tagged(str(path), 'naver')


def test_a_tagger_trains_on_naver_ner_and_predicts_spans_of_the_text(tmp_path, capsys):
    sentences = [['{}\t{}\t{}'.format(i + 1, w, t) for i, (w, t) in enumerate(words)] for words in (
        [('김민수는', 'PER_B'), ('서울에', 'LOC_B'), ('갔다', '-')],
        [('이영희가', 'PER_B'), ('부산에서', 'LOC_B'), ('왔다', '-')],
        [('박지성은', 'PER_B'), ('대구에', 'LOC_B'), ('살았다', '-')],
    )]
    train = tmp_path / 'train.tsv'
    train.write_text('\n\n'.join('\n'.join(lines) for lines in sentences * 20) + '\n', encoding='utf-8')
    code, _, err = run_cli(capsys, 'finetune', '--kind', 'token_classification', '--data-format', 'naver',
                           '--train', train, '--dev-fraction', '0.2', '--max-steps', '4', '--batch-size', '8',
                           '--max-seq-length', '32', '--model', 'kobert-mini', '--from-scratch', '--num-layers', '1',
                           '--units', '64', '--hidden-size', '128', '--num-heads', '2', '--no-progress',
                           '--out', tmp_path / 'run')
    assert code == 0, err
    code, out, err = run_cli(capsys, 'evaluate', '--model', tmp_path / 'run', '--data', train, '--data-format',
                             'naver', '--json')
    assert code == 0, err
    assert 0.0 <= json.loads(out)['entity_f1'] <= 1.0
    text = '김민수는 서울에 갔다'
    code, out, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', text)
    assert code == 0, err
    row = json.loads(out)
    assert row['text'] == text
    for entity in row['entities']:  # spans of the text as given
        assert text[entity['start']:entity['end']] == entity['text']
    with pytest.raises(SystemExit):
        run_cli(capsys, 'finetune', '--kind', 'token_classification', '--data-format', 'navr', '--train', train,
                '--out', tmp_path / 'x')
    assert "invalid choice: 'navr'" in capsys.readouterr().err


PAWS_X = ('id\tsentence1\tsentence2\tlabel\n'
          '1\t1975 년과 1976 년 사이에 오스트리아에서 메릴랜드로 이주했다.\t1975 년부터 1976 년까지 오스트리아에서 메릴랜드로 이주했다.\t1\n'
          '2\t그는 연구소에서 일했다.\t그는 연구소를 떠났다.\t0\n'
          '3\t\t빈 문장이 있는 번역 쌍.\t0\n')


def test_paws_x_reads_pairs_and_counts_the_empty_ones(tmp_path):
    task = get_task('paws_x')
    assert task.files == {'train': 'paws_x/translated_train.tsv', 'dev': 'paws_x/dev_2k.tsv',
                          'test': 'paws_x/test_2k.tsv'}
    path = tmp_path / 'translated_train.tsv'
    path.write_text(PAWS_X, encoding='utf-8')
    table = read_table(str(path), task.table, task.kind, labels=task.labels)
    assert len(table) == 2 and table.empty_dropped == 1
    assert table[1] == ('그는 연구소에서 일했다.', '그는 연구소를 떠났다.', '0')


KORNLI_TRAIN = ('sentence1\tsentence2\tgold_label\n'
                '개념적으로 크림 스키밍은 제품과 지리라는 두 가지 기본 차원을 가지고 있다.\t제품과 지리학은 크림 스키밍을 작동시키는 것이다.\tneutral\n'
                '시즌 중에 알고 있는 거 알아? 네 레벨에서 다음 레벨로 잃어버리는 거야\t사람들이 기억하면 다음 수준으로 물건을 잃는다.\tentailment\n'
                '우리 번호 중 하나가 당신의 지시를 세밀하게 수행할 것이다.\t우리 팀의 한 멤버가 당신의 명령을 엄청나게 정확하게 실행할 것이다.\tcontradiction\n')


def test_kornli_trains_on_its_translated_training_sets(tmp_path, capsys):
    task = get_task('kornli')
    assert task.files['train'] == 'kornli/multinli.train.ko.tsv' and task.files['dev'] == 'kornli/xnli.dev.ko.tsv'
    assert get_task('kornli_xnli').files['train'] == 'kornli/xnli.dev.ko.tsv'  # what ../shared/data allows
    for name in ('multinli.train.ko.tsv', 'snli_1.0_train.ko.tsv'):  # both of KorNLI's training files
        path = tmp_path / name
        path.write_text(KORNLI_TRAIN, encoding='utf-8')
        table = read_table(str(path), task.table, task.kind, labels=task.labels)
        assert [row[-1] for row in table] == ['neutral', 'entailment', 'contradiction']
    # without the file, the one-line error names it
    code, _, err = run_cli(capsys, 'finetune', '--task', 'kornli', '--data-dir', tmp_path / 'nowhere', '--out',
                           tmp_path / 'run')
    assert code == 2 and 'multinli.train.ko.tsv' in error_line(err, 'finetune')
