"""piece_offsets: every piece of a text with the characters of the original text it stands for, for both tokenizer
kinds. On real Korean text (NSMC reviews, KorQuAD contexts, KLUE-NER sentences) the pieces are exactly the
tokenizer's and each piece's characters read as the piece; hard cases (normalisation, whitespace, unknowns) are
checked span by span."""
import json
import unicodedata

import pytest

from kobert_gluon import WordPieceTokenizer, load_tokenizer
from kobert_gluon.tokenizers.offsets import is_bert_whitespace, piece_offsets

from .conftest import require_shared


def _tokenizer(kind):
    if kind == 'kobert-mini':
        return load_tokenizer('kobert-mini')  # ships in the package
    if kind == 'kobert-base':
        require_shared('kobert')
        return load_tokenizer('kobert-base')
    return load_tokenizer(require_shared('koelectra', 'vocab.txt'))


@pytest.fixture(scope='module')
def real_texts():
    """3,000 NSMC reviews, the contexts of 30 KorQuAD articles, 1,500 KLUE-NER sentences."""
    reviews = require_shared('nsmc', 'ratings_test.txt').read_text(encoding='utf-8').splitlines()[1:3001]
    korquad = json.loads(require_shared('korquad_v1', 'KorQuAD_v1.0_dev.json').read_text(encoding='utf-8'))
    contexts = [p['context'] for article in korquad['data'][:30] for p in article['paragraphs']]
    from kobert_gluon.tasks.tagging import read_klue_ner
    klue = read_klue_ner(require_shared('klue_ner', 'klue-ner-v1.1_dev.tsv')).examples[:1500]
    texts = [line.split('\t')[1] for line in reviews] + contexts + [e.text for e in klue]
    assert len(texts) > 4600 and sum(map(len, texts)) > 200000
    return texts


@pytest.mark.parametrize('kind', ['kobert-mini', 'kobert-base', 'koelectra-wordpiece'])
def test_pieces_and_spans_on_real_text(kind, real_texts):
    tokenizer = _tokenizer(kind)
    form = tokenizer.offset_normalization
    assert form == ('NFC' if kind.startswith('koelectra') else 'NFKC')
    unknown = tokenizer.vocab.unknown_token
    pieces = matched = unknowns = 0
    misaligned, bad_unknowns = [], []
    for text in real_texts:
        spans = tokenizer.piece_offsets(text)
        assert [s.piece for s in spans] == tokenizer(text), text  # the same pieces as the whole text's
        for span in spans:
            assert 0 <= span.start <= span.end <= len(text), (text, span)
            assert not any(is_bert_whitespace(c) for c in text[span.start:span.end]), (text, span)
        for before, after in zip(spans, spans[1:]):
            assert before.start <= after.start and before.end <= after.end, (text, before, after)
        for span in spans:
            covered = text[span.start:span.end]
            if span.piece == unknown:  # [UNK]: the characters it stands for make one [UNK] on their own
                unknowns += 1
                if not covered or tokenizer(covered) != [unknown]:
                    bad_unknowns.append((text, span))
                continue
            surface = tokenizer.piece_surface(span.piece)
            if not surface:  # SentencePiece's lone "▁": no characters of its own
                assert span.start == span.end
                continue
            pieces += 1
            if unicodedata.normalize(form, surface) == unicodedata.normalize(form, covered):
                matched += 1
            else:
                misaligned.append((span.piece, covered))
    # measured: kobert-mini 150,505 of 150,513 (the rest: '㎐' -> H z, accents SentencePiece's NFD step drops);
    # WordPiece all 125,998 and all 609 [UNK]
    assert pieces > 120000
    assert matched / pieces >= 0.999, misaligned[:20]
    assert bad_unknowns == []
    if kind.startswith('koelectra'):
        assert unknowns > 100 and misaligned == []  # NFC loses nothing: every known piece is exact


def _spans(tokenizer, text):
    spans = piece_offsets(tokenizer, text)
    assert spans == tokenizer.piece_offsets(text) and [s.piece for s in spans] == tokenizer(text)
    return [(s.piece, s.start, s.end) for s in spans]


