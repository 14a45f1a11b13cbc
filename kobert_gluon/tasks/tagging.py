"""Token classification (named entities): tagged text, labels on pieces, spans back, entity-level scores.

Examples are texts with their entities as character spans (:class:`TaggedText`), read from

* the **KLUE-NER** format (:func:`read_klue_ner`): one character and its BIO tag per line (a space is a line of its
  own), ``## `` comment lines (the sentence id and the annotated sentence), a blank line between sentences;
* **CoNLL-style** files (:func:`read_conll`): ``token<TAB>TAG`` per line, a blank line between sentences (the text
  is the tokens joined by single spaces; ``-DOCSTART-`` lines are passed over);
* the **Naver NER** format of KoBERT's NER results (:func:`read_naver_ner`, Naver's 2018 NLP challenge):
  ``index<TAB>word<TAB>TAG`` per line, the index counting from 1 in each sentence, ``TYPE_B`` / ``TYPE_I`` / ``-``
  tags (read as ``B-TYPE`` / ``I-TYPE`` / ``O``), a blank line between sentences (an index 1 with no blank line
  before it is refused: a file without blank lines is not read as one text); the text is the words joined by
  single spaces, so entities come back as spans of it.

Labels go from characters to pieces through :func:`~kobert_gluon.tokenizers.offsets.piece_offsets`: a piece that
starts where an entity starts is ``B-<type>``, a piece that starts inside one is ``I-<type>``, any other ``O``;
``[CLS]``, ``[SEP]``, padding and pieces with no characters of their own (SentencePiece's lone ``▁``) are left
out of the loss (label -1). Every piece inside an entity is labelled (not only the first), so that predictions say
where an entity ends. Predictions go back the same way (:func:`decode_entities`): a ``B-`` piece opens an entity, ``I-``
pieces of the same type extend it, anything else closes it; the entity is the characters from its first piece's
start to its last piece's end. An entity whose edge falls inside a piece cannot be predicted exactly with that
tokenizer; :func:`alignment_ceiling` counts them.

Scores (:func:`entity_scores`) are seqeval's default entity-level micro precision, recall and F1: an entity counts
as found when its type, start and end are all right (a test checks them against seqeval on BIO sequences).
Files of one task are split into train/dev/test parts by a hash of the sentence (``PATH#train`` etc.; see
:mod:`.file_parts`), since KLUE-NER's dev set is the only part of it here.
"""
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..core.documents import rows_digest
from ..core.errors import InputError
from ..core.text_files import DEFAULT_ENCODING, check_decodable, check_text_file, read_lines
from ..training.held_out import check_dev_apart
from .file_formats import TAGGED_FORMATS
from ..training.text_batches import BatchesBeside, TextBatches
from .file_parts import in_part, parse_part
from .head_task import HeadTask
from .kinds import register_structure
from .labels import check_label_counts, label_lines, sorted_labels

__all__ = ['Entity', 'TaggedText', 'TaggedData', 'read_klue_ner', 'read_conll', 'read_tagged', 'bio_labels',
           'entity_types', 'encode_tagged', 'decode_entities', 'entity_scores', 'alignment_ceiling',
           'IGNORED_LABEL', 'TAGGED_FORMATS', 'TaggedBatches', 'TokenTask', 'TaggingPipeline',
           'predict_entities', 'split_tag', 'check_label_scheme', 'read_naver_ner']

IGNORED_LABEL = -1


class Entity(NamedTuple):
    start: int
    end: int
    label: str


@dataclass
class TaggedText:
    """A text and its entities (character spans, sorted, not overlapping); ``line``: where it starts in its file;
    ``repaired``: how many of its ``I-`` tags had no ``B-`` and were read as entity starts."""
    text: str
    entities: List[Entity]
    line: int = 0
    key: str = ''
    repaired: int = 0

    def entity_dicts(self) -> List[dict]:
        return [{'start': e.start, 'end': e.end, 'label': e.label, 'text': self.text[e.start:e.end]}
                for e in self.entities]


