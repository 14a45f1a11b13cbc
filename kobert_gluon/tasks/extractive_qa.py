"""Extractive question answering (SQuAD / KorQuAD 1.0): questions on contexts, windows, answer spans and back.

* :func:`read_squad` -- the questions of a SQuAD-format JSON file (``PATH#train`` / ``#dev`` / ``#test``: that
  hash part of its articles, :data:`~.file_parts.PARTS`); each answer's ``answer_start`` is checked against the context.
* :func:`make_windows` -- a question and its context as model inputs ``[CLS] question [SEP] context window [SEP]``
  (token types 0 then 1): the question cut to ``max_query_length`` pieces, the context in windows of what is left
  of ``max_seq_length``, each starting ``doc_stride`` pieces after the previous one (at most half a window, so that
  every answer shorter than half a window is whole in some window), so a long context is read whole. Pieces carry their character spans (:mod:`kobert_gluon.tokenizers.offsets`), so a gold answer's
  characters become the first piece that ends after its start and the last piece that starts before its end,
  exactly, whatever the normalisation (``▁``, punctuation split off, NFKC). A window without the whole answer
  points at ``[CLS]`` (position 0), as in BERT's SQuAD recipe.
* :func:`best_answer_spans` (:func:`best_answers`: their texts) -- for each question, the best span over its
  windows: the ``n_best`` highest start and end scores of each window's context pieces, spans with
  ``end >= start`` and at most ``max_answer_length`` pieces, score = start + end score, a piece counted only in
  the window where it has the most context on both sides (BERT's rule); the answer is the original context's
  characters from the start piece's first to the end piece's last, never text rebuilt from pieces, with their
  offsets (where the model found them, not the first occurrence of the same words).
* :class:`ParticleStripper` -- optionally, the Korean particles (조사) glued to the end of an answer (``서울에서``
  -> ``서울``) are removed, found by Mecab's analysis (or a suffix list, :func:`strip_particle`, which also cuts
  words that merely end like a particle), when the answer ends where its word ends and something remains.
* :class:`QuestionAnsweringPipeline` -- how ``finetune`` reads, batches and scores this structure (dev metric:
  KorQuAD's official F1 and exact match, :mod:`.qa_scoring`).
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..core.documents import rows_digest
from ..core.errors import InputError
from ..core.text_files import check_text_file
from ..training.held_out import check_dev_apart
from ..training.text_batches import BatchesBeside, TextBatches
from .head_task import HeadTask
from .kinds import register_structure
from .qa_scoring import score_predictions
from .file_formats import SQUAD_FORMATS
from .file_parts import in_part, parse_part

__all__ = ['QAExample', 'QAData', 'Window', 'read_squad', 'make_windows', 'AnswerSpan', 'best_answer_spans',
           'best_answers', 'strip_particle', 'ParticleStripper', 'PARTICLE_METHODS', 'PARTICLES', 'QABatches',
           'QATask', 'QuestionAnsweringPipeline', 'predict_answer_spans', 'predict_answers', 'QA_DEFAULTS']

# The particles stripped from an answer's end, longest first (so 에서 goes before 서 could ever match).
PARTICLES = tuple(sorted((
    '은', '는', '이', '가', '을', '를', '의', '에', '에서', '으로', '로', '와', '과', '도', '만', '께서', '에게',
    '에게서', '한테', '까지', '부터', '보다', '처럼', '이나', '나', '이라는', '라는', '에서는', '에는', '으로는',
    '로는', '에서의', '에의', '와의', '과의', '이었다', '였다', '이다', '인', '이며', '으로서', '로서', '으로써', '로써',
), key=len, reverse=True))

QA_DEFAULTS = {'doc_stride': 128, 'max_query_length': 64, 'max_answer_length': 30, 'n_best': 20}


@dataclass
class QAExample:
    qid: str
    question: str
    context: str
    answers: List[Tuple[str, int]]  # (text, character start in context)
    article: str = ''


@dataclass
class QAData:
    examples: List[QAExample]
    path: str
    notes: List[str] = field(default_factory=list)
    golds: Dict[str, List[str]] = field(default_factory=dict)

    def __len__(self):
        return len(self.examples)

    def summary(self) -> str:
        articles = len({e.article for e in self.examples})
        return ', '.join(['{}: {} questions on {} articles'.format(self.path, len(self), articles)] + self.notes)

    def report(self) -> dict:
        return {'path': self.path, 'questions': len(self), 'notes': self.notes}

    def digest_rows(self) -> list:
        return [[e.qid, e.question, e.context, e.answers] for e in self.examples]


_JSON_TYPES = {list: 'a list', dict: 'an object', str: 'a string', int: 'an integer'}


def _field(container: dict, key: str, kind: type, where: str, path, default=None):
    """``container[key]`` checked to be of ``kind`` (a missing key is ``default`` when one is given); else one line
    naming the file, the place, the field and what was expected."""
    if key not in container and default is not None:
        return default
    value = container.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        got = 'missing' if key not in container else 'null' if value is None else '{!r}'.format(value)[:40]
        raise InputError('{}: {} "{}" must be {} (SQuAD format), got {}'.format(path, where, key, _JSON_TYPES[kind],
                                                                                got))
    return value


def _entries(items: list, where: str, path):
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError('{}: {} {} must be an object (SQuAD format), got {}'.format(
                path, where, i, 'null' if item is None else repr(item)[:40]))
        yield i, item


def read_squad(path, part: Optional[str] = None, need_answers: bool = True, max_questions: Optional[int] = None,
               purpose: str = 'to learn from') -> QAData:
    """The questions of a SQuAD v1.1-format file (KorQuAD 1.0), in file order; ``PATH#part`` or ``part`` selects a
    hash part by article title. Every field is checked for its type (one line naming the place otherwise); an
    answer whose ``answer_start`` does not point at its text is an error. ``need_answers``: a question without an
    answer is an error, worded with ``purpose`` (``'to learn from'``, ``'to score against'``)."""
    if part is None:
        path, part = parse_part(path)
    path = check_text_file(path, 'data file')
    try:
        document = json.loads(Path(path).read_text(encoding='utf-8-sig'))
    except ValueError as err:
        raise InputError('{} is not a SQuAD-format JSON file ({{"data": [{{"paragraphs": ...}}]}}): {}'
                         .format(path, str(err)[:120])) from None
    if not isinstance(document, dict):
        raise InputError('{} is not a SQuAD-format JSON file: it holds {} instead of an object with "data"'
                         .format(path, _JSON_TYPES.get(type(document), type(document).__name__)))
    articles = _field(document, 'data', list, 'the file\'s', path)
    examples, golds = [], {}
    for a, article in _entries(articles, 'data: article', path):
        title = str(article.get('title', a))
        if not in_part(title, part):
            continue
        where = 'article {!r}'.format(title)
        for p, paragraph in _entries(_field(article, 'paragraphs', list, where, path, default=[]),
                                     where + ': paragraph', path):
            context = _field(paragraph, 'context', str, '{} paragraph {}'.format(where, p), path)
            for _, qa in _entries(_field(paragraph, 'qas', list, '{} paragraph {}'.format(where, p), path,
                                         default=[]), '{} paragraph {}: question'.format(where, p), path):
                qid, question = str(qa.get('id', '')), qa.get('question')
                if not qid or not isinstance(question, str):
                    raise InputError('{}: a question of article {!r} has no id or no text'.format(path, title))
                answers = []
                for _, answer in _entries(_field(qa, 'answers', list, 'question ' + qid, path, default=[]),
                                          'question {}: answer'.format(qid), path):
                    text = _field(answer, 'text', str, 'question {} answer'.format(qid), path)
                    start = _field(answer, 'answer_start', int, 'question {} answer'.format(qid), path)
                    # a negative start would slice from the end of the context and could match by accident
                    if start < 0 or context[start:start + len(text)] != text:
                        raise InputError('{}: question {}: answer {!r} is not at character {} of its context'
                                         .format(path, qid, text, start))
                    answers.append((text, start))
                if need_answers and not answers:
                    raise InputError('{}: question {} has no answer {} (SQuAD v1.1 / KorQuAD 1.0 files answer every '
                                     'question)'.format(path, qid, purpose))
                if qid in golds:
                    raise InputError('{}: question id {} appears twice'.format(path, qid))
                golds[qid] = [text for text, _ in answers]
                examples.append(QAExample(qid, question, context, answers, title))
                if max_questions is not None and len(examples) >= max_questions:
                    return QAData(examples, str(path) + ('#' + part if part else ''), golds=golds)
    return QAData(examples, str(path) + ('#' + part if part else ''), golds=golds)


class Window(NamedTuple):
    """One model input of a question: ids, length, token types, label ``(start, end)`` positions (0, 0 when the
    answer is not all inside), and for decoding the example index, the context pieces' character spans by position
    and whether this window is where each position has its most context."""
    input_ids: np.ndarray
    valid_length: np.ndarray
    token_types: np.ndarray
    label: np.ndarray
    example: int
    spans: Dict[int, Tuple[int, int]]
    max_context: Dict[int, bool]


def _answer_pieces(spans, start: int, end: int) -> Optional[Tuple[int, int]]:
    """First piece ending after ``start`` and last piece starting before ``end`` (pieces with characters only)."""
    first = next((i for i, s in enumerate(spans) if s.end > s.start and s.end > start), None)
    last = next((i for i in range(len(spans) - 1, -1, -1)
                 if spans[i].end > spans[i].start and spans[i].start < end), None)
    if first is None or last is None or last < first:
        return None
    return first, last


def make_windows(example: QAExample, index: int, tokenizer, max_seq_length: int, doc_stride: int = 128,
                 max_query_length: int = 64, context_spans=None) -> List[Window]:
    """The windows of one question (see the module docstring)."""
    vocab = tokenizer.vocab
    question = tokenizer(example.question)[:max_query_length]
    spans = context_spans if context_spans is not None else tokenizer.piece_offsets(example.context)
    separators = tokenizer.pair_separators  # the tokenizer kind's layout: [CLS] question [SEP]... context [SEP]
    room = max_seq_length - len(question) - 2 - separators
    if room < 1:
        raise InputError('max_seq_length {} leaves no room for the context after a {}-piece question; raise it or '
                         'lower max_query_length'.format(max_seq_length, len(question)))
    answer = None
    if example.answers:
        text, start = example.answers[0]
        answer = _answer_pieces(spans, start, start + len(text))
    # a stride longer than half a window would leave answers across window borders in no window whole
    stride = max(1, min(doc_stride, room // 2))
    starts = [0]
    while starts[-1] + room < len(spans):
        starts.append(starts[-1] + stride)
    head = [vocab[vocab.cls_token]] + vocab.to_indices(question) + [vocab[vocab.sep_token]] * separators
    windows = []
    for w, first in enumerate(starts):
        last = min(len(spans), first + room)
        ids = head + vocab.to_indices([s.piece for s in spans[first:last]]) + [vocab[vocab.sep_token]]
        offset = len(head) - first  # sequence position of context piece i is i + offset
        positions, max_context = {}, {}
        for i in range(first, last):
            positions[i + offset] = (spans[i].start, spans[i].end)
            # BERT's "max context": the window where the piece has the most pieces on its shorter side (the first
            # such window on a tie, so that a piece is counted in one window only)
            best = max((min(i - f, min(len(spans), f + room) - 1 - i) + 0.01 * (min(len(spans), f + room) - f), -k)
                       for k, f in enumerate(starts) if f <= i < f + room)
            max_context[i + offset] = best[1] == -w
        label = (0, 0)
        if answer is not None and first <= answer[0] and answer[1] < last:
            label = (answer[0] + offset, answer[1] + offset)
        types = [0] * len(head) + [tokenizer.second_token_type] * (len(ids) - len(head))
        windows.append(Window(np.array(ids, dtype=np.int32), np.array(len(ids), dtype=np.int32),
                              np.array(types, dtype=np.int32), np.array(label, dtype=np.float32), index,
                              positions, max_context))
    return windows


def strip_particle(answer: str, context: str, end: int) -> str:
    """``answer`` (ending at character ``end`` of ``context``) without a particle of :data:`PARTICLES` glued to its
    end, when the answer ends where its word ends and more than the particle is left. A suffix list cannot tell a
    particle from a word's own last syllable (인도 -> 인, 우루과이 -> 우루과): :class:`ParticleStripper` with Mecab
    can."""
    if not _at_word_end(context, end):
        return answer
    for particle in PARTICLES:
        if answer.endswith(particle) and len(answer) > len(particle) and answer[-len(particle) - 1].isalnum():
            return answer[:-len(particle)]
    return answer


def _at_word_end(context: str, end: int) -> bool:
    return end >= len(context) or not context[end].isalnum()


PARTICLE_METHODS = ('mecab', 'suffix')


class ParticleStripper:
    """Removes the particles (조사) glued to the end of an answer.

    ``mecab``: the answer's last word is analysed with Mecab (mecab-ko and its dictionary, the ``[mecab]`` extra)
    and its trailing morphemes tagged as particles (``J...``: 에서/JKB, 은/JX, 이/JKS ...) are removed, so 인도 and
    우루과이 stay whole. ``suffix``: :func:`strip_particle`'s list, without any analysis. ``auto`` picks Mecab when
    it is installed. Either way only an answer that ends where its word ends is touched, and something is left.
    """

    def __init__(self, method: str = 'auto'):
        if method == 'auto':
            method = 'mecab' if _mecab_tagger(required=False) is not None else 'suffix'
        if method not in PARTICLE_METHODS:
            raise InputError('particle stripping is mecab or suffix, got {!r}'.format(method))
        self.method = method
        self._tagger = _mecab_tagger(required=True) if method == 'mecab' else None

    def __call__(self, answer: str, context: str, end: int) -> str:
        if self.method == 'suffix':
            return strip_particle(answer, context, end)
        if not _at_word_end(context, end) or not answer.strip():
            return answer
        word = answer.split()[-1]
        morphemes = []
        for row in self._tagger.parse(word).splitlines():
            if row == 'EOS' or '\t' not in row:
                break
            surface, features = row.split('\t', 1)
            morphemes.append((surface, features.split(',', 1)[0]))
        particles = ''
        while len(morphemes) > 1 and morphemes[-1][1].split('+')[0].startswith('J'):
            particles = morphemes.pop()[0] + particles
        if particles and answer.endswith(particles) and len(answer) > len(particles):
            return answer[:-len(particles)]
        return answer


def _mecab_tagger(required: bool):
    from ..tokenizers.mecab import mecab_tagger
    try:
        return mecab_tagger('particle stripping with Mecab (or use the suffix list)')
    except InputError:
        if required:
            raise
        return None


class AnswerSpan(NamedTuple):
    """An answer and where it is: ``context[start:end] == text``; the empty answer has no place (None, None)."""
    text: str
    start: Optional[int]
    end: Optional[int]


def best_answer_spans(examples: Sequence[QAExample], windows: Sequence[Window], scores: Sequence[np.ndarray],
                      max_answer_length: int = 30, n_best: int = 20, strip_particles=None) -> Dict[str, AnswerSpan]:
    """``{question id: AnswerSpan}`` from each window's ``(length, 2)`` start/end scores (see the module
    docstring): the characters of the best span and their offsets in the context, where the model found them (the
    same words may occur earlier in the context). A question none of whose windows gives a valid span gets the
    empty answer. ``strip_particles``: a :class:`ParticleStripper` (or a method name for one, True for ``auto``)
    applied to every answer; it cuts the answer's end, so the start stays and the end moves back."""
    if strip_particles is True:
        strip_particles = ParticleStripper()
    elif isinstance(strip_particles, str):
        strip_particles = ParticleStripper(strip_particles)
    best: Dict[int, Tuple[float, int, int]] = {}
    for window, score in zip(windows, scores):
        positions = window.spans
        if not positions:
            continue
        candidates = np.array(sorted(positions), dtype=np.int64)
        start_scores, end_scores = score[candidates, 0], score[candidates, 1]
        top_starts = candidates[np.argsort(-start_scores, kind='stable')[:n_best]]
        top_ends = candidates[np.argsort(-end_scores, kind='stable')[:n_best]]
        for s in top_starts:
            if not window.max_context.get(int(s), False):
                continue
            for e in top_ends:
                if e < s or e - s + 1 > max_answer_length:
                    continue
                value = float(score[s, 0] + score[e, 1])
                current = best.get(window.example)
                if current is None or value > current[0]:
                    best[window.example] = (value, positions[int(s)][0], positions[int(e)][1])
    answers = {}
    for index, example in enumerate(examples):
        if index not in best:
            answers[example.qid] = AnswerSpan('', None, None)
            continue
        _, start, end = best[index]
        text = example.context[start:end]
        if strip_particles:
            text = strip_particles(text, example.context, end)
        answers[example.qid] = AnswerSpan(text, start, start + len(text))
    return answers


