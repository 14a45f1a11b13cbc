"""Extractive QA data: windows over a context with their answer labels (hard cases, window borders, long real
KorQuAD contexts), n-best decoding on hand-made scores, Korean particle stripping, and read_squad's checks."""
import json

import numpy as np
import pytest

from kobert_gluon import WordPieceTokenizer, load_tokenizer
from kobert_gluon.core.errors import InputError
from kobert_gluon.tasks.extractive_qa import QAExample, best_answers, make_windows, read_squad, strip_particle

from .conftest import require_shared


def _sep_at(window, vocab):
    return window.input_ids.tolist().index(vocab[vocab.sep_token])


def _answer_text(example, window):
    """The context characters a window's label points at ('' for a window labelled [CLS])."""
    start, end = (int(x) for x in window.label)
    if (start, end) == (0, 0):
        return ''
    return example.context[window.spans[start][0]:window.spans[end][1]]


@pytest.mark.parametrize('context, answer, start, labelled', [
    # the answer starts inside the piece ▁대한민국: the label starts at that piece
    ('대한민국정부는 서울특별시에서 "홍길동"이라고 말했다.', '민국정부', 2, '대한민국정부'),
    # the answer ends inside the piece 특별
    ('대한민국정부는 서울특별시에서 "홍길동"이라고 말했다.', '서울특', 8, '서울특별'),
    # punctuation next to the answer is a piece of its own: exactly the answer, with or without the quotes
    ('대한민국정부는 서울특별시에서 "홍길동"이라고 말했다.', '홍길동', 17, '홍길동'),
    ('대한민국정부는 서울특별시에서 "홍길동"이라고 말했다.', '"홍길동"', 16, '"홍길동"'),
    # after a quote, "이라고" follows a lone ▁ (no characters): the label skips it
    ('대한민국정부는 서울특별시에서 "홍길동"이라고 말했다.', '이라고', 21, '이라고'),
    # repeated spaces and a tab in the context
    ('영화  정말\t재미있다', '정말', 4, '정말'),
    ('영화  정말\t재미있다', '영화  정말', 0, '영화  정말'),
    # NFKC: full-width letters are pieces K o B E R T, but the label's characters are the original ones
    ('모델은 ＫｏＢＥＲＴ  (２０２０년)이다', 'ＫｏＢＥＲＴ', 4, 'ＫｏＢＥＲＴ'),
    ('모델은 ＫｏＢＥＲＴ  (２０２０년)이다', '２０２０', 13, '２０２０'),
])
def test_windows_label_answers_on_hard_cases(context, answer, start, labelled):
    tokenizer = load_tokenizer('kobert-mini')
    assert context[start:start + len(answer)] == answer
    example = QAExample('q1', '어디에서 말했나?', context, [(answer, start)])
    [window] = make_windows(example, 0, tokenizer, 64)
    assert _answer_text(example, window) == labelled
    vocab = tokenizer.vocab
    question = tokenizer(example.question)
    pieces = [s.piece for s in tokenizer.piece_offsets(context)]
    assert window.input_ids.tolist() == vocab.to_indices(['[CLS]'] + question + ['[SEP]'] + pieces + ['[SEP]'])
    head = len(question) + 2
    assert window.token_types.tolist() == [0] * head + [1] * (len(pieces) + 1)
    assert int(window.valid_length) == len(window.input_ids) and window.example == 0
    assert sorted(window.spans) == list(range(head, head + len(pieces)))  # positions of the context pieces
    assert all(window.max_context.values())  # one window: every piece has its most context here


def test_the_question_is_cut_at_max_query_length():
    tokenizer = load_tokenizer('kobert-mini')
    question = '한국어 질문은 무엇인가요 그리고 또 다른 질문이 있나요'
    pieces = tokenizer(question)
    assert len(pieces) == 13
    example = QAExample('q1', question, '서울에서 열렸다', [('서울', 0)])
    [window] = make_windows(example, 0, tokenizer, 32, max_query_length=4)
    vocab = tokenizer.vocab
    assert window.input_ids.tolist()[:6] == vocab.to_indices(['[CLS]'] + pieces[:4] + ['[SEP]'])
    assert window.token_types.tolist()[:6] == [0] * 6 and _sep_at(window, vocab) == 5
    assert _answer_text(example, window) == '서울'
    with pytest.raises(InputError, match='leaves no room for the context'):
        make_windows(example, 0, tokenizer, 7, max_query_length=4)  # [CLS] 4 pieces [SEP] [SEP]: nothing left