@dataclass
class TaggedData:
    """Examples read from one file (or one part of it), with what was left out and why."""
    examples: List[TaggedText]
    path: str
    notes: List[str] = field(default_factory=list)

    def __len__(self):
        return len(self.examples)

    @property
    def repaired(self) -> int:
        """``I-`` tags without a ``B-`` in these examples (counted per example, so a part or a cut says its own)."""
        return sum(e.repaired for e in self.examples)

    def summary(self) -> str:
        entities = sum(len(e.entities) for e in self.examples)
        parts = ['{}: {} texts, {} entities'.format(self.path, len(self.examples), entities)]
        if self.repaired:
            parts.append('{} I- tags without a B- read as entity starts'.format(self.repaired))
        return ', '.join(parts + self.notes)

    def entity_lines(self) -> Dict[str, List[int]]:
        """``{entity type: [the first file line of the text of each entity]}``."""
        return label_lines((entity.label, example.line) for example in self.examples for entity in example.entities)

    def report(self) -> dict:
        lines = self.entity_lines()
        return {'path': self.path, 'examples': len(self.examples),
                'entities': sum(len(e.entities) for e in self.examples), 'repaired_tags': self.repaired,
                'label_counts': {label: len(lines[label]) for label in sorted_labels(lines)}}

    def digest_rows(self) -> list:
        return [[e.text, [list(x) for x in e.entities]] for e in self.examples]


def _spans_from_bio(tags: Sequence[str], starts: Sequence[int], ends: Sequence[int]) -> Tuple[List[Entity], int]:
    """Entities from per-unit BIO tags (a unit is a character or a token at ``starts[i]:ends[i]``); an ``I-`` that
    does not continue an entity of its type starts one (as seqeval reads it), counted as repaired."""
    entities, current, repaired = [], None, 0
    for tag, start, end in zip(tags, starts, ends):
        if tag == 'O':
            current = None
            continue
        prefix, label = tag[:2], tag[2:]
        if prefix == 'I-' and current is not None and current[2] == label:
            current[1] = end
            continue
        if prefix == 'I-':
            repaired += 1
        current = [start, end, label]
        entities.append(current)
    return [Entity(s, e, label) for s, e, label in entities], repaired


OTHER_SCHEME_PREFIXES = ('E-', 'S-', 'L-', 'U-')  # BIOES / BILOU: their ends and singletons are not read here


def split_tag(tag: str) -> Tuple[str, str]:
    """``(prefix, entity type)`` of a predicted label that is not ``O``: ``B-PER`` -> ``('B-', 'PER')``; a plain
    ``PER`` (the IO scheme: no begin tags) reads as inside a ``PER``, so a run of them is one entity."""
    if tag[:2] in ('B-', 'I-') and len(tag) > 2:
        return tag[:2], tag[2:]
    return 'I-', tag


def check_label_scheme(labels: Sequence[str], where) -> str:
    """``'bio'`` (``O``, ``B-T``, ``I-T``) or ``'io'`` (``O`` and plain types): the schemes entities are decoded
    from; anything else (BIOES ends, a mixture) is refused naming the labels, since it would decode wrongly."""
    tagged = [label for label in labels if label != 'O']
    bio = [label for label in tagged if label[:2] in ('B-', 'I-') and len(label) > 2]
    other = [label for label in tagged if label[:2] in OTHER_SCHEME_PREFIXES and len(label) > 2]
    if other or (bio and len(bio) != len(tagged)):
        odd = other or [label for label in tagged if label not in bio]
        raise InputError('{}: labels {} are neither BIO tags (O, B-<type>, I-<type>) nor IO tags (O and plain types '
                         'such as PER); entities cannot be read from them'.format(
                             where, ', '.join(odd[:5]) + (' ...' if len(odd) > 5 else '')))
    return 'bio' if bio else 'io'


def _check_tag(tag: str, path, line: int) -> str:
    if tag == 'O' or (len(tag) > 2 and tag[:2] in ('B-', 'I-')):
        return tag
    raise InputError('{}, line {}: tag {!r} is not BIO (O, B-TYPE or I-TYPE)'.format(path, line, tag))