def best_answers(examples: Sequence[QAExample], windows: Sequence[Window], scores: Sequence[np.ndarray],
                 max_answer_length: int = 30, n_best: int = 20, strip_particles=None) -> Dict[str, str]:
    """``{question id: answer text}``: the texts of :func:`best_answer_spans`."""
    spans = best_answer_spans(examples, windows, scores, max_answer_length, n_best, strip_particles)
    return {qid: span.text for qid, span in spans.items()}


class QABatches(BatchesBeside):
    """The windows of a set of questions and their padded batches: what the trainer iterates, plus what decoding
    needs (the windows' piece positions, the questions)."""

    def __init__(self, data: QAData, tokenizer, max_seq_length: int, batch_size: int, shuffle: bool, seed: int = 0,
                 num_workers: int = 0, bucket_window: int = 50, doc_stride: int = 128, max_query_length: int = 64,
                 num_shards: int = 1, shard: int = 0):
        self.data = data
        self.windows: List[Window] = []
        spans_of: Dict[str, list] = {}  # a context is tokenized once for all its questions (KorQuAD: 6 per context)
        for index, example in enumerate(data.examples):
            if example.context not in spans_of:
                spans_of[example.context] = tokenizer.piece_offsets(example.context)
            self.windows.extend(make_windows(example, index, tokenizer, max_seq_length, doc_stride, max_query_length,
                                             context_spans=spans_of[example.context]))
        if not self.windows:
            raise InputError('{} has no questions'.format(data.path))
        answered = {w.example for w in self.windows if w.label[1] > 0}  # questions with their answer in a window
        self.unreachable = sum(1 for e, example in enumerate(data.examples) if example.answers and e not in answered)
        self.text_batches = TextBatches.from_encoded(
            [(w.input_ids, w.valid_length, w.token_types, w.label) for w in self.windows], tokenizer.vocab,
            batch_size, shuffle, seed=seed, label_dtype='float32', num_workers=num_workers,
            bucket_window=bucket_window, num_shards=num_shards, shard=shard)

    def __len__(self):
        return len(self.windows)