@pytest.fixture
def numbered(tmp_path):
    """A WordPiece vocabulary where every word t0 ... t39 and q is one piece: windows can be counted by hand."""
    path = tmp_path / 'vocab.txt'
    tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'q'] + ['t{}'.format(i) for i in range(40)]
    path.write_text(''.join(t + '\n' for t in tokens), encoding='utf-8')
    return WordPieceTokenizer.from_vocab_txt(path)


CONTEXT = ' '.join('t{}'.format(i) for i in range(20))  # 20 pieces
WORD_STARTS = [len(' '.join('t{}'.format(i) for i in range(n))) + (n > 0) for n in range(20)]


def _example(first, last, qid='q1'):
    """A question whose answer is the pieces t<first> ... t<last> of CONTEXT."""
    answer = ' '.join('t{}'.format(i) for i in range(first, last + 1))
    assert CONTEXT[WORD_STARTS[first]:].startswith(answer)
    return QAExample(qid, 'q', CONTEXT, [(answer, WORD_STARTS[first])])


def test_windows_at_their_borders(numbered):
    # max_seq_length 13: [CLS] q [SEP] + 9 context pieces + [SEP]; stride 4: windows start at pieces 0, 4, 8, 12
    example = _example(4, 8)  # pieces 4..8: the last five of window 0 and the first five of window 1
    windows = make_windows(example, 3, numbered, 13, doc_stride=4)
    assert len(windows) == 4 and all(w.example == 3 for w in windows)
    assert [int(w.valid_length) for w in windows] == [13, 13, 13, 12]  # the last window has pieces 12..19
    firsts = [numbered.vocab.to_tokens(int(w.input_ids[3])) for w in windows]
    assert firsts == ['t0', 't4', 't8', 't12']
    # window 0: piece 4 at position 7, piece 8 (its last) at 11; window 1: piece 4 is its first (position 3)
    assert [tuple(int(x) for x in w.label) for w in windows] == [(7, 11), (3, 7), (0, 0), (0, 0)]
    assert [_answer_text(example, w) for w in windows] == ['t4 t5 t6 t7 t8'] * 2 + [''] * 2
    for w in windows:
        assert w.input_ids[0] == numbered.vocab['[CLS]'] and w.input_ids[-1] == numbered.vocab['[SEP]']
        assert w.token_types.tolist() == [0, 0, 0] + [1] * (int(w.valid_length) - 3)
    # the answer that ends the context is in the last window only, up to its last context position
    last = _example(15, 19)
    assert [tuple(int(x) for x in w.label) for w in make_windows(last, 0, numbered, 13, doc_stride=4)] == [
        (0, 0), (0, 0), (0, 0), (6, 10)]
    # one piece past a window's end: pieces 5..9 are not whole in window 0 (0..8) but are in window 1
    assert [tuple(int(x) for x in w.label) for w in make_windows(_example(5, 9), 0, numbered, 13,
                                                                 doc_stride=4)] == [(0, 0), (4, 8), (0, 0), (0, 0)]
    # a stride longer than half a window is cut to half a window (9 // 2 = 4): the same windows
    assert [w.input_ids.tolist() for w in make_windows(example, 0, numbered, 13, doc_stride=100)] == [
        w.input_ids.tolist() for w in windows]


