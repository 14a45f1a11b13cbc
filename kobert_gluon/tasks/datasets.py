"""Labeled text tables (TSV/CSV) and the ready-made Korean tasks, described as data.

A :class:`TableSpec` says how to read one file: which column(s) hold the text (one, or two for sentence
pairs), which holds the label, whether there is a header, the delimiter and how quotes are meant.
:func:`read_table` reads a file with GluonNLP's ``TSVDataset`` and checks every row; a malformed row raises
:class:`MalformedRowError` naming the file and line, or is skipped and counted with ``skip_bad_rows=True``.

A :class:`TaskSpec` adds what the task is (classification with a fixed label set, or regression with a
range), which metric picks the best checkpoint and where the files of the public dataset live. The ready-made
tasks in :data:`TASKS` are plain values, so a new task is a new entry, not a new code path.

Quoting differs between the public files (checked on the real data):

* NSMC, Korean hate speech and Question Pair were written by a CSV writer: a text containing ``"`` is wrapped
  in quotes with inner quotes doubled (``"가족끼리 ""사랑해요""라는말 하는거 어색해"``). They use
  ``quoting='csv'``.
* KorSTS and KorNLI contain literal quotes that are *not* CSV quoting (``"슈퍼맨" 셔츠를 입은 개는 ...``;
  a field may even start with an unmatched quote), so a CSV reader would garble or reject those rows. They use
  ``quoting='none'``: a tab always separates fields and quotes are text.
* NSMC has rows with an empty review (5 in train, 3 in test); the task skips them (``empty_text='skip'``)
  and reports the count, since an empty text carries no sentiment.
"""
import csv
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ..core.errors import InputError
from ..core.mxnet_stack import gluon, nlp
from .file_formats import INPUT_FORMATS
from .file_parts import part_paths
from .kinds import TaskKind, get_task_kind
from .labels import label_lines, sorted_labels
from ..core.text_files import DEFAULT_ENCODING, check_decodable, check_text_file, read_lines, reading_codec

__all__ = ['TableSpec', 'TaskSpec', 'TASKS', 'get_task', 'list_tasks', 'LabeledTable', 'MalformedRowError',
           'read_table', 'read_prediction_rows', 'PredictionRows', 'infer_labels', 'INPUT_FORMATS',
           'prediction_input_format']

Column = Union[str, int]
CLASSIFICATION = 'classification'
REGRESSION = 'regression'