class QATask(HeadTask):
    """The trainer's task for a :class:`~kobert_gluon.heads.token.SpanExtractor`: start/end cross-entropy; dev
    scores are KorQuAD's official F1 and exact match of the decoded answers (particles kept)."""
    loss_unit = 'windows'

    def __init__(self, spec, vocab=None, tokenizer=None, saved_info=None, ctx=None, options=None):
        super().__init__(spec, vocab, tokenizer, saved_info, ctx)
        self.options = dict(QA_DEFAULTS, **(options or {}))

    def window_scores(self, model, data: QABatches) -> List[np.ndarray]:
        scores: List[Optional[np.ndarray]] = [None] * len(data)
        for indices, batch in self.each_batch(data, 'windows'):
            output, _ = self._forward(model, batch)
            values = output.asnumpy()
            for row, index in enumerate(indices):
                scores[index] = values[row]
        return scores

    def answer_spans(self, model, data: QABatches, strip_particles=None) -> Dict[str, AnswerSpan]:
        return best_answer_spans(data.data.examples, data.windows, self.window_scores(model, data),
                                 self.options['max_answer_length'], self.options['n_best'], strip_particles)

    def answers(self, model, data: QABatches, strip_particles=None) -> Dict[str, str]:
        return {qid: span.text for qid, span in self.answer_spans(model, data, strip_particles).items()}

    def evaluate(self, model, data: QABatches) -> Dict[str, float]:
        scores = score_predictions(data.data.golds, self.answers(model, data))
        return {'f1': scores['f1'], 'exact_match': scores['exact_match']}