def test_each_piece_has_its_most_context_in_one_window(numbered):
    windows = make_windows(_example(4, 8), 0, numbered, 13, doc_stride=4)
    owners = {}
    for number, window in enumerate(windows):
        first = int(window.input_ids[3]) - numbered.vocab['t0']
        for position, is_max in window.max_context.items():
            if is_max:
                owners.setdefault(position - 3 + first, []).append(number)
    # piece 5: 3 pieces of context on its shorter side in window 0 (0..8), 1 in window 1 (4..12); piece 6 has 2
    # in both windows 0 and 1: the first one wins, as in BERT
    assert owners == {0: [0], 1: [0], 2: [0], 3: [0], 4: [0], 5: [0], 6: [0], 7: [1], 8: [1], 9: [1], 10: [1],
                      11: [2], 12: [2], 13: [2], 14: [2], 15: [3], 16: [3], 17: [3], 18: [3], 19: [3]}


@pytest.fixture(scope='module')
def korquad():
    return read_squad(require_shared('korquad_v1', 'KorQuAD_v1.0_dev.json'))


def test_long_real_contexts_are_read_in_windows(korquad):
    """The first 1,200 KorQuAD questions in windows of 96 pieces: every answer of at most half a window is labelled
    in some window, and the labelled pieces are the fewest that cover it."""
    assert len(korquad) == 5774
    tokenizer = load_tokenizer('kobert-mini')
    max_seq_length, cache = 96, {}
    several = labelled_questions = 0
    for index, example in enumerate(korquad.examples[:1200]):
        if example.context not in cache:
            cache[example.context] = tokenizer.piece_offsets(example.context)
        spans = cache[example.context]
        windows = make_windows(example, index, tokenizer, max_seq_length, doc_stride=128, max_query_length=32,
                               context_spans=spans)
        several += len(windows) > 1
        assert all(int(w.valid_length) <= max_seq_length for w in windows)
        # every context piece has its most context in exactly one window
        assert sum(sum(w.max_context.values()) for w in windows) == len(spans)
        text, start = example.answers[0]
        stripped = text.strip()  # a few gold answers end in a space, which no piece covers
        start, end = start + text.index(stripped), start + text.index(stripped) + len(stripped)
        covering = [s for s in spans if s.end > s.start and s.end > start and s.start < end]
        room = max_seq_length - len(tokenizer(example.question)[:32]) - 3
        labelled = [w for w in windows if tuple(w.label) != (0, 0)]
        if len(covering) <= room // 2:
            assert labelled, example.qid
        for window in labelled:
            a, b = (int(x) for x in window.label)
            assert window.spans[a][0] <= start and window.spans[b][1] >= end, example.qid  # covers the answer
            assert window.spans[a] == (covering[0].start, covering[0].end)  # and no more pieces than needed
            assert window.spans[b] == (covering[-1].start, covering[-1].end)
        labelled_questions += bool(labelled)
    assert several > 800  # most KorQuAD contexts are longer than one window of 96 pieces
    assert labelled_questions == 1200


def _scores(window, start=None, end=None, low=-1000.0):
    """Scores for one window: ``low`` everywhere, ``start`` / ``end``: {piece number: score} (pieces t<n>)."""
    first = int(window.input_ids[3]) - 6  # ids: [PAD] [UNK] [CLS] [SEP] [MASK] q t0 ... so t<n> has id n + 6
    scores = np.full((len(window.input_ids), 2), low, dtype=np.float32)
    for column, values in ((0, start or {}), (1, end or {})):
        for piece, value in values.items():
            scores[piece - first + 3, column] = value
    return scores