class MalformedRowError(InputError):
    """A row that cannot be read as an example; ``path`` and ``line`` (1-based) say where it is."""

    def __init__(self, path, line: int, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__('{}, line {}: {} (pass --skip-bad-rows / skip_bad_rows=True to skip such rows)'
                         .format(path, line, reason))


@dataclass(frozen=True)
class TableSpec:
    """How to read examples from one delimited text file.

    ``text_columns``: one column (single sentences) or two (sentence pairs), by header name or 0-based index.
    ``label_column``: by name or index; ``None`` reads texts only (prediction input).
    ``quoting``: ``'csv'`` (a field may be wrapped in ``"..."`` with ``""`` for a quote) or ``'none'``
    (quotes are ordinary characters). ``empty_text``: ``'error'`` (a malformed row) or ``'skip'`` (dropped and
    counted).
    """
    text_columns: Tuple[Column, ...]
    label_column: Optional[Column] = None
    header: bool = True
    delimiter: str = '\t'
    quoting: str = 'csv'
    empty_text: str = 'error'

    def __post_init__(self):
        object.__setattr__(self, 'text_columns', tuple(self.text_columns))
        if len(self.text_columns) not in (1, 2):
            raise InputError('text_columns must name one column (single sentences) or two (sentence pairs), '
                             'got {}'.format(list(self.text_columns)))
        if self.quoting not in ('csv', 'none'):
            raise InputError("quoting must be 'csv' or 'none', got {!r}".format(self.quoting))
        if self.empty_text not in ('error', 'skip'):
            raise InputError("empty_text must be 'error' or 'skip', got {!r}".format(self.empty_text))
        if len(self.delimiter) != 1:
            raise InputError('delimiter must be one character, got {!r}'.format(self.delimiter))
        columns = list(self.text_columns) + ([self.label_column] if self.label_column is not None else [])
        if not self.header and any(isinstance(c, str) for c in columns):
            raise InputError('columns can be named only in a file with a header; use 0-based indices with '
                             'header=False (got {})'.format(columns))

    @property
    def pair(self) -> bool:
        return len(self.text_columns) == 2

    def to_dict(self):
        return {'text_columns': list(self.text_columns), 'label_column': self.label_column, 'header': self.header,
                'delimiter': self.delimiter, 'quoting': self.quoting, 'empty_text': self.empty_text}

    @classmethod
    def from_dict(cls, values):
        return cls(**values)


@dataclass(frozen=True)
class TaskSpec:
    """A fine-tuning task: how its files read, what is predicted and how success is measured.

    ``labels`` are the label values as written in the files, ``label_names`` optional display names saved
    with the model (``None`` = the values themselves). ``labels=None`` for classification means "the sorted
    set of labels found in the training file". ``metric`` picks the best epoch (higher is better).
    ``files`` maps split names to paths relative to a data root (``../shared/data``). A set without a dev split
    has ``dev_fraction``: that share of the training file is held out as dev (:meth:`LabeledTable.split_off`),
    so that model selection never looks at the test file, which is kept for the final figure.
    """
    name: str
    kind: str
    table: Optional[TableSpec]
    metric: str
    labels: Optional[Tuple[str, ...]] = None
    label_names: Optional[Tuple[str, ...]] = None
    label_range: Optional[Tuple[float, float]] = None
    files: Dict[str, str] = field(default_factory=dict)
    description: str = ''
    dev_fraction: Optional[float] = None
    data_format: Optional[str] = None

    def __post_init__(self):
        self.task_kind  # an unknown kind raises here, naming the known ones (its structure checks the table)
        if self.dev_fraction is not None and not 0.0 < self.dev_fraction < 1.0:
            raise InputError('dev_fraction must be between 0 and 1, got {!r}'.format(self.dev_fraction))
        valid_metrics = self.task_kind.metrics
        if self.metric not in valid_metrics:
            raise InputError('metric of a {} task must be one of {}, got {!r}'
                             .format(self.kind, ', '.join(valid_metrics), self.metric))
        if self.labels is not None:
            object.__setattr__(self, 'labels', tuple(str(label) for label in self.labels))
            if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
                raise InputError('labels must be at least two distinct values, got {}'.format(list(self.labels)))
        if self.label_names is not None:
            object.__setattr__(self, 'label_names', tuple(self.label_names))
            if self.labels is None or len(self.label_names) != len(self.labels):
                raise InputError('label_names needs labels of the same length')

    @property
    def task_kind(self) -> TaskKind:
        return get_task_kind(self.kind)

    @property
    def is_regression(self) -> bool:
        """Labels are real numbers, not classes (the 0.1 name; ``task_kind.has_classes`` says the same)."""
        return not self.task_kind.has_classes

    def display_labels(self, labels: Sequence[str]) -> List[str]:
        """The names saved with the model for the label values ``labels``."""
        if self.label_names is not None and tuple(labels) == self.labels:
            return list(self.label_names)
        return list(labels)

    def to_dict(self):
        return {'name': self.name, 'kind': self.kind, 'table': self.table.to_dict() if self.table else None,
                'metric': self.metric, 'data_format': self.data_format,
                'labels': list(self.labels) if self.labels else None,
                'label_names': list(self.label_names) if self.label_names else None,
                'label_range': list(self.label_range) if self.label_range else None,
                'files': dict(self.files), 'description': self.description, 'dev_fraction': self.dev_fraction}

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        if values.get('table') is not None:
            values['table'] = TableSpec.from_dict(values['table'])
        for key in ('labels', 'label_names', 'label_range'):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def replace(self, **changes) -> 'TaskSpec':
        return replace(self, **changes)


# KorNLI's files (XNLI part and training sets alike): sentence1, sentence2, gold_label
_KORNLI_TABLE = TableSpec(text_columns=('sentence1', 'sentence2'), label_column='gold_label', quoting='none')
_KORNLI_LABELS = ('entailment', 'neutral', 'contradiction')

TASKS: Dict[str, TaskSpec] = {spec.name: spec for spec in (
    TaskSpec(
        name='nsmc', kind=CLASSIFICATION, metric='accuracy',
        table=TableSpec(text_columns=('document',), label_column='label', empty_text='skip'),
        labels=('0', '1'), label_names=('negative', 'positive'),
        files={'train': 'nsmc/ratings_train.txt', 'test': 'nsmc/ratings_test.txt'}, dev_fraction=0.05,
        description='Naver movie review sentiment (150k/50k, CC0); published accuracy KoBERT 89.6-90.1'),
    TaskSpec(
        name='hate_speech', kind=CLASSIFICATION, metric='macro_f1',
        table=TableSpec(text_columns=('comments',), label_column='hate'),
        labels=('none', 'offensive', 'hate'),
        # The official dev set is the only labelled evaluation set (the published F1 is on it), so it plays the
        # test role; model selection uses a dev carved from train.
        files={'train': 'korean_hate_speech/train.tsv', 'test': 'korean_hate_speech/dev.tsv'}, dev_fraction=0.1,
        description='Korean hate speech, news comments (7,896/471, CC BY-SA 4.0); published dev F1 KoBERT 66.2'),
    TaskSpec(
        name='question_pair', kind=CLASSIFICATION, metric='accuracy',
        table=TableSpec(text_columns=('question1', 'question2'), label_column='is_duplicate'),
        labels=('0', '1'), label_names=('different', 'duplicate'),
        files={'train': 'question_pair/train.txt', 'dev': 'question_pair/validation.txt',
               'test': 'question_pair/test.txt'},
        description='Korean question pairs, same intent or not (6,136/682/758, MIT); published accuracy KoBERT 94.9'),
    TaskSpec(
        name='korsts', kind=REGRESSION, metric='spearman', label_range=(0.0, 5.0),
        table=TableSpec(text_columns=('sentence1', 'sentence2'), label_column='score', quoting='none'),
        files={'train': 'korsts/sts-train.tsv', 'dev': 'korsts/sts-dev.tsv', 'test': 'korsts/sts-test.tsv'},
        description='KorSTS sentence similarity 0-5 (5,749/1,500/1,379, CC BY-SA 4.0); published Spearman '
                    'KoBERT 81.6'),
    # KorNLI as its paper and KoBERT/KoELECTRA's tables train it: on its MultiNLI translation (--train
    # kornli/snli_1.0_train.ko.tsv for its SNLI one, the same columns), XNLI's dev and test splits for dev and test
    TaskSpec(
        name='kornli', kind=CLASSIFICATION, metric='accuracy',
        table=_KORNLI_TABLE, labels=_KORNLI_LABELS,
        files={'train': 'kornli/multinli.train.ko.tsv', 'dev': 'kornli/xnli.dev.ko.tsv',
               'test': 'kornli/xnli.test.ko.tsv'},
        description='KorNLI natural language inference: MultiNLI translated (392,702 pairs) to train, XNLI dev/test '
                    '(2,490/5,010), CC BY-SA 4.0, kakaobrain/KorNLUDatasets'),
    # Only KorNLI's XNLI part is in ../shared/data (its training sets are not): this one trains on the XNLI dev
    # split (holding a tenth of it out as dev) and reports on its test split.
    TaskSpec(
        name='kornli_xnli', kind=CLASSIFICATION, metric='accuracy',
        table=_KORNLI_TABLE, labels=_KORNLI_LABELS,
        files={'train': 'kornli/xnli.dev.ko.tsv', 'test': 'kornli/xnli.test.ko.tsv'}, dev_fraction=0.1,
        description='KorNLI natural language inference, XNLI part only (2,490/5,010, CC BY-SA 4.0)'),
    # PAWS-X's Korean part (google-research-datasets/paws, x-final/ko): paraphrase or not; some machine-translated
    # training pairs have an empty side, which is skipped and counted
    TaskSpec(
        name='paws_x', kind=CLASSIFICATION, metric='accuracy',
        table=TableSpec(text_columns=('sentence1', 'sentence2'), label_column='label', quoting='none',
                        empty_text='skip'),
        labels=('0', '1'), label_names=('different', 'paraphrase'),
        files={'train': 'paws_x/translated_train.tsv', 'dev': 'paws_x/dev_2k.tsv', 'test': 'paws_x/test_2k.tsv'},
        description='PAWS-X Korean paraphrase identification, id sentence1 sentence2 label (49,401/2,000/2,000)'),
    # Only KLUE-NER's dev set is here: its sentences are split by a hash into train / dev / test parts
    # (80/10/10, tasks.file_parts), written as FILE#part.
    TaskSpec(
        name='klue_ner', kind='token_classification', metric='entity_f1', table=None, data_format='klue',
        files=part_paths('klue_ner/klue-ner-v1.1_dev.tsv'),
        description='KLUE-NER named entities PS LC OG DT TI QT, its dev set split 80/10/10 by sentence '
                    '(5,000 sentences, CC BY-SA 4.0)'),
    # Only KorQuAD 1.0's dev set is here, and its licence (CC BY-ND) allows measuring, not shipping a model trained
    # on it: its articles are split by a hash into train / dev / test parts for local runs.
    TaskSpec(
        name='korquad', kind='extractive_qa', metric='f1', table=None, data_format='squad',
        files=part_paths('korquad_v1/KorQuAD_v1.0_dev.json'),
        description='KorQuAD 1.0 extractive QA, its dev set split 80/10/10 by article (5,774 questions, '
                    'CC BY-ND 2.0 KR: do not ship models trained on it); published KoBERT EM/F1 51.8/79.2'),
)}
"""Every ready-made task by name: its kind, metric, files under a data folder (``--data-dir``), columns, labels and
quoting, so that ``finetune --task NAME --data-dir DIR`` needs nothing else."""


def list_tasks() -> List[str]:
    """The names of the ready-made tasks (``finetune --task NAME``), in the order of :data:`TASKS`."""
    return list(TASKS)


def get_task(name: str) -> TaskSpec:
    """The ready-made task called ``name``; an unknown name is an ``InputError`` listing the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise InputError('unknown task {!r}; ready-made tasks are {} (or describe your own columns)'
                         .format(name, ', '.join(TASKS))) from None


class LabeledTable(gluon.data.SimpleDataset):
    """Examples read from one file: each is ``(text,)`` or ``(text_a, text_b)`` plus the label, if any.

    The label is the stripped string for classification and a float for regression. ``line_numbers[i]`` is
    the file line of example ``i``; ``skipped`` lists ``(line, reason)`` of rows left out (malformed rows with
    ``skip_bad_rows=True``), ``empty_dropped`` counts rows dropped for an empty text (``empty_text='skip'``),
    ``blank_lines`` the blank lines passed over.
    """

    def __init__(self, examples, path, spec: TableSpec, line_numbers, skipped, empty_dropped, blank_lines=0):
        super().__init__(examples)
        self.path = str(path)
        self.spec = spec
        self.line_numbers = line_numbers
        self.skipped = skipped
        self.empty_dropped = empty_dropped
        self.blank_lines = blank_lines

    @property
    def texts(self) -> List[Tuple[str, ...]]:
        width = len(self.spec.text_columns)
        return [example[:width] for example in self._data]

    @property
    def labels(self) -> list:
        if self.spec.label_column is None:
            raise InputError('{} was read without a label column'.format(self.path))
        return [example[-1] for example in self._data]

    def label_counts(self) -> Optional[Dict[str, int]]:
        """``{class label: rows}`` in label order, or None for a table without classes (scores, no label column)."""
        if self.spec.label_column is None or any(not isinstance(label, str) for label in self.labels):
            return None
        lines = label_lines((label, 0) for label in self.labels)
        return {label: len(lines[label]) for label in sorted_labels(lines)}

    def split_off(self, fraction: float) -> Tuple['LabeledTable', 'LabeledTable']:
        """``(rest, held_out)``: about ``fraction`` of the examples held out, chosen by a hash of their line.

        The choice depends only on the file line, so it is the same for every seed, for ``max_rows`` prefixes
        and across runs: an example is never in the training part of one run and the dev part of another.
        """
        if not 0.0 < fraction < 1.0:
            raise InputError('the dev fraction must be between 0 and 1, got {!r}'.format(fraction))
        threshold = int(fraction * 2 ** 32)
        held = [zlib.crc32(b'dev-split:%d' % line) < threshold for line in self.line_numbers]
        if all(held) or not any(held):
            raise InputError('{} has too few examples ({}) to hold out a dev fraction of {}'
                             .format(self.path, len(self), fraction))

        def subset(keep, suffix):
            indices = [i for i, h in enumerate(held) if h == keep]
            return self._subset(indices, self.path + suffix, report_dropped=not keep)
        return subset(False, ' (train part)'), subset(True, ' (dev part, {:.0%} held out)'.format(fraction))

    def head(self, n: int) -> 'LabeledTable':
        """The first ``n`` examples."""
        return self._subset(range(min(n, len(self))), self.path, report_dropped=True)

    def _subset(self, indices, path, report_dropped):
        indices = list(indices)
        return LabeledTable([self._data[i] for i in indices], path, self.spec, [self.line_numbers[i] for i in indices],
                            self.skipped if report_dropped else [], self.empty_dropped if report_dropped else 0,
                            self.blank_lines if report_dropped else 0)

    def summary(self) -> str:
        """One line for logs: how many examples were read and what was left out."""
        parts = ['{}: {} examples'.format(self.path, len(self))]
        if self.empty_dropped:
            parts.append('{} rows with empty text dropped'.format(self.empty_dropped))
        if self.skipped:
            line, reason = self.skipped[0]
            parts.append('{} malformed rows skipped (first: line {}: {})'.format(len(self.skipped), line, reason))
        if self.blank_lines:
            parts.append('{} blank line{} passed over'.format(self.blank_lines, 's' if self.blank_lines > 1 else ''))
        return ', '.join(parts)


def _split_lines(content: str) -> List[str]:
    """Split on ``\\n`` only, so sample ``i`` is line ``i + 1``.

    ``str.splitlines`` (GluonNLP's default) also splits on characters such as U+2028 and U+0085 that can occur
    inside user-written text, which would cut a review in two and shift every later line number.
    """
    lines = content.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return [line[:-1] if line.endswith('\r') else line for line in lines]


def _csv_problem(line: str, err: csv.Error) -> str:
    """What a CSV reader's refusal of ``line`` means, in words: a line too long to be a row is not a quoting
    problem (and a line without quotes never is)."""
    if 'new-line character seen in unquoted field' in str(err):
        return ('a carriage return (\\r) inside the line: the file breaks its lines with a lone \\r (old Mac style); '
                'convert its line breaks to \\n')
    if 'field larger than field limit' in str(err):
        size = '{:.1f} MB'.format(len(line.encode('utf-8')) / 1e6)
        if '\r' in line:
            return ('this line is {} long and holds carriage returns (\\r): the file breaks its lines with a lone \\r; '
                    'convert its line breaks to \\n'.format(size))
        return ('this line is {} long, longer than any text row (the limit is {} KB a field): is the file a '
                'table with one example a line?'.format(size, csv.field_size_limit() // 1024))
    if '"' not in line:
        return 'unreadable as a CSV row ({})'.format(err)
    return ('bad quoting ({}); if quotes in this file are ordinary text, read it with quoting=\'none\' '
            '(--quoting none)'.format(err))


def _field_splitter(spec: TableSpec):
    if spec.quoting == 'none':
        return lambda line: line.split(spec.delimiter)

    def split_csv(line):
        # strict: a quote that opens a field but is not closed properly is an error, not silently merged text
        return next(csv.reader([line], delimiter=spec.delimiter, quotechar='"', strict=True))
    return split_csv


def _resolve_columns(spec: TableSpec, header: Optional[List[str]], path) -> Tuple[List[int], Optional[int]]:
    def index_of(column):
        if isinstance(column, int):
            if column < 0:
                raise InputError('column indices are 0-based and non-negative, got {}'.format(column))
            if header is not None and column >= len(header):
                raise InputError('{}: column {} does not exist; the header has {} columns: {}'
                                 .format(path, column, len(header), ', '.join(header)))
            return column
        if column not in header:
            raise InputError('{}: no column named {!r}; the header has: {}'.format(path, column, ', '.join(header)))
        return header.index(column)
    text_indices = [index_of(c) for c in spec.text_columns]
    label_index = index_of(spec.label_column) if spec.label_column is not None else None
    return text_indices, label_index


def _parse_label(raw: str, kind: str, labels, label_range):
    parse = get_task_kind(kind).parse_label
    if parse is None:
        raise InputError('a {} task does not read its labels from a table'.format(kind))
    return parse(raw, labels, label_range)


def _read_header(path: Path, spec: TableSpec, encoding: str, split_fields) -> Optional[List[str]]:
    if not spec.header:
        return None
    first_line = next(read_lines(path, encoding))
    if not first_line.strip():
        raise MalformedRowError(path, 1, 'the first line should be the header (column names) but it is blank; '
                                         'remove it, or read the file with --no-header')
    try:
        return [name.strip() for name in split_fields(first_line)]
    except csv.Error as err:
        raise MalformedRowError(path, 1, 'the header cannot be parsed: {}'.format(_csv_problem(first_line, err))) \
            from None


def read_table(path, spec: TableSpec, kind: str = CLASSIFICATION, labels: Optional[Sequence[str]] = None,
               label_range=None, skip_bad_rows=False, max_rows: Optional[int] = None,
               encoding: str = DEFAULT_ENCODING) -> LabeledTable:
    """Read and check every row of ``path``; returns a :class:`LabeledTable`.

    ``labels`` (classification) restricts the allowed label values; ``label_range`` (regression) the allowed
    scores. ``max_rows`` stops after that many good examples (a quick subset of a large file). ``encoding``
    is the file's text encoding (UTF-8 by default, with or without a byte-order mark); a byte that does not
    decode stops with the line and byte offset, never a silent replacement.
    """
    path = check_text_file(path, 'data file')
    get_task_kind(kind)  # an unknown kind raises, naming the known ones
    codec = reading_codec(encoding)
    if check_decodable(path, encoding, 'data file') == 0:
        raise InputError('data file {} is empty'.format(path))
    split_fields = _field_splitter(spec)
    header = _read_header(path, spec, encoding, split_fields)
    text_indices, label_index = _resolve_columns(spec, header, path)
    label_set = tuple(labels) if labels is not None else None  # in the listed order, for messages
    examples, line_numbers, skipped, empty_dropped, blank_lines = [], [], [], 0, 0
    for line_number, example, problem in _rows(path, codec, spec, split_fields, header, text_indices, label_index,
                                               kind, label_set, label_range):
        if max_rows is not None and len(examples) >= max_rows:
            break
        if problem is _BLANK:
            blank_lines += 1  # a stray blank line (common at the end) is not a row
            continue
        if problem is _EMPTY_TEXT:
            if spec.empty_text == 'skip':
                empty_dropped += 1
                continue
            problem = 'empty text'
        if problem is not None:
            if not skip_bad_rows:
                raise MalformedRowError(path, line_number, problem)
            skipped.append((line_number, problem))
            continue
        examples.append(example)
        line_numbers.append(line_number)
    return LabeledTable(examples, path, spec, line_numbers, skipped, empty_dropped, blank_lines)


_BLANK = 'blank line'
_EMPTY_TEXT = 'empty text'


def _rows(path, codec, spec: TableSpec, split_fields, header, text_indices, label_index, kind, label_set,
          label_range) -> Iterator[Tuple[int, Optional[tuple], Optional[str]]]:
    """``(line number, example, None)`` or ``(line number, None, what is wrong)`` for every line after the
    header, in file order; a blank line gives ``_BLANK``, a row with an empty text ``_EMPTY_TEXT``."""
    needed = max(text_indices + ([label_index] if label_index is not None else [])) + 1
    # TSVDataset reads the file and drops the header; fields are split here so errors can name the line.
    lines = nlp.data.TSVDataset(str(path), encoding=codec, sample_splitter=_split_lines, field_separator=None,
                                num_discard_samples=1 if spec.header else 0)
    first_line_number = 2 if spec.header else 1
    for offset, line in enumerate(lines):
        line_number = first_line_number + offset
        if not line.strip():
            yield line_number, None, _BLANK
            continue
        try:
            try:
                fields = split_fields(line)
            except csv.Error as err:
                raise InputError(_csv_problem(line, err)) from None
            if header is not None and len(fields) != len(header):
                raise InputError('{} fields where the header has {}'.format(len(fields), len(header)))
            if len(fields) < needed:
                raise InputError('{} fields, but column {} is needed'.format(len(fields), needed - 1))
            texts = tuple(fields[i].strip() for i in text_indices)
            if any(not text for text in texts):
                yield line_number, None, _EMPTY_TEXT
                continue
            label = ()
            if label_index is not None:
                label = (_parse_label(fields[label_index], kind, label_set, label_range),)
        except ValueError as err:
            yield line_number, None, str(err)
            continue
        yield line_number, texts + label, None


@dataclass
class PredictionRows:
    """Prediction input read from a file: ``texts[i]`` is the text(s) of data line ``line_numbers[i]``, or None
    where that line gives nothing to predict (blank, empty text, malformed with ``skip_bad_rows``); ``notes``
    says which lines those were and why."""
    texts: List[Optional[Tuple[str, ...]]]
    line_numbers: List[int]
    notes: List[Tuple[int, str]]


def read_prediction_rows(path, spec: TableSpec, skip_bad_rows=False,
                         encoding: str = DEFAULT_ENCODING) -> PredictionRows:
    """Every data line of ``path`` in order, one entry per line, so predictions join back to their input."""
    path = check_text_file(path, 'input file')
    codec = reading_codec(encoding)
    if check_decodable(path, encoding, 'input file') == 0:
        raise InputError('input file {} is empty'.format(path))
    spec = replace(spec, label_column=None)
    split_fields = _field_splitter(spec)
    header = _read_header(path, spec, encoding, split_fields)
    text_indices, _ = _resolve_columns(spec, header, path)
    texts, line_numbers, notes = [], [], []
    for line_number, example, problem in _rows(path, codec, spec, split_fields, header, text_indices, None,
                                               CLASSIFICATION, None, None):
        if problem is not None and problem not in (_BLANK, _EMPTY_TEXT) and not skip_bad_rows:
            raise MalformedRowError(path, line_number, problem)
        texts.append(example)
        line_numbers.append(line_number)
        if problem is not None:
            notes.append((line_number, problem))
    return PredictionRows(texts, line_numbers, notes)


_DELIMITER_NAMES = {'\t': 'tab', ',': 'comma'}


def prediction_input_format(path, spec: TableSpec, encoding: str = DEFAULT_ENCODING) -> Tuple[str, Optional[str]]:
    """``(format, note)`` for a prediction input file whose format was not given, decided by its first line:

    * a header that names every text column ``spec`` reads by name (or, for columns given by index, a line of
      several fields): ``'table'``;
    * a line of one field (no delimiter): ``'lines'``, every line one text as on standard input, with a note saying
      so (a one-column table whose header is not the model's column reads the same, so the choice is shown);
    * a line of several fields that names none of those columns: an :class:`InputError`, since it is either a table
      with another header or pairs of texts, and guessing would predict on a header as if it were a review.
    """
    path = check_text_file(path, 'input file')
    first = next(read_lines(path, encoding, 'input file'), None)
    if first is None:
        raise InputError('input file {} is empty'.format(path))
    try:
        fields = [field.strip() for field in _field_splitter(spec)(first)]
    except csv.Error:  # a quote the table reader would refuse: count the fields plainly to decide
        fields = [field.strip() for field in first.split(spec.delimiter)]
    named = [c for c in spec.text_columns if isinstance(c, str)]
    if spec.header and named and all(c in fields for c in named):
        return 'table', None
    if len(fields) == 1:
        wanted = ' and '.join(repr(c) for c in named) or 'text column'
        return 'lines', ('{}: its first line is not a header naming the column {} this model reads, so every line is '
                         'read as one text (--input-format lines; --input-format table reads it as a table)'
                         .format(path, wanted))
    if not named:
        return 'table', None  # columns by index, several fields: a table as the model was trained on
    shown = ', '.join(repr(f if len(f) <= 20 else f[:20] + '...') for f in fields[:4]) + (
        ', ...' if len(fields) > 4 else '')
    raise InputError('{}: the first line has {} {}-separated fields ({}) but not the column{} {} this model reads: if '
                     'it is a header, name the text column{} with --text-column{}; to read every line as {}, pass '
                     '--input-format lines'.format(
                         path, len(fields), _DELIMITER_NAMES.get(spec.delimiter, repr(spec.delimiter)), shown,
                         's' if spec.pair else '', ' and '.join(repr(c) for c in named), 's' if spec.pair else '',
                         ' COL twice' if spec.pair else ' COL', 'TEXT_A<tab>TEXT_B' if spec.pair else 'one text'))


def infer_labels(table: LabeledTable) -> List[str]:
    """The sorted distinct labels of a classification table (numerically when all are integers)."""
    values = set(table.labels)
    if len(values) < 2:
        raise InputError('{} has {} distinct label(s) ({}); a classifier needs at least two'
                         .format(table.path, len(values), ', '.join(sorted(values))))
    if all(v.lstrip('-').isdigit() for v in values):
        return sorted(values, key=int)
    return sorted(values)