def _tagged_blocks(path, encoding: str, parse_line, is_break):
    """``(first line number, units, tags)`` of each blank-line-separated sentence of a one-unit-per-line file;
    ``parse_line(line, number)`` -> ``(unit, tag)`` or None to skip the line; ``is_break(line)``: a sentence ends."""
    path = check_text_file(path, 'data file')
    if check_decodable(path, encoding, 'data file') == 0:
        raise InputError('data file {} is empty'.format(path))
    units, tags, first_line = [], [], None
    for number, line in enumerate(read_lines(path, encoding), 1):
        line = line.rstrip('\r')
        if is_break(line):
            if units:
                yield first_line, units, tags
            units, tags = [], []
            continue
        parsed = parse_line(line, number)
        if parsed is None:
            continue
        if not units:
            first_line = number
        units.append(parsed[0])
        tags.append(_check_tag(parsed[1], path, number))
    if units:
        yield first_line, units, tags


def _tagged_data(path, blocks, part: Optional[str], spans) -> TaggedData:
    """The examples of ``blocks`` in ``part``; ``spans(units)`` -> ``(text, starts, ends)`` of the units."""
    examples = []
    for first_line, units, tags in blocks:
        text, starts, ends = spans(units)
        if in_part(text, part):
            entities, fixed = _spans_from_bio(tags, starts, ends)
            examples.append(TaggedText(text, entities, first_line, text, fixed))
    return TaggedData(examples, str(Path(path)) + ('#' + part if part else ''))


def read_klue_ner(path, encoding: str = DEFAULT_ENCODING, part: Optional[str] = None) -> TaggedData:
    """Sentences of a KLUE-NER file (see the module docstring); ``part``: only that hash part (by sentence)."""
    def parse_line(line, number):
        if line.startswith('##'):
            return None
        char, tab, tag = line.rpartition('\t')
        if not tab or len(char) != 1:
            raise InputError('{}, line {}: expected one character, a tab and its tag (KLUE-NER), got {!r}; for '
                             'token<TAB>TAG files use the conll format'.format(path, number, line[:60]))
        return char, tag.strip()

    def spans(chars):
        return ''.join(chars), range(len(chars)), range(1, len(chars) + 1)
    blocks = _tagged_blocks(path, encoding, parse_line, lambda line: not line)
    return _tagged_data(path, blocks, part, spans)


def read_conll(path, encoding: str = DEFAULT_ENCODING, part: Optional[str] = None) -> TaggedData:
    """Sentences of a ``token<TAB>TAG`` file; the text joins the tokens with single spaces."""
    def parse_line(line, number):
        fields = line.split('\t')
        if len(fields) < 2 or not fields[0].strip():
            raise InputError('{}, line {}: expected token<TAB>TAG, got {!r}'.format(path, number, line[:60]))
        return fields[0].strip(), fields[-1].strip()

    blocks = _tagged_blocks(path, encoding, parse_line,
                            lambda line: not line.strip() or line.startswith('-DOCSTART-'))
    return _tagged_data(path, blocks, part, _joined_words)


def _joined_words(words):
    """``(text, starts, ends)`` of words joined by single spaces."""
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word) + 1
    return ' '.join(words), starts, [s + len(w) for s, w in zip(starts, words)]


def read_naver_ner(path, encoding: str = DEFAULT_ENCODING, part: Optional[str] = None) -> TaggedData:
    """Sentences of a Naver NER file (see the module docstring), its tags read as BIO."""
    expected = 'index<TAB>word<TAB>TAG with TAG TYPE_B, TYPE_I or - (the Naver NER format)'
    # The index says where a sentence starts: without it, a file with no blank lines would be read as one text
    state = {'next': 1, 'start': None}

    def parse_line(line, number):
        fields = line.split('\t')
        if len(fields) != 3 or not fields[0].strip().isdigit() or not fields[1].strip():
            raise InputError('{}, line {}: expected {}, got {!r}'.format(path, number, expected, line[:60]))
        tag = fields[2].strip()
        kind, _, position = tag.rpartition('_')
        if tag != '-' and (not kind or position not in ('B', 'I')):
            raise InputError('{}, line {}: tag {!r} is not TYPE_B, TYPE_I or -'.format(path, number, tag))
        index = int(fields[0])
        if index != state['next']:
            if index == 1:
                raise InputError('{}, line {}: index 1 starts a new sentence, but no blank line ends the one that '
                                 'started on line {}; the Naver NER format puts a blank line between sentences'
                                 .format(path, number, state['start']))
            raise InputError('{}, line {}: index {} where {} was expected (each sentence counts its words from 1, '
                             'and a blank line ends it)'.format(path, number, index, state['next']))
        state['next'], state['start'] = index + 1, state['start'] if index > 1 else number
        return fields[1].strip(), 'O' if tag == '-' else '{}-{}'.format(position, kind)

    def is_break(line):
        if not line.strip():
            state['next'] = 1
            return True
        return False

    blocks = _tagged_blocks(path, encoding, parse_line, is_break)
    return _tagged_data(path, blocks, part, _joined_words)


