"""Token classification data: KLUE-NER and CoNLL readers, hash parts, piece labels on hard cases, the round trip
entities -> piece labels -> entities on real KLUE-NER text, and entity-level scores (seqeval's definition)."""
import random
from pathlib import Path

import numpy as np
import pytest

from kobert_gluon import WordPieceTokenizer, load_tokenizer
from kobert_gluon.core.errors import InputError
from kobert_gluon.tasks.file_parts import PARTS, parse_part
from kobert_gluon.tasks.tagging import (IGNORED_LABEL, Entity, TaggedText, alignment_ceiling, bio_labels,
                                        decode_entities, encode_tagged, entity_scores, entity_types, read_conll,
                                        read_klue_ner, read_tagged)
from kobert_gluon.tokenizers.offsets import PieceSpan

from .conftest import require_shared

# KLUE-NER's layout: "## " comment lines (the file's header, then each sentence's id and annotated text), one
# character and its tag per line (a space is a line of its own), a blank line between sentences
KLUE_SAMPLE = '''## 토큰, 레이블 구분자 : \\t
## 문장 구분자 : \\n\\n
## 컬럼명 : CHAR\tNE_TAG
## klue-ner-v1_dev_00000-wikitree\t<경찰:OG>은 <박:PS>씨
경\tB-OG
찰\tI-OG
은\tO
 \tO
박\tB-PS
씨\tO

## klue-ner-v1_dev_00001-wikitree\t<서울:LC> <2020년:DT><김:PS><이:PS>
서\tB-LC
울\tI-LC
 \tO
2\tB-DT
0\tI-DT
2\tI-DT
0\tI-DT
년\tI-DT
김\tB-PS
이\tB-PS

## klue-ner-v1_dev_00002-wikitree\t(an I- tag without its B-, then one of another type after a B-)
그\tO
곳\tI-LC
은\tI-LC
날\tB-DT
씨\tI-TI
'''


def test_klue_reader_reads_texts_and_entity_spans(tmp_path):
    path = tmp_path / 'klue.tsv'
    path.write_text(KLUE_SAMPLE, encoding='utf-8')
    data = read_klue_ner(path)
    assert [e.text for e in data.examples] == ['경찰은 박씨', '서울 2020년김이', '그곳은날씨']
    assert [e.entities for e in data.examples] == [
        [Entity(0, 2, 'OG'), Entity(4, 5, 'PS')],
        [Entity(0, 2, 'LC'), Entity(3, 8, 'DT'), Entity(8, 9, 'PS'), Entity(9, 10, 'PS')],  # B- B-: two entities
        [Entity(1, 3, 'LC'), Entity(3, 4, 'DT'), Entity(4, 5, 'TI')]]
    assert [e.line for e in data.examples] == [5, 13, 25]  # the first character line of each sentence
    assert data.examples[0].entity_dicts()[1] == {'start': 4, 'end': 5, 'label': 'PS', 'text': '박'}
    # I-LC after O and I-TI after B-DT start entities (as seqeval reads them): counted as repaired
    assert data.repaired == 2 and '2 I- tags without a B-' in data.summary()
    assert data.report() == {'path': str(path), 'examples': 3, 'entities': 9, 'repaired_tags': 2,
                             'label_counts': {'DT': 2, 'LC': 2, 'OG': 1, 'PS': 3, 'TI': 1}}
    assert entity_types(data.examples) == ['DT', 'LC', 'OG', 'PS', 'TI']
    # Windows line ends and a byte-order mark read the same
    crlf = tmp_path / 'crlf.tsv'
    crlf.write_bytes(b'\xef\xbb\xbf' + KLUE_SAMPLE.replace('\n', '\r\n').encode('utf-8'))
    again = read_tagged(crlf, 'klue')
    assert [(e.text, e.entities) for e in again.examples] == [(e.text, e.entities) for e in data.examples]


@pytest.mark.parametrize('bad_line, reason', [
    ('경찰\tB-OG', 'expected one character, a tab and its tag'),
    ('경 B-OG', 'expected one character, a tab and its tag'),
    ('경\tX-OG', "tag 'X-OG' is not BIO"),
    ('경\tB-', "tag 'B-' is not BIO"),
])
def test_klue_reader_names_the_file_and_line_of_a_bad_line(tmp_path, bad_line, reason):
    path = tmp_path / 'bad.tsv'
    path.write_text('## id\t<경찰:OG>\n경\tB-OG\n찰\tI-OG\n\n## id\n{}\n'.format(bad_line), encoding='utf-8')
    with pytest.raises(InputError) as err:
        read_klue_ner(path)
    assert '{}, line 6:'.format(path) in str(err.value) and reason in str(err.value)