def predict_answer_spans(model, tokenizer, data: QAData, spec, max_seq_length: int, batch_size: int = 64,
                         strip_particles=None, options=None, ctx=None) -> Dict[str, AnswerSpan]:
    """``{question id: AnswerSpan}`` (the answer and its character offsets in the context) for every question of
    ``data`` with a span extractor ``model`` (a Gluon head or a runtime's forward function)."""
    task = QATask(spec, ctx=ctx, options=options)
    batches = QABatches(data, tokenizer, max_seq_length, batch_size, shuffle=False,
                        doc_stride=task.options['doc_stride'], max_query_length=task.options['max_query_length'])
    return task.answer_spans(model, batches, strip_particles)


def predict_answers(model, tokenizer, data: QAData, spec, max_seq_length: int, batch_size: int = 64,
                    strip_particles=None, options=None, ctx=None) -> Dict[str, str]:
    """``{question id: answer}``: the texts of :func:`predict_answer_spans`."""
    spans = predict_answer_spans(model, tokenizer, data, spec, max_seq_length, batch_size, strip_particles,
                                 options, ctx)
    return {qid: span.text for qid, span in spans.items()}


def _digest(*datasets: Optional[QAData]) -> str:
    return rows_digest(*[None if data is None else data.digest_rows() for data in datasets])