# data_format -> its reader (the first of TAGGED_FORMATS is the default)
_READERS = {'klue': read_klue_ner, 'conll': read_conll, 'naver': read_naver_ner}


def read_tagged(path, data_format: str, encoding: str = DEFAULT_ENCODING) -> TaggedData:
    """Read ``path`` (``PATH#part`` for a hash part) in ``data_format`` (``klue``, ``conll`` or ``naver``)."""
    if data_format not in TAGGED_FORMATS:
        raise InputError('unknown tagged-text format {!r}; formats: {}'.format(data_format, ', '.join(TAGGED_FORMATS)))
    base, part = parse_part(path)
    return _READERS[data_format](base, encoding=encoding, part=part)


def entity_types(data: Sequence[TaggedText]) -> List[str]:
    types = sorted({e.label for example in data for e in example.entities})
    if not types:
        raise InputError('the training data has no entities: there is nothing to learn')
    return types


def bio_labels(types: Sequence[str]) -> List[str]:
    """The piece labels of a tagger: ``O``, then ``B-`` and ``I-`` of each type."""
    return ['O'] + [prefix + t for t in types for prefix in ('B-', 'I-')]


def _piece_labels(spans, entities: Sequence[Entity], label_index: Dict[str, int]) -> List[int]:
    """BIO label ids of pieces with character spans ``spans`` (see the module docstring)."""
    owner = {}
    for entity in entities:
        for char in range(entity.start, entity.end):
            owner[char] = entity
    labels = []
    for span in spans:
        if span.end <= span.start:
            labels.append(IGNORED_LABEL)
            continue
        entity = owner.get(span.start)
        if entity is None:
            labels.append(label_index['O'])
        else:
            prefix = 'B-' if span.start == entity.start else 'I-'
            labels.append(label_index.get(prefix + entity.label, label_index['O']))
    return labels


class EncodedTagged(NamedTuple):
    """One text encoded: model inputs, piece labels (with -1 where ignored), the pieces' spans, and how many pieces
    were cut off at ``max_seq_length``."""
    input_ids: np.ndarray
    valid_length: np.ndarray
    token_types: np.ndarray
    labels: np.ndarray
    spans: list
    truncated: int


def encode_tagged(text: str, entities: Sequence[Entity], tokenizer, max_seq_length: int,
                  label_index: Optional[Dict[str, int]]) -> EncodedTagged:
    """``[CLS] pieces [SEP]`` ids (as ``BERTSentenceTransform`` makes them for the text) and piece labels."""
    spans = tokenizer.piece_offsets(text)
    room = max_seq_length - 2
    truncated = max(0, len(spans) - room)
    spans = spans[:room]
    vocab = tokenizer.vocab
    ids = [vocab[vocab.cls_token]] + vocab.to_indices([s.piece for s in spans]) + [vocab[vocab.sep_token]]
    if label_index is not None:
        labels = [IGNORED_LABEL] + _piece_labels(spans, entities, label_index) + [IGNORED_LABEL]
    else:
        labels = [IGNORED_LABEL] * len(ids)
    return EncodedTagged(np.array(ids, dtype=np.int32), np.array(len(ids), dtype=np.int32),
                         np.zeros(len(ids), dtype=np.int32), np.array(labels, dtype=np.int32), spans, truncated)