@pytest.mark.parametrize('text, expected', [
    # repeated spaces and a tab: the spans skip them
    ('영화  정말\t재미있다', [('▁영화', 0, 2), ('▁정말', 4, 6), ('▁재미있다', 7, 11)]),
    ('  앞뒤 공백  ', [('▁앞뒤', 2, 4), ('▁공', 5, 6), ('백', 6, 7)]),
    # NFKC: ㈜ is three pieces ( 주 ), each the whole character; a lone ▁ has no characters
    ('㈜카카오', [('▁', 0, 0), ('(', 0, 1), ('주', 0, 1), (')', 0, 1), ('카', 1, 2), ('카', 2, 3), ('오', 3, 4)]),
    # the ligature ﬁ is f + i: "il" is part of ﬁ and l, so it covers both characters
    ('ﬁle 이름', [('▁f', 0, 1), ('il', 0, 2), ('e', 2, 3), ('▁이름', 4, 6)]),
    # full-width letters and digits are one character each
    ('ＫｏＢＥＲＴ는 ２０２０년', [('▁', 0, 0), ('K', 0, 1), ('o', 1, 2), ('B', 2, 3), ('E', 3, 4), ('R', 4, 5),
                             ('T', 5, 6), ('는', 6, 7), ('▁20', 8, 10), ('20', 10, 12), ('년', 12, 13)]),
    # punctuation glued to Hangul is split off (BERT's basic tokenization comes first)
    ('"안녕!"이라고 말했다.', [('▁"', 0, 1), ('▁안녕', 1, 3), ('▁!', 3, 4), ('▁"', 4, 5), ('▁', 5, 5),
                          ('이라고', 5, 8), ('▁말', 9, 10), ('했다', 10, 12), ('▁.', 12, 13)]),
    # conjoining jamo: ᄒ + ᅡ (+ ᆫ) compose to one syllable, whose piece covers all of them
    ('\u1112\u1161\u11ab글 \u1112\u1161나', [('▁한', 0, 3), ('글', 3, 4), ('▁하나', 5, 8)]),
    # a character outside the vocabulary keeps itself as the piece (its id is [UNK]'s)
    ('ᚠᚡ가 鬱', [('▁', 0, 0), ('ᚠᚡ', 0, 2), ('가', 2, 3), ('▁', 4, 4), ('鬱', 4, 5)]),
    ('', []),
])
def test_sentencepiece_hard_cases(text, expected):
    assert _spans(load_tokenizer('kobert-mini'), text) == expected


SMALL_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '영화', '##가', '정말', '재미', '##있다', '"', '!', '.',
               '안녕', '이라고', '하', '##나', '는', '4', '인치', '(', ')', '주']


@pytest.fixture
def small_wordpiece(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text(''.join(token + '\n' for token in SMALL_VOCAB), encoding='utf-8')
    return WordPieceTokenizer.from_vocab_txt(path)


@pytest.mark.parametrize('text, expected', [
    ('영화  정말\t재미있다', [('영화', 0, 2), ('정말', 4, 6), ('재미', 7, 9), ('##있다', 9, 11)]),
    ('"안녕!"이라고', [('"', 0, 1), ('안녕', 1, 3), ('!', 3, 4), ('"', 4, 5), ('이라고', 5, 8)]),
    # NFC composes ᄒ + ᅡ into 하
    ('\u1112\u1161나', [('하', 0, 2), ('##나', 2, 3)]),
    # WordPiece keeps ㈜, ﬁ and full-width letters as they are: one [UNK] for the whole (basic) word
    ('㈜ 영화', [('[UNK]', 0, 1), ('영화', 2, 4)]),
    ('(주)영화가', [('(', 0, 1), ('주', 1, 2), (')', 2, 3), ('영화', 3, 5), ('##가', 5, 6)]),
    ('ﬁle 영화', [('[UNK]', 0, 3), ('영화', 4, 6)]),
    ('ＫｏＢＥＲＴ는 정말', [('[UNK]', 0, 7), ('정말', 8, 10)]),
    # past the 100-character limit the whole word is one [UNK]
    ('영화' * 60 + ' 정말', [('[UNK]', 0, 120), ('정말', 121, 123)]),
    # a CJK character is a word of its own: two [UNK] in a row, one character each
    ('船體는', [('[UNK]', 0, 1), ('[UNK]', 1, 2), ('는', 2, 3)]),
    # the next known piece's text ("4") also occurs inside the first [UNK] ("⁄4"; – is punctuation)
    ('⁄4–4 인치', [('[UNK]', 0, 2), ('[UNK]', 2, 3), ('4', 3, 4), ('인치', 5, 7)]),
    ('영화\u00a0정말', [('영화', 0, 2), ('정말', 3, 5)]),  # no-break space is BERT whitespace
])
def test_wordpiece_hard_cases(small_wordpiece, text, expected):
    assert _spans(small_wordpiece, text) == expected


def test_wordpiece_hard_cases_on_koelectras_vocabulary():
    tokenizer = _tokenizer('koelectra-wordpiece')
    text = '선체(船體)는 ㈜카카오 ' + '가나다라마바사' * 20
    spans = tokenizer.piece_offsets(text)
    assert [(s.piece, text[s.start:s.end]) for s in spans] == [
        ('선체', '선체'), ('(', '('), ('[UNK]', '船'), ('[UNK]', '體'), (')', ')'), ('는', '는'),
        ('[UNK]', '㈜카카오'), ('[UNK]', '가나다라마바사' * 20)]

