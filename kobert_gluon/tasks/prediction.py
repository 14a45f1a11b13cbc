"""What a prediction command hands a task structure, and what the structure hands back.

Each task structure's pipeline (:data:`kobert_gluon.tasks.finetuning.PIPELINES`) reads its own inputs and writes its
own output from a :class:`PredictRequest` (``predict_output(model, request) -> PredictOutput``): tables give TSV,
token classifiers JSON lines of entities, question answering one JSON object of answers. The command line only
fills the request and prints the result, so it never branches on a structure's name.
"""
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import List, Optional, Sequence

from ..core.errors import InputError
from ..core.output_files import OutputKind
from ..core.text_files import decode_lines, read_lines
from .datasets import INPUT_FORMATS, TableSpec, prediction_input_format, read_prediction_rows

__all__ = ['PredictRequest', 'PredictOutput', 'request_lines', 'texts_to_predict', 'table_predictions',
           'OPTIONS_OF_STRUCTURES', 'PREDICTIONS']

# Request options only some structures read (``predict_options`` of a pipeline); the rest refuse them
OPTIONS_OF_STRUCTURES = ('max_rows', 'strip_particles', 'input_format')


@dataclass
class PredictRequest:
    """``texts``: given as arguments; ``input``: a file; neither: standard input, one example per line.
    ``table``: how a table structure reads ``input``; ``input_format`` (table structures): ``'table'``, ``'lines'``
    (one example per line, as on standard input) or None, decided by the file's first line
    (:func:`~.datasets.prediction_input_format`). ``max_rows`` and ``strip_particles``: question answering."""
    texts: Sequence[str] = ()
    input: Optional[str] = None
    encoding: str = 'utf-8'
    batch_size: int = 64
    table: Optional[TableSpec] = None
    skip_bad_rows: bool = False
    max_rows: Optional[int] = None
    strip_particles: Optional[str] = None
    input_format: Optional[str] = None


@dataclass
class PredictOutput:
    """The text to write (stdout or ``--output``) and notes for stderr (inputs left empty, texts cut short)."""
    text: str
    notes: List[str] = field(default_factory=list)


def request_lines(request: PredictRequest, what: str = 'texts'):
    """``(lines, where)``: the request's texts, its input file's lines, or standard input's (decoded strictly in the
    request's encoding); ``where`` names one line in notes (``'argument'``, ``'line'``, ``'stdin line'``)."""
    if request.input and request.texts:
        raise InputError('give texts either as arguments or with --input, not both')
    if request.input:
        lines, where = list(read_lines(request.input, request.encoding, 'input file')), 'line'
    elif request.texts:
        lines, where = list(request.texts), 'argument'
    elif hasattr(sys.stdin, 'buffer'):  # bytes: decoded here, strictly, in the request's encoding
        lines, where = list(decode_lines(sys.stdin.buffer, 'stdin', request.encoding)), 'stdin line'
    else:  # a text stream (stdin replaced from Python): already decoded
        lines, where = [line.rstrip('\r\n') for line in sys.stdin], 'stdin line'
    if not lines:
        raise InputError('no {} (give them as arguments, with --input, or on stdin)'.format(what))
    return [line.rstrip('\r') for line in lines], where


def one_line(text: str) -> str:
    return text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ')


def _split_input(number, line, width):
    parts = tuple(part.strip() for part in line.split('\t')) if width == 2 else (line.strip(),)
    if not any(parts):
        return None  # a blank input: it keeps its row, with an empty label
    if len(parts) != width:
        raise InputError('input {}: a sentence-pair model needs TEXT_A<tab>TEXT_B, got {} field(s)'
                         .format(number, len(parts)))
    if not all(parts):
        return None
    return parts