def decode_entities(text: str, spans, predicted: Sequence[int], labels: Sequence[str]) -> List[Entity]:
    """Entities (character spans of ``text``) from the label ids predicted for the pieces at ``spans`` (the
    ``[CLS]``/``[SEP]`` positions already removed). Pieces with no characters are passed over."""
    entities, current = [], None
    for span, label_id in zip(spans, predicted):
        if span.end <= span.start:
            continue
        tag = labels[int(label_id)]
        if tag == 'O':
            current = None
            continue
        prefix, label = split_tag(tag)
        if prefix == 'I-' and current is not None and current[2] == label:
            current[1] = span.end
            continue
        current = [span.start, span.end, label]
        entities.append(current)
    return [Entity(s, e, label) for s, e, label in entities]


def alignment_ceiling(examples: Sequence[TaggedText], tokenizer) -> Dict[str, float]:
    """How many gold entities the tokenizer's pieces can represent exactly (both edges on piece edges): the recall a
    perfect tagger would have with it."""
    total = exact = 0
    for example in examples:
        spans = [s for s in tokenizer.piece_offsets(example.text) if s.end > s.start]
        starts, ends = {s.start for s in spans}, {s.end for s in spans}
        for entity in example.entities:
            total += 1
            exact += entity.start in starts and entity.end in ends
    return {'entities': total, 'representable': exact, 'share': exact / total if total else 1.0}


def entity_scores(truth: Sequence[Sequence[Entity]], predicted: Sequence[Sequence[Entity]]) -> Dict[str, float]:
    """Micro precision / recall / F1 of exact entities (type, start and end), and F1 per type."""
    if len(truth) != len(predicted):
        raise ValueError('{} gold texts but {} predicted'.format(len(truth), len(predicted)))
    found, gold, right = Counter(), Counter(), Counter()
    for gold_entities, predicted_entities in zip(truth, predicted):
        gold_set, predicted_set = set(gold_entities), set(predicted_entities)
        for e in gold_set:
            gold[e.label] += 1
        for e in predicted_set:
            found[e.label] += 1
        for e in gold_set & predicted_set:
            right[e.label] += 1

    def prf(r, f, g):
        precision = r / f if f else 0.0
        recall = r / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1
    precision, recall, f1 = prf(sum(right.values()), sum(found.values()), sum(gold.values()))
    scores = {'entity_f1': f1, 'entity_precision': precision, 'entity_recall': recall}
    for label in sorted(set(gold) | set(found)):
        scores['f1_' + label] = prf(right[label], found[label], gold[label])[2]
    return scores


def data_digest(*datasets: Optional[TaggedData]) -> str:
    return rows_digest(*[None if data is None else data.digest_rows() for data in datasets])


def split_off(data: TaggedData, fraction: float) -> Tuple[TaggedData, TaggedData]:
    """``(rest, held_out)``: about ``fraction`` of the texts held out as dev, chosen by a hash of the text (the same
    text always lands on the same side)."""
    held = [zlib.crc32(('dev-split:' + e.key).encode('utf-8')) < fraction * 2 ** 32 for e in data.examples]
    if all(held) or not any(held):
        raise InputError('{} has too few texts ({}) to hold out a dev fraction of {}'
                         .format(data.path, len(data), fraction))
    rest = TaggedData([e for e, h in zip(data.examples, held) if not h], data.path + ' (train part)')
    dev = TaggedData([e for e, h in zip(data.examples, held) if h],
                     data.path + ' (dev part, {:.0%} held out)'.format(fraction))
    return rest, dev