def test_best_answers_on_hand_made_scores(numbered):
    example = _example(4, 8)
    [window] = make_windows(example, 0, numbered, 32)
    # score = start + end score. The best start t2 and end t10 are 9 pieces: allowed from max_answer_length 9
    # (20); at 8, t2 .. t9 (10 + 2 = 12) beats t8 .. t10 (1 + 10 = 11); at 5 only t8 .. t10 and t8 .. t9 (3) fit
    scores = _scores(window, start={2: 10, 8: 1}, end={10: 10, 9: 2})
    assert best_answers([example], [window], [scores], max_answer_length=9) == {'q1': 't2 t3 t4 t5 t6 t7 t8 t9 t10'}
    assert best_answers([example], [window], [scores], max_answer_length=8) == {'q1': 't2 t3 t4 t5 t6 t7 t8 t9'}
    assert best_answers([example], [window], [scores], max_answer_length=5) == {'q1': 't8 t9 t10'}
    # an end before the start is never an answer: t6 .. t3 (20) loses to t6 .. t7 (15)
    scores = _scores(window, start={6: 10}, end={3: 10, 7: 5})
    assert best_answers([example], [window], [scores]) == {'q1': 't6 t7'}
    # n_best: only the n best starts and ends are paired. Ends by score: t3 (10), t2 (9.6), t7 (9.5); t6 .. t7
    # (19.5) beats t1 .. t3 (19) once t7 is among them
    scores = _scores(window, start={6: 10, 1: 9}, end={3: 10, 2: 9.6, 7: 9.5})
    assert best_answers([example], [window], [scores], n_best=2) == {'q1': 't1 t2 t3'}
    assert best_answers([example], [window], [scores], n_best=3) == {'q1': 't6 t7'}
    # no allowed span at all: the empty answer
    assert best_answers([example], [window], [scores], max_answer_length=0) == {'q1': ''}


def test_best_answers_take_a_piece_only_from_the_window_where_it_has_most_context(numbered):
    example = _example(4, 8)
    windows = make_windows(example, 0, numbered, 13, doc_stride=4)  # windows of pieces 0-8, 4-12, 8-16, 12-19
    # window 1 scores t5 .. t6 far higher, but t5 has 1 piece of context on its left there and 3 in window 0;
    # t6 has 2 on its shorter side in both: window 0 counts, window 1 (later) does not
    for start in (5, 6):
        scores = [_scores(windows[0], start={2: 5}, end={3: 5}),
                  _scores(windows[1], start={start: 100}, end={7: 100}),
                  _scores(windows[2]), _scores(windows[3])]
        assert best_answers([example], windows, scores) == {'q1': 't2 t3'}
    # where t7 has its most context (window 1), its score counts
    scores = [_scores(windows[0], start={2: 5}, end={3: 5}), _scores(windows[1], start={7: 100}, end={8: 100}),
              _scores(windows[2]), _scores(windows[3])]
    assert best_answers([example], windows, scores) == {'q1': 't7 t8'}


def test_best_answers_are_the_original_characters():
    tokenizer = load_tokenizer('kobert-mini')
    context = '모델은 ＫｏＢＥＲＴ  (２０２０년)이다'
    example = QAExample('q9', '무엇?', context, [])
    [window] = make_windows(example, 0, tokenizer, 64)
    by_piece = {}
    for position, (start, end) in window.spans.items():
        by_piece.setdefault(context[start:end], position)
    scores = np.zeros((len(window.input_ids), 2), dtype=np.float32)
    scores[by_piece['Ｋ'], 0] = 10  # the piece "K" (from Ｋ)
    scores[by_piece['년'], 1] = 10
    # not text rebuilt from the pieces (KoBERT (2020년): the full-width letters and both spaces are kept
    assert best_answers([example], [window], [scores]) == {'q9': 'ＫｏＢＥＲＴ  (２０２０년'}

    context = '회의는 서울에서 열렸다'
    example = QAExample('q2', '어디?', context, [])
    [window] = make_windows(example, 0, tokenizer, 64)
    scores = np.zeros((len(window.input_ids), 2), dtype=np.float32)
    position = {context[s:e]: p for p, (s, e) in window.spans.items()}
    scores[position['서울'], 0] = scores[position['에서'], 1] = 10
    assert best_answers([example], [window], [scores]) == {'q2': '서울에서'}
    assert best_answers([example], [window], [scores], strip_particles=True) == {'q2': '서울'}


