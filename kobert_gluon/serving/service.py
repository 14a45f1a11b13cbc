"""What a loaded model answers over HTTP, without the web framework: request bodies read and checked (one line naming
the field), inputs measured in tokens (cut as ``predict`` cuts them, or refused with ``truncate: false``), and the
runners the batcher calls with rows of many requests.

Routes per task structure: a sentence classifier or regressor answers ``predict``, a token classifier ``ner``, an
extractive question answerer ``qa``; every model answers ``embed`` (its backbone's sentence vectors, as
:func:`kobert_gluon.encode` makes them) and ``tokenize`` (its tokenizer's pieces, ids and character offsets).
"""
import logging
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..core import checks
from ..core.errors import InputError
from ..tasks.finetuning import FineTunedModel

__all__ = ['RequestError', 'ModelService', 'COMMON_ROUTES']

log = logging.getLogger(__name__)

# Every model answers these; a task structure's pipeline (tasks.finetuning.PIPELINES) adds its own ``routes``.
COMMON_ROUTES = ('embed', 'tokenize')
# Long enough for any text: only the length is read, nothing is cut.
_UNCUT = 1 << 20


class RequestError(InputError):
    """A request the server refuses; ``status`` is the HTTP status (422: the body; 404/405: the route)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _field(body: dict, name: str, kinds, required: bool = True, default=None):
    if name not in body:
        if required:
            raise RequestError('{}: missing'.format(name))
        return default
    value = body[name]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise RequestError('{}: must be {}, got {}'.format(name, _kind_words(kinds), _described(value)))
    return value


def _as_tuple(kinds):
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_words(kinds) -> str:
    words = {str: 'a string', bool: 'true or false', list: 'a list', dict: 'an object', int: 'an integer'}
    return ' or '.join(words[k] for k in _as_tuple(kinds))


def _described(value) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return {str: 'a string', list: 'a list', dict: 'an object', int: 'a number', float: 'a number'}.get(
        type(value), type(value).__name__)


def check_body(body: Any, known: Tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise RequestError('body: must be a JSON object, got {}'.format(_described(body)))
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise RequestError('{}: unknown field (this route reads {})'.format(unknown[0], ', '.join(known)))
    return body


def checked_text(where: str, value) -> str:
    """A text a route computes: the package's rule for texts (:func:`kobert_gluon.core.checks.text`), and not empty
    or blank (text-embeddings-inference refuses those too: the model has nothing to read in one)."""
    try:
        checks.text(where, value)
    except checks.RuleError as err:
        raise RequestError(str(err)) from None
    if not value.strip():
        raise RequestError('{}: empty text'.format(where))
    return value


def check_input_count(count: int, max_inputs: int, field: str) -> None:
    if count > max_inputs:
        raise RequestError('{}: {} inputs, more than the {} this server takes in one request '
                           '(--max-client-batch-size); send them in several requests'.format(field, count, max_inputs))


class ModelService:
    """A :class:`FineTunedModel` (``predict``'s, loaded by :func:`kobert_gluon.deploy.predictor.load_predictor`)
    seen as the routes it answers."""

    def __init__(self, model: FineTunedModel, name: str):
        self.model = model
        self.name = name
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length
        self.routes = tuple(model.pipeline.routes) + COMMON_ROUTES
        self._encoder = None
        self._encoder_lock = threading.Lock()

    # ----- which routes ------------------------------------------------------------------------------------
    def require(self, route: str) -> None:
        if route not in self.routes:
            raise RequestError('{} is a {} model: it answers /{}, not /{}'.format(
                self.name, self.model.pipeline.label, ', /'.join(self.routes), route), status=404)

    @property
    def label_names(self) -> Optional[List[str]]:
        return [str(name) for name in self.model.label_names] if self.model.label_names is not None else None

    # ----- lengths -----------------------------------------------------------------------------------------
    def length(self, row) -> int:
        """Tokens of one row as the model would see it uncut ([CLS], [SEP] included)."""
        if isinstance(row, tuple) and len(row) == 2:
            return int(self.tokenizer.encode(row[0], row[1], max_seq_length=_UNCUT, pad=False)[1])
        text = row[0] if isinstance(row, tuple) else row
        return int(self.tokenizer.encode(text, max_seq_length=_UNCUT, pad=False)[1])

    def lengths(self, rows, truncate: bool, field: str = 'inputs') -> List[int]:
        """Each row's tokens, at most ``max_seq_length`` (the model cuts the rest); with ``truncate`` false a longer
        row is refused."""
        lengths = []
        for index, row in enumerate(rows):
            length = self.length(row)
            if length > self.max_seq_length and not truncate:
                raise RequestError('{}[{}]: {} tokens, more than the model\'s {}; shorten it or send "truncate": true'
                                   .format(field, index, length, self.max_seq_length))
            lengths.append(min(length, self.max_seq_length))
        return lengths

    # ----- request bodies ----------------------------------------------------------------------------------
    def texts_of(self, body: Any, pairs_allowed: bool, max_inputs: int) -> Tuple[List, bool, bool]:
        """``(rows, single, truncate)`` of a ``{"inputs": str | [str] | [[a, b]], "truncate": bool}`` body;
        ``single``: one string was sent (the answer is one result, not a list). More than ``max_inputs`` inputs
        are refused: one request must not hold the model for everyone else."""
        body = check_body(body, ('inputs', 'truncate'))
        inputs = _field(body, 'inputs', (str, list))
        truncate = _field(body, 'truncate', bool, required=False, default=True)
        pair = pairs_allowed and self.model.pair
        if isinstance(inputs, str):
            if pair:
                raise RequestError('inputs: this model reads sentence pairs: send [[text_a, text_b], ...]')
            return [checked_text('inputs', inputs)], True, truncate
        if not inputs:
            raise RequestError('inputs: empty list')
        check_input_count(len(inputs), max_inputs, 'inputs')
        rows = []
        for index, item in enumerate(inputs):
            where = 'inputs[{}]'.format(index)
            if isinstance(item, str) and not pair:
                rows.append(checked_text(where, item))
                continue
            if not isinstance(item, list) or not all(isinstance(part, str) for part in item):
                raise RequestError('{}: must be {}, got {}'.format(
                    where, '[text_a, text_b]' if pair else 'a string', _described(item)))
            width = 2 if pair else 1
            if len(item) != width:
                raise RequestError('{}: has {} text(s); this model takes {}'.format(where, len(item), width))
            parts = [checked_text('{}[{}]'.format(where, i), part) for i, part in enumerate(item)]
            rows.append(tuple(parts) if pair else parts[0])
        return rows, False, truncate

    # ----- runners: rows of many requests in, one result per row out ----------------------------------------
    def run_predict(self, rows: List) -> List:
        texts = [row if isinstance(row, tuple) else (row,) for row in rows]
        predictions = self.model.predict(texts, batch_size=len(texts))
        return list(predictions)

    def predict_answer(self, prediction) -> Any:
        """/predict's answer for one row, as the model's task structure gives it."""
        return self.model.pipeline.answer(self.model, prediction)

    def run_ner(self, rows: List[str]) -> List:
        entities, _truncated = self.model.predict_entities(rows, batch_size=len(rows))
        return [[{'entity': e.label, 'start': int(e.start), 'end': int(e.end), 'text': text[e.start:e.end]}
                 for e in text_entities] for text, text_entities in zip(rows, entities)]

    def run_qa(self, rows: List[Tuple[str, str]]) -> List:
        from ..tasks.extractive_qa import QAData, QAExample
        examples = [QAExample(qid=str(i), question=question, context=context, answers=[])
                    for i, (question, context) in enumerate(rows)]
        spans = self.model.predict_answer_spans(QAData(examples, path='<request>'), batch_size=len(rows))
        # where the model found the answer, not the first occurrence of its words
        return [{'answer': spans[str(i)].text, 'start': spans[str(i)].start, 'end': spans[str(i)].end}
                for i in range(len(rows))]

    def run_embed(self, rows: List[str]) -> List:
        return [vector.tolist() for vector in self.encoder()(rows, batch_size=len(rows))]

    def run_tokenize(self, rows: List[str]) -> List:
        from ..tokenizers.offsets import piece_offsets
        vocab = self.tokenizer.vocab
        results = []
        for text in rows:
            spans = piece_offsets(self.tokenizer, text)
            results.append({'pieces': [span.piece for span in spans],
                            'ids': [int(i) for i in vocab.to_indices([span.piece for span in spans])],
                            'offsets': [[int(span.start), int(span.end)] for span in spans]})
        return results

    def runners(self) -> Dict[str, Any]:
        every = {'predict': self.run_predict, 'ner': self.run_ner, 'qa': self.run_qa, 'embed': self.run_embed,
                 'tokenize': self.run_tokenize}
        return {route: every[route] for route in self.routes}

    def encoder(self):
        """The model's backbone as :func:`kobert_gluon.encode` uses it, loaded on the first /embed (a second copy of
        the backbone: a server that never embeds does not hold it)."""
        with self._encoder_lock:
            if self._encoder is None:
                from ..models.sentence_vectors import SentenceEncoder
                self._encoder = SentenceEncoder(str(self.model.folder), max_seq_length=self.max_seq_length,
                                                device=self.model.ctx)
            return self._encoder

    def warm_up(self, batcher) -> None:
        """Every shape the runtime compiles ahead (OpenVINO: each (batch, length) bucket up to the batcher's
        largest batch), then one row through the model's own route, so no request pays for graph building."""
        started = time.perf_counter()
        compiled = self.model.prepare(batcher.max_batch_size)
        if compiled:
            log.info('compiled %d input shapes in %.1f s', compiled, time.perf_counter() - started)
        route = self.routes[0]
        row = {'predict': ('안녕하세요', '안녕하세요') if self.model.pair else '안녕하세요',
               'ner': '안녕하세요', 'qa': ('누구?', '안녕하세요'), 'embed': '안녕하세요',
               'tokenize': '안녕하세요'}[route]
        batcher.run_now(route, [row], [self.length(row) if route != 'qa' else 8])