def test_conll_reader_joins_tokens_with_spaces(tmp_path):
    path = tmp_path / 'train.conll'
    path.write_text('-DOCSTART-\tO\n\n김철수\tB-PER\n는\tO\n서울\tB-LOC\n시청\tI-LOC\n에\tO\n\n'
                    '갔다\tI-LOC\n왔다\tI-LOC\n그리고\tO\n', encoding='utf-8')
    data = read_tagged(path, 'conll')
    assert [e.text for e in data.examples] == ['김철수 는 서울 시청 에', '갔다 왔다 그리고']
    # 김철수 = 0:3, 는 = 4:5, 서울 = 6:8, 시청 = 9:11: the entity spans the space between its tokens
    assert data.examples[0].entities == [Entity(0, 3, 'PER'), Entity(6, 11, 'LOC')]
    assert data.examples[1].entities == [Entity(0, 5, 'LOC')]
    assert data.repaired == 1 and [e.line for e in data.examples] == [3, 9]
    for bad, reason in (('김철수 B-PER', 'expected token<TAB>TAG'), ('김철수\tPER', "tag 'PER' is not BIO")):
        path.write_text('서울\tB-LOC\n{}\n'.format(bad), encoding='utf-8')
        with pytest.raises(InputError, match='line 2: ' + reason):
            read_conll(path)
    with pytest.raises(InputError, match='unknown tagged-text format'):
        read_tagged(path, 'iob2')


def test_parse_part(tmp_path):
    assert parse_part('data/ner.tsv#train') == (Path('data/ner.tsv'), 'train')
    assert parse_part('ner.tsv#test') == (Path('ner.tsv'), 'test')
    assert parse_part('ner.tsv#other') == (Path('ner.tsv#other'), None)
    assert parse_part('ner.tsv') == (Path('ner.tsv'), None)
    named = tmp_path / 'odd#dev'  # an existing file whose name ends in "#dev" is that file
    named.write_text('x\tO\n', encoding='utf-8')
    assert parse_part(named) == (named, None)
    existing = tmp_path / 'ner.tsv'  # a misspelt part of a file that exists says which parts there are
    existing.write_text('x\tO\n', encoding='utf-8')
    with pytest.raises(InputError, match=r"no part 'tset'; a file's parts are #train, #dev, #test"):
        parse_part(str(existing) + '#tset')


@pytest.fixture(scope='module')
def klue_dev():
    return read_klue_ner(require_shared('klue_ner', 'klue-ner-v1.1_dev.tsv'))


def test_hash_parts_of_the_real_klue_file_are_disjoint_and_cover_it(klue_dev):
    path = require_shared('klue_ner', 'klue-ner-v1.1_dev.tsv')
    assert len(klue_dev) == 5000 and klue_dev.repaired == 0
    texts = [e.text for e in klue_dev.examples]
    assert len(set(texts)) == 5000
    parts = {part: read_tagged('{}#{}'.format(path, part), 'klue') for part in PARTS}
    part_texts = {part: [e.text for e in data.examples] for part, data in parts.items()}
    assert not set(part_texts['train']) & set(part_texts['dev'])
    assert not set(part_texts['train']) & set(part_texts['test'])
    assert not set(part_texts['dev']) & set(part_texts['test'])
    assert sorted(sum(part_texts.values(), [])) == sorted(texts)
    sizes = {part: len(data) for part, data in parts.items()}
    assert sum(sizes.values()) == 5000
    for part, (low, high) in PARTS.items():
        assert abs(sizes[part] / 5000 - (high - low)) < 0.02, sizes  # measured 4,005 / 497 / 498
    assert parts['dev'].path == '{}#dev'.format(path)
    # each part keeps the file's order and the entities
    first_train = parts['train'].examples[0]
    assert first_train.entities == klue_dev.examples[texts.index(first_train.text)].entities


TYPES = ['OG', 'PS', 'QT']
LABELS = bio_labels(TYPES)  # O B-OG I-OG B-PS I-PS B-QT I-QT
LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}