class QuestionAnsweringPipeline:
    """How fine-tuning reads, batches and scores SQuAD-format data, and how a question answerer evaluates and
    predicts (the ``squad`` structure; see :mod:`.finetuning`)."""

    label = 'question answering'
    data_formats = SQUAD_FORMATS
    reads_tables = False
    predict_options = ('max_rows', 'strip_particles')
    routes = ('qa',)  # what a server of such a model answers (kobert_gluon.serving)

    @staticmethod
    def evaluate(model, path, max_rows=None, batch_size=64, **_table_options) -> Dict[str, float]:
        """KorQuAD's F1 and exact match of ``model`` (a ``FineTunedModel``) on a SQuAD file, as decoded and with each
        particle rule (the suffix list; Mecab when installed)."""
        data = read_squad(path, max_questions=max_rows, purpose='to score against')
        if not data.examples:
            raise InputError('{} has no questions'.format(path))
        task = QATask(model.spec, ctx=model.ctx)
        batches = QABatches(data, model.tokenizer, model.max_seq_length, batch_size, shuffle=False,
                            doc_stride=task.options['doc_stride'], max_query_length=task.options['max_query_length'])
        scores = task.window_scores(model.model, batches)  # computed once, decoded once per particle rule
        methods = [None, 'suffix'] + (['mecab'] if ParticleStripper('auto').method == 'mecab' else [])
        metrics = {}
        for method in methods:
            answers = best_answers(data.examples, batches.windows, scores, task.options['max_answer_length'],
                                   task.options['n_best'], method)
            result = score_predictions(data.golds, answers)
            suffix = '' if method is None else '_particles_' + method
            metrics['f1' + suffix], metrics['exact_match' + suffix] = result['f1'], result['exact_match']
        metrics['questions'] = len(data)
        return metrics

    @staticmethod
    def predict_output(model, request):
        """``{question id: answer}`` for the questions of a SQuAD-format input file (``max_rows``: the first N)."""
        from .prediction import PredictOutput
        if not request.input or request.texts:
            raise InputError('a question-answering model reads its questions from --input SQUAD_JSON')
        data = read_squad(request.input, need_answers=False, max_questions=request.max_rows)
        if not data.examples:
            raise InputError('{} has no questions'.format(request.input))
        answers = model.predict_answers(data, batch_size=request.batch_size, strip_particles=request.strip_particles)
        return PredictOutput(json.dumps(answers, ensure_ascii=False, indent=1) + '\n')

    def read(self, settings, log):
        train = read_squad(settings.train, max_questions=settings.max_train_rows)
        dev = read_squad(settings.dev, max_questions=settings.max_dev_rows) if settings.dev else None
        if dev is None and (settings.dev_fraction or settings.task.dev_fraction):
            raise InputError('a question-answering task takes its dev questions from a file (--dev, or FILE#dev)')
        if dev is not None:  # a question is the same question only over the same context
            check_dev_apart(settings.train, settings.dev, [(e.question, e.context) for e in train.examples],
                            [(e.question, e.context) for e in dev.examples], {'train': 'train', 'dev': 'dev'},
                            unit='questions')
        for data in (train, dev):
            if data is not None:
                log(data.summary())
        if len(train) == 0:
            raise InputError('{} has no questions'.format(settings.train))
        return train, dev, None

    digest = staticmethod(_digest)

    @staticmethod
    def report(data) -> Optional[dict]:
        return None if data is None else data.report()

    def batches(self, data, tokenizer, settings, labels, training: bool, log=None, ranks=None) -> QABatches:
        batches = QABatches(data, tokenizer, settings.max_seq_length,
                            settings.batch_size if training else settings.eval_batch_size, shuffle=training,
                            seed=settings.training.seed, num_workers=settings.num_workers,
                            bucket_window=settings.bucket_window, num_shards=ranks.size if ranks else 1,
                            shard=ranks.rank if ranks else 0)
        if log is not None:
            log('{}: {} questions in {} windows{}'.format(
                data.path, len(data), len(batches),
                '; {} answers fall in no window (their windows point at [CLS])'.format(batches.unreachable)
                if batches.unreachable else ''))
        return batches

    def task(self, spec, labels, vocab, tokenizer, saved_info, ctx):
        return QATask(spec, vocab, tokenizer, saved_info, ctx=ctx)


register_structure('squad', QuestionAnsweringPipeline())