@pytest.mark.parametrize('answer, context, expected', [
    ('서울에서', '회의는 서울에서 열렸다', '서울'),
    ('서울에서는', '서울에서는 비가 왔다', '서울'),  # the longest particle first
    ('1989년 2월 15일', '그는 1989년 2월 15일 태어났다', '1989년 2월 15일'),  # 일 is not a particle
    ('박지성이', '박지성이 골을 넣었다', '박지성'),  # 이 at the end of a word, with something left
    ('박지성이', '결승골은 박지성이었다', '박지성이'),  # the word goes on (이었다): not the end of a word
    ('이', '이 사람은', '이'),  # nothing would be left
    ('그 이', '그 이 말고', '그 이'),  # the particle is a word of its own
    ('삼성전자가', '삼성전자가, 그리고', '삼성전자'),  # punctuation ends the word
    ('서울', '서울 시내', '서울'),
])
def test_strip_particle(answer, context, expected):
    end = context.index(answer) + len(answer)
    assert strip_particle(answer, context, end) == expected


def _squad(tmp_path, answer_start=3, answers=None, qid='q-7'):
    document = {'version': 'KorQuAD_v1.0_dev', 'data': [{'title': '서울', 'paragraphs': [{
        'context': '한국의 수도는 서울이다.',
        'qas': [{'id': qid, 'question': '한국의 수도는?',
                 'answers': answers if answers is not None else [{'text': '수도는', 'answer_start': answer_start}]}]
    }]}]}
    path = tmp_path / 'squad.json'
    path.write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')
    return path


def test_read_squad_reads_questions_and_checks_answer_starts(tmp_path):
    data = read_squad(_squad(tmp_path, answer_start=4))
    [example] = data.examples
    assert (example.qid, example.question, example.context, example.answers, example.article) == (
        'q-7', '한국의 수도는?', '한국의 수도는 서울이다.', [('수도는', 4)], '서울')
    assert data.golds == {'q-7': ['수도는']}
    with pytest.raises(InputError, match=r"question q-7: answer '수도는' is not at character 3 of its context"):
        read_squad(_squad(tmp_path, answer_start=3))
    with pytest.raises(InputError, match='question q-7 has no answer to learn from'):
        read_squad(_squad(tmp_path, answers=[]))
    assert read_squad(_squad(tmp_path, answers=[]), need_answers=False).golds == {'q-7': []}
    path = tmp_path / 'other.json'
    path.write_text('{"version": 1}', encoding='utf-8')
    with pytest.raises(InputError, match='"data" must be a list .SQuAD format., got missing'):
        read_squad(path)


def test_read_squad_hash_parts_split_by_article(korquad):
    path = require_shared('korquad_v1', 'KorQuAD_v1.0_dev.json')
    parts = {part: read_squad('{}#{}'.format(path, part)) for part in ('train', 'dev', 'test')}
    articles = {part: {e.article for e in data.examples} for part, data in parts.items()}
    assert not articles['train'] & articles['dev'] and not articles['dev'] & articles['test']
    assert not articles['train'] & articles['test']
    assert sum(len(data) for data in parts.values()) == len(korquad) == 5774
    assert sorted(q for data in parts.values() for q in data.golds) == sorted(korquad.golds)


@pytest.mark.parametrize('answer, context, expected', [
    ('서울에서', '회의는 서울에서 열렸다', '서울'),
    ('룩에게', '그는 룩에게 말했다', '룩'),
    ('2010년 3월 21일에', '2010년 3월 21일에 열렸다', '2010년 3월 21일'),
    ('교육부로부터', '교육부로부터 받았다', '교육부'),
    # words that end like a particle, which the suffix list cuts (인도 -> 인): Mecab keeps them whole
    ('인도', '그는 인도 출신이다', '인도'),
    ('우루과이', '우루과이 대표팀', '우루과이'),
    ('870만', '인구는 870만 명', '870만'),
    ('박지성이', '결승골은 박지성이었다', '박지성이'),  # the word goes on: not touched
])
def test_mecab_particle_stripper_keeps_words_that_only_end_like_particles(answer, context, expected):
    pytest.importorskip('mecab_ko', reason='Mecab particle stripping needs the [mecab] extra')
    from kobert_gluon.tasks.extractive_qa import ParticleStripper
    stripper = ParticleStripper('mecab')
    end = context.index(answer) + len(answer)
    assert stripper(answer, context, end) == expected
    if answer in ('인도', '우루과이'):
        assert strip_particle(answer, context, end) != answer  # the suffix list's known damage