class TaggedBatches(BatchesBeside):
    """Encoded texts and their padded batches: what the trainer iterates (``num_batches``, ``batches``,
    ``fingerprint``) plus what scoring needs (each text's piece spans and gold entities)."""

    def __init__(self, examples: Sequence[TaggedText], tokenizer, max_seq_length: int, labels: Optional[Sequence[str]],
                 batch_size: int, shuffle: bool, seed: int = 0, num_workers: int = 0, bucket_window: int = 50,
                 num_shards: int = 1, shard: int = 0):
        if max_seq_length < 3:
            raise InputError('max_seq_length {} leaves no room for the text after [CLS] and [SEP]'
                             .format(max_seq_length))
        label_index = {label: i for i, label in enumerate(labels)} if labels is not None else None
        self.examples = list(examples)
        self.encodings = [encode_tagged(e.text, e.entities, tokenizer, max_seq_length, label_index)
                          for e in self.examples]
        self.truncated_texts = sum(1 for e in self.encodings if e.truncated)
        self.text_batches = TextBatches.from_encoded(
            [(e.input_ids, e.valid_length, e.token_types, e.labels) for e in self.encodings], tokenizer.vocab,
            batch_size, shuffle, seed=seed, label_dtype='int32', num_workers=num_workers, bucket_window=bucket_window,
            label_padding=IGNORED_LABEL, num_shards=num_shards, shard=shard)

    def __len__(self):
        return len(self.examples)



class TokenTask(HeadTask):
    """The trainer's task for a :class:`~kobert_gluon.heads.token.TokenClassifier`: cross-entropy on the labelled
    pieces; dev scores are entity-level (:func:`entity_scores`) on the character spans decoded from the pieces."""
    loss_unit = 'pieces'

    def __init__(self, spec, labels: Sequence[str], vocab=None, tokenizer=None, saved_info=None, ctx=None):
        super().__init__(spec, vocab, tokenizer, saved_info, ctx)
        self.labels = list(labels)

    def loss_count(self, output, label):
        return (label >= 0).sum()  # the kind's loss is the mean over the labelled pieces

    def predict(self, model, data: TaggedBatches) -> List[List[Entity]]:
        """The entities of every text of ``data``, in order."""
        results: List[List[Entity]] = [[] for _ in range(len(data))]
        for indices, batch in self.each_batch(data, 'texts'):
            output, _ = self._forward(model, batch)
            predicted = output.argmax(axis=-1).asnumpy().astype(np.int64)
            for row, index in enumerate(indices):
                encoding = data.encodings[index]
                pieces = len(encoding.spans)
                results[index] = decode_entities(data.examples[index].text, encoding.spans,
                                                 predicted[row, 1:1 + pieces], self.labels)
        return results

    def evaluate(self, model, data: TaggedBatches) -> Dict[str, float]:
        predicted = self.predict(model, data)
        return entity_scores([e.entities for e in data.examples], predicted)


def predict_entities(model, tokenizer, texts: Sequence[str], labels: Sequence[str], max_seq_length: int,
                     batch_size: int, spec, ctx=None) -> Tuple[List[List[Entity]], int]:
    """Entities of each text with a token classifier ``model`` (a Gluon head or a runtime's forward function) of
    the task ``spec``; also returns how many texts were longer than ``max_seq_length`` pieces (their tail is not
    tagged)."""
    if not texts:
        return [], 0
    examples = [TaggedText(text, [], i) for i, text in enumerate(texts)]
    data = TaggedBatches(examples, tokenizer, max_seq_length, None, batch_size, shuffle=False)
    return TokenTask(spec, labels, ctx=ctx).predict(model, data), data.truncated_texts


