"""What a prediction command hands a task structure, and what the structure hands back.

Each task structure's pipeline (:data:`kobert_gluon.tasks.finetuning.PIPELINES`) reads its own inputs and writes its
own output from a :class:`PredictRequest` (``predict_output(model, request) -> PredictOutput``): tables give TSV,
token classifiers JSON lines of entities, question answering one JSON object of answers. The command line only
fills the request and prints the result, so it never branches on a structure's name.
"""
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from ..core.errors import InputError
from ..core.output_files import OutputKind
from ..core.text_files import decode_lines, read_lines
from .datasets import TableSpec

__all__ = ['PredictRequest', 'PredictOutput', 'request_lines', 'OPTIONS_OF_STRUCTURES', 'PREDICTIONS']

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