def test_encode_tagged_labels_pieces_on_hard_cases():
    tokenizer = load_tokenizer('kobert-mini')
    text = '대한민국정부는 박씨의 딸(32)과'
    entities = [Entity(2, 6, 'OG'),   # 민국정부: starts inside the piece ▁대한민국
                Entity(8, 10, 'PS'),  # 박씨: ends inside the piece 씨의
                Entity(14, 16, 'QT')]  # 32: piece edges
    encoded = encode_tagged(text, entities, tokenizer, 64, LABEL_INDEX)
    assert [(s.piece, text[s.start:s.end]) for s in encoded.spans] == [
        ('▁대한민국', '대한민국'), ('정', '정'), ('부', '부'), ('는', '는'), ('▁박', '박'), ('씨의', '씨의'), ('▁딸', '딸'),
        ('▁', ''), ('(', '('), ('▁3', '3'), ('2', '2'), ('▁)', ')'), ('▁', ''), ('과', '과')]
    names = [LABELS[i] if i >= 0 else None for i in encoded.labels.tolist()]
    assert names == [None,  # [CLS]
                     'O', 'I-OG', 'I-OG', 'O',  # ▁대한민국 starts before the entity; 정 and 부 inside it
                     'B-PS', 'I-PS',  # 씨의 starts inside 박씨, so it is I-PS
                     'O', None, 'O',  # ▁딸, a lone ▁ (no characters: left out), (
                     'B-QT', 'I-QT', 'O', None, 'O',
                     None]  # [SEP]
    assert encoded.labels.dtype == np.int32 and int(encoded.valid_length) == 16 and encoded.truncated == 0
    same = tokenizer.encode(text, max_seq_length=64, pad=False)  # ids exactly as BERTSentenceTransform's
    assert encoded.input_ids.tolist() == same.input_ids.tolist() and encoded.token_types.tolist() == [0] * 16
    # back to characters: an entity is its first piece's start to its last piece's end
    predicted = [max(i, 0) for i in encoded.labels[1:-1].tolist()]
    assert decode_entities(text, encoded.spans, predicted, LABELS) == [
        Entity(4, 6, 'OG'), Entity(8, 11, 'PS'), Entity(14, 16, 'QT')]
    ceiling = alignment_ceiling([TaggedText(text, entities)], tokenizer)
    assert ceiling == {'entities': 3, 'representable': 1, 'share': 1 / 3}
    # cut at max_seq_length: [CLS], four pieces, [SEP]
    short = encode_tagged(text, entities, tokenizer, 6, LABEL_INDEX)
    assert short.labels.tolist() == [-1, 0, 2, 2, 0, -1] and short.truncated == 10 and len(short.spans) == 4
    # without labels (prediction) every label is ignored
    assert set(encode_tagged(text, entities, tokenizer, 64, None).labels.tolist()) == {IGNORED_LABEL}


def test_encode_tagged_on_wordpiece_continuations(tmp_path):
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '영화', '##가', '재미', '##있다', '정말'])
                     + '\n', encoding='utf-8')
    tokenizer = WordPieceTokenizer.from_vocab_txt(vocab)
    text = '영화가 정말 재미있다'
    encoded = encode_tagged(text, [Entity(2, 3, 'QT'), Entity(4, 11, 'OG')], tokenizer, 16, LABEL_INDEX)
    assert [(s.piece, s.start, s.end) for s in encoded.spans] == [
        ('영화', 0, 2), ('##가', 2, 3), ('정말', 4, 6), ('재미', 7, 9), ('##있다', 9, 11)]
    assert encoded.labels.tolist() == [-1, 0, LABEL_INDEX['B-QT'], LABEL_INDEX['B-OG'], LABEL_INDEX['I-OG'],
                                       LABEL_INDEX['I-OG'], -1]


def test_decode_entities_passes_over_empty_pieces_and_closes_on_type_change():
    text = '서울 부산'
    spans = [PieceSpan('▁서', 0, 1), PieceSpan('울', 1, 2), PieceSpan('▁', 3, 3), PieceSpan('▁부', 3, 4),
             PieceSpan('산', 4, 5)]
    ids = [LABEL_INDEX[t] for t in ('B-OG', 'I-OG', 'O', 'I-OG', 'I-PS')]
    # the empty piece's O is passed over, so I-OG continues the entity across the space
    assert decode_entities(text, spans, ids, LABELS) == [Entity(0, 4, 'OG'), Entity(4, 5, 'PS')]


def test_gold_entities_survive_the_round_trip_through_pieces(klue_dev):
    """Gold entities -> piece labels -> decoded entities, on all 5,000 real KLUE-NER sentences with kobert-mini's
    tokenizer: every entity the pieces can represent comes back exactly, and only those."""
    tokenizer = load_tokenizer('kobert-mini')
    labels = bio_labels(entity_types(klue_dev.examples))
    label_index = {label: i for i, label in enumerate(labels)}
    ceiling = alignment_ceiling(klue_dev.examples, tokenizer)
    assert ceiling['entities'] == 14257 and 0.9 < ceiling['share'] < 1  # measured 13,455 (94.4 %)
    decoded_all, exact, lost = [], 0, []
    for example in klue_dev.examples:
        encoded = encode_tagged(example.text, example.entities, tokenizer, 512, label_index)
        assert encoded.truncated == 0
        predicted = [max(i, 0) for i in encoded.labels[1:-1].tolist()]
        decoded = decode_entities(example.text, encoded.spans, predicted, labels)
        decoded_all.append(decoded)
        pieces = [s for s in encoded.spans if s.end > s.start]
        starts, ends = {s.start for s in pieces}, {s.end for s in pieces}
        for entity in example.entities:
            if entity.start in starts and entity.end in ends:
                if entity not in decoded:
                    lost.append((example.text, entity))
        exact += len(set(decoded) & set(example.entities))
    assert lost == []
    assert exact == ceiling['representable']
    scores = entity_scores([e.entities for e in klue_dev.examples], decoded_all)
    assert scores['entity_recall'] == pytest.approx(ceiling['share'])