def texts_to_predict(request: PredictRequest, pair: bool, model_table: TableSpec):
    """One entry per input, in order: the text(s), or None for an input with nothing to predict; notes
    ``(input number or line, why)`` for those; and remarks (how a file was read, when that was decided here).
    ``--input`` is a table read with ``request.table`` (default: ``model_table``, the model's own columns, without
    its label), or one example per line as standard input is (``request.input_format``; not given, the file's
    first line decides)."""
    remarks = []
    if request.input and not request.texts:
        table = request.table or replace(model_table, label_column=None)
        input_format = request.input_format
        if input_format is None:
            input_format, remark = prediction_input_format(request.input, table, request.encoding)
            remarks += [remark] if remark else []
        elif input_format not in INPUT_FORMATS:
            raise InputError('input_format must be one of {}, got {!r}'.format(', '.join(INPUT_FORMATS),
                                                                               input_format))
        if input_format == 'table':
            rows = read_prediction_rows(request.input, table, skip_bad_rows=request.skip_bad_rows,
                                        encoding=request.encoding)
            return rows.texts, [('line {}'.format(line), why) for line, why in rows.notes], remarks
    lines, where = request_lines(request, 'texts to predict')
    width = 2 if pair else 1
    texts = [_split_input(number, line, width) for number, line in enumerate(lines, 1)]
    notes = [('{} {}'.format(where, number), 'blank') for number, text in enumerate(texts, 1) if text is None]
    return texts, notes, remarks


def table_predictions(model, request: PredictRequest) -> PredictOutput:
    """What a model of a table structure predicts as TSV: the text(s), then the model's columns (``label``,
    ``p_<label>``...; ``score``; ``labels`` of a multi-label model), one row per input in order; an input with
    nothing to predict keeps its row with empty cells (and a note). ``model``: a ``FineTunedModel``."""
    texts, notes, said = texts_to_predict(request, model.pair, model.spec.table)
    present = [sample for sample in texts if sample is not None]
    predictions = iter(model.predict(present, batch_size=request.batch_size) if present else [])
    header = (['text'] if not model.pair else ['text_a', 'text_b']) + model.output_columns()
    rows = []
    for sample in texts:
        if sample is None:  # an input with nothing to predict keeps its place: same row count, same order
            rows.append([''] * len(header))
            continue
        rows.append([one_line(t) for t in sample] + model.output_cells(next(predictions)))
    if notes:
        shown = ', '.join('{} ({})'.format(where, why) for where, why in notes[:5])
        said.append('{} of {} inputs had nothing to predict and got an empty label: {}{}'.format(
            len(notes), len(texts), shown, ', ...' if len(notes) > 5 else ''))
    return PredictOutput('\n'.join('\t'.join(row) for row in [header] + rows) + '\n', said)


# ----- recognising a predictions file (what ``predict --output --overwrite`` may replace) ------------------------
def _is_predictions_table(text: str) -> bool:
    """The TSV of a table structure: a header ``text`` (or ``text_a text_b``), then ``score``, or ``label`` and one
    ``p_<label>`` column per label."""
    header = text.split('\n', 1)[0].rstrip('\r').split('\t')
    inputs = 2 if header[:2] == ['text_a', 'text_b'] else 1 if header[:1] == ['text'] else 0
    outputs = header[inputs:]
    return inputs > 0 and (outputs == ['score'] or (
        len(outputs) >= 2 and outputs[0] == 'label' and all(c.startswith('p_') for c in outputs[1:])))


def _is_entity_lines(text: str) -> bool:
    """The JSON lines of a token classifier: every line ``{"text": ..., "entities": [...]}``."""
    lines = text.splitlines()
    try:
        rows = [json.loads(line) for line in lines]
    except ValueError:
        return False
    return bool(rows) and all(isinstance(row, dict) and set(row) == {'text', 'entities'}
                              and isinstance(row['entities'], list) for row in rows)


def _is_answers(text: str) -> bool:
    """The one JSON object of question answering: ``{question id: answer text}``."""
    try:
        answers = json.loads(text)
    except ValueError:
        return False
    return isinstance(answers, dict) and all(isinstance(a, str) for a in answers.values())


def _is_predictions_file(path: Path) -> bool:
    try:
        text = Path(path).read_bytes().decode('utf-8')
    except (OSError, UnicodeDecodeError):
        return False
    return _is_predictions_table(text) or _is_entity_lines(text) or _is_answers(text)


# What ``predict --output`` writes, in any of the structures' shapes: ``--overwrite`` replaces only such a file.
PREDICTIONS = OutputKind('a predictions file', _is_predictions_file)