class TaggingPipeline:
    """How fine-tuning reads, batches and scores tagged text, and how a token classifier evaluates and predicts
    (the ``tagged`` structure; see :mod:`.finetuning`)."""

    label = 'token classification'
    data_formats = TAGGED_FORMATS  # the first is the default
    reads_tables = False
    predict_options = ()
    routes = ('ner',)  # what a server of such a model answers (kobert_gluon.serving)

    @staticmethod
    def evaluate(model, path, max_rows=None, batch_size=64, encoding=DEFAULT_ENCODING, data_format=None,
                 **_table_options):
        """Entity scores of ``model`` (a ``FineTunedModel``) on tagged text (``PATH#test``: a hash part)."""
        data = read_tagged(path, data_format or model.spec.data_format or TAGGED_FORMATS[0], encoding)
        examples = data.examples[:max_rows] if max_rows is not None else data.examples
        if not examples:
            raise InputError('{} has no texts'.format(path))
        predicted, truncated = model.predict_entities([e.text for e in examples], batch_size)
        metrics = entity_scores([e.entities for e in examples], predicted)
        metrics.update(texts=len(examples), entities=sum(len(e.entities) for e in examples),
                       truncated_texts=truncated)
        return metrics

    @staticmethod
    def predict_output(model, request):
        """One JSON line per input text, in order: ``{"text", "entities": [{"start", "end", "label", "text"}]}`` with
        character offsets into the text; a blank input keeps its line with no entities."""
        import json
        from .prediction import PredictOutput, request_lines
        lines, _ = request_lines(request, 'texts to tag')
        present = [i for i, line in enumerate(lines) if line.strip()]
        entities, truncated = model.predict_entities([lines[i] for i in present], batch_size=request.batch_size)
        found = dict(zip(present, entities))
        rows = [json.dumps({'text': line, 'entities': TaggedText(line, found.get(i, [])).entity_dicts()},
                           ensure_ascii=False) for i, line in enumerate(lines)]
        notes = []
        if len(lines) > len(present):
            notes.append('{} of {} inputs were blank and have no entities'.format(len(lines) - len(present),
                                                                                 len(lines)))
        if truncated:
            notes.append('{} of {} texts are longer than the model\'s {} pieces; only their beginning was tagged'
                         .format(truncated, len(present), model.max_seq_length))
        return PredictOutput('\n'.join(rows) + '\n', notes)

    def read(self, settings, log):
        spec = settings.task
        data_format = spec.data_format or 'klue'
        train = read_tagged(settings.train, data_format, settings.encoding)
        if settings.max_train_rows is not None:
            train.examples = train.examples[:settings.max_train_rows]
        lines = train.entity_lines()
        listed = None
        if spec.labels is not None:  # the task's own labels: an entity type outside them is an error, as in tables
            listed = list(dict.fromkeys(split_tag(label)[1] for label in spec.labels if label != 'O'))
            outside = [label for label in lines if label not in listed]
            if outside:
                raise InputError('{}, line {}: entity type {!r} is not among the task\'s labels ({})'.format(
                    train.path, lines[outside[0]][0], outside[0], ', '.join(spec.labels)))
        check_label_counts(lines, train.path, settings.min_label_count, listed, log, unit='entities')
        labels = list(spec.labels) if spec.labels is not None else bio_labels(entity_types(train.examples))
        dev = None
        dev_fraction = settings.dev_fraction if settings.dev_fraction is not None else spec.dev_fraction
        if settings.dev:
            dev = read_tagged(settings.dev, data_format, settings.encoding)
        elif dev_fraction:
            train, dev = split_off(train, dev_fraction)
        if dev is not None and settings.max_dev_rows is not None:
            dev.examples = dev.examples[:settings.max_dev_rows]
        if settings.dev:
            check_dev_apart(settings.train, settings.dev, [e.text for e in train.examples],
                            [e.text for e in dev.examples], {'train': 'train', 'dev': 'dev'}, unit='texts')
        for data in (train, dev):
            if data is not None:
                log(data.summary())
        if len(train) == 0:
            raise InputError('{} has no texts'.format(settings.train))
        return train, dev, labels

    @staticmethod
    def digest(train, dev) -> str:
        return data_digest(train, dev)

    @staticmethod
    def report(data) -> Optional[dict]:
        return None if data is None else data.report()

    def batches(self, data, tokenizer, settings, labels, training: bool, log=None, ranks=None) -> TaggedBatches:
        batches = TaggedBatches(data.examples, tokenizer, settings.max_seq_length, labels,
                                settings.batch_size if training else settings.eval_batch_size, shuffle=training,
                                seed=settings.training.seed, num_workers=settings.num_workers,
                                bucket_window=settings.bucket_window, num_shards=ranks.size if ranks else 1,
                                shard=ranks.rank if ranks else 0)
        if batches.truncated_texts and log is not None:
            log('{}: {} of {} texts are longer than --max-seq-length {} pieces; their tail is cut off'
                .format(data.path, batches.truncated_texts, len(data), settings.max_seq_length))
        return batches

    def task(self, spec, labels, vocab, tokenizer, saved_info, ctx):
        return TokenTask(spec, labels, vocab, tokenizer, saved_info, ctx=ctx)


register_structure('tagged', TaggingPipeline())