# Hand-computed, and the same as seqeval 1.2.2 gives:
#   text 1  gold B-PS I-PS O B-LC        -> PS 0:2, LC 3:4
#           pred B-PS I-PS O B-OG        -> PS 0:2 (right), OG 3:4 (wrong type)
#   text 2  gold O B-OG I-OG I-OG        -> OG 1:4
#           pred O B-OG I-OG O           -> OG 1:3 (wrong end)
#   text 3  gold I-LC I-LC O             -> LC 0:2 (an I- without B- starts an entity)
#           pred B-LC I-LC O             -> LC 0:2 (right)
# gold 4 entities, predicted 4, right 2: precision 2/4, recall 2/4, F1 2 * .5 * .5 / (.5 + .5) = 0.5
# PS: 1 right of 1 and 1 -> F1 1; LC: 1 right of 1 predicted, 2 gold -> P 1, R 1/2, F1 2 * 1 * .5 / 1.5 = 2/3;
# OG: 0 right -> F1 0
HAND_GOLD = [['B-PS', 'I-PS', 'O', 'B-LC'], ['O', 'B-OG', 'I-OG', 'I-OG'], ['I-LC', 'I-LC', 'O']]
HAND_PREDICTED = [['B-PS', 'I-PS', 'O', 'B-OG'], ['O', 'B-OG', 'I-OG', 'O'], ['B-LC', 'I-LC', 'O']]


def _entities(tags, labels):
    """Entities of a per-character BIO sequence, through decode_entities (one character per piece)."""
    spans = [PieceSpan('x', i, i + 1) for i in range(len(tags))]
    return decode_entities('x' * len(tags), spans, [labels.index(t) for t in tags], labels)


def test_entity_scores_on_hand_computed_values():
    labels = bio_labels(['LC', 'OG', 'PS'])
    scores = entity_scores([_entities(t, labels) for t in HAND_GOLD], [_entities(t, labels) for t in HAND_PREDICTED])
    assert scores == pytest.approx({'entity_precision': 0.5, 'entity_recall': 0.5, 'entity_f1': 0.5,
                                    'f1_LC': 2 / 3, 'f1_OG': 0.0, 'f1_PS': 1.0})
    nothing = entity_scores([_entities(t, labels) for t in HAND_GOLD], [[], [], []])
    assert nothing['entity_precision'] == nothing['entity_recall'] == nothing['entity_f1'] == 0.0
    with pytest.raises(ValueError, match='3 gold texts but 2 predicted'):
        entity_scores([[], [], []], [[], []])


def test_entity_scores_equal_seqeval_on_random_sequences():
    metrics = pytest.importorskip('seqeval.metrics', reason='needs seqeval (and scikit-learn, which it imports)')
    types = ['LC', 'OG', 'PS']
    labels = bio_labels(types)
    rng = random.Random(7)

    def sequence():
        # mostly O, with entities, I- after O, I- of another type, B- right after B-
        return [rng.choice(['O'] * 4 + labels[1:]) for _ in range(rng.randint(0, 25))]
    gold = [sequence() for _ in range(400)]
    # predictions: the gold tags with a fifth of them changed, so scores are neither 0 nor 1
    predicted = [[rng.choice(labels) if rng.random() < 0.2 else t for t in tags] for tags in gold]
    ours = entity_scores([_entities(t, labels) for t in gold], [_entities(t, labels) for t in predicted])
    assert 0.3 < ours['entity_f1'] < 0.95
    assert ours['entity_precision'] == pytest.approx(metrics.precision_score(gold, predicted))
    assert ours['entity_recall'] == pytest.approx(metrics.recall_score(gold, predicted))
    assert ours['entity_f1'] == pytest.approx(metrics.f1_score(gold, predicted))
    report = metrics.classification_report(gold, predicted, output_dict=True)
    for label in types:
        assert ours['f1_' + label] == pytest.approx(report[label]['f1-score'])
    assert entity_scores([_entities(t, labels) for t in HAND_GOLD],
                         [_entities(t, labels) for t in HAND_PREDICTED])['entity_f1'] == pytest.approx(
        metrics.f1_score(HAND_GOLD, HAND_PREDICTED))
