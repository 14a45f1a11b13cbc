"""``finetune``, ``evaluate`` and ``predict``: fine-tuning on TSV/CSV files and using the result."""
import json
import sys
from pathlib import Path

from . import UsageError
from ..core import progress
from ..core.text_files import DEFAULT_ENCODING
from .run_options import (add_model_shape_args, add_progress_arg, add_run_folder_args, add_runtime_args,
                          add_settings_options, add_training_args, load_predictor_from_args, options_named,
                          settings_document, stderr_notes)
from . import parser_data
from ..tasks.file_formats import DATA_FORMATS, INPUT_FORMATS, TAGGED_FORMATS
from ..tasks.settings import FinetuneSettings
from ..training.settings import TrainingConfig


def _column(value):
    """Columns are header names, or 0-based indices when given as digits."""
    return int(value) if value.isdigit() else value


def _delimiter(value):
    """A tab typed in a shell usually arrives as the two characters backslash and t."""
    return {'\\t': '\t', 'tab': '\t', 'comma': ','}.get(value, value)


def _add_table_args(parser, what, with_encoding=True):
    group = parser.add_argument_group('reading {} (override the task\'s format, or describe a file without '
                                      '--task)'.format(what))
    group.add_argument('--text-column', action='append', type=_column, metavar='COL',
                       help='text column by header name or 0-based index; twice for sentence pairs')
    group.add_argument('--label-column', type=_column, metavar='COL', help='label column (name or index)')
    group.add_argument('--no-header', dest='header', action='store_false', default=None,
                       help='the file has no header line (then columns are indices)')
    group.add_argument('--delimiter', type=_delimiter,
                       help="field separator: one character, or tab (also '\\t') or comma (default: tab)")
    group.add_argument('--quoting', choices=('csv', 'none'),
                       help="'csv': fields may be \"quoted\" with \"\" escapes (default); 'none': quotes are text")
    if with_encoding:  # (finetune declares it with its settings)
        group.add_argument('--encoding', help='text encoding of the file(s) (default utf-8, byte-order mark '
                                              'accepted), e.g. cp949; a byte that does not decode is an error')


def _add_data_error_args(parser):
    parser.add_argument('--skip-bad-rows', action='store_true', default=None,
                        help='skip malformed rows (and report how many) instead of stopping at the first')


def _add_model_use_args(parser, what):
    """What evaluate and predict share: the batch size, the runtime and device, progress, and how ``what`` (the
    file they read) is read."""
    parser.add_argument('--batch-size', type=int, default=64)
    add_runtime_args(parser)
    add_progress_arg(parser)
    _add_data_error_args(parser)
    _add_table_args(parser, what)


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'finetune': 'fine-tune a classifier or regressor on TSV/CSV data',
    'evaluate': 'metrics of a fine-tuned model on a labeled file',
    'predict': 'labels and probabilities (or scores) for texts; entities; answers',
    'score-qa': 'KorQuAD 1.0 official exact match and F1 of answers to a SQuAD-format file',
}


def register(subparsers):
    finetune = subparsers.add_parser(
        'finetune', help=COMMANDS['finetune'],
        description='Fine-tune a sentence (pair) classifier or regressor, a token classifier (named entities) or '
                    'an extractive question answerer. Ready-made tasks: nsmc, hate_speech, question_pair, korsts, '
                    'kornli, kornli_xnli, paws_x, klue_ner, korquad; or describe your file with '
                    '--text-column/--label-column (tables), '
                    'or --kind token_classification|extractive_qa with --data-format.')
    data = finetune.add_argument_group('task and data')
    data.add_argument('--task', help='ready-made task name')
    data.add_argument('--kind', choices=parser_data.TASK_KINDS,
                      help='for a file without --task (default {})'.format(parser_data.TASK_KINDS[0]))
    data.add_argument('--labels', help='comma-separated label values in class order (default: sorted labels of '
                                       'the training file)')
    data.add_argument('--metric', choices=parser_data.METRICS,
                      help='dev metric that picks the best epoch (default: the kind\'s first: {})'.format(
                          ', '.join('{} for {}'.format(m[0], k) for k, m in parser_data.TASK_METRICS.items())))
    data.add_argument('--data-format', choices=DATA_FORMATS,
                      help='for --kind token_classification: klue (a character and its BIO tag per line), conll '
                           '(token<TAB>TAG per line) or naver (index<TAB>word<TAB>TYPE_B|TYPE_I|-, Naver NER); '
                           'extractive_qa reads squad (SQuAD/KorQuAD JSON)')
    data.add_argument('--data-dir', help='folder of the public datasets (e.g. ../shared/data): the task\'s '
                                         'standard train/dev files are used when --train/--dev are not given')
    groups = {'task and data': data, 'model': finetune.add_argument_group('model')}
    # the rest is FinetuneSettings' and TrainingConfig's own declarations: name, type, default, help
    paths = add_settings_options(finetune, FinetuneSettings, group='task and data', groups=groups)
    paths.update(add_model_shape_args(groups['model']))
    paths.update(add_training_args(finetune, None, groups))
    _add_table_args(finetune, 'the data', with_encoding=False)
    add_run_folder_args(finetune)
    finetune.set_defaults(func=run_finetune, setting_paths=paths)

    evaluate = subparsers.add_parser('evaluate', help=COMMANDS['evaluate'])
    evaluate.add_argument('--model', required=True, help='fine-tuned model folder, or a run folder')
    evaluate.add_argument('--data', required=True, help='labeled TSV/CSV file')
    evaluate.add_argument('--task', help='read the file as this ready-made task does (default: as in training)')
    evaluate.add_argument('--data-format', choices=TAGGED_FORMATS,
                          help='a token classifier: the tagged-text format of --data (default: as in training)')
    evaluate.add_argument('--max-rows', type=int, help='read only the first N examples')
    evaluate.add_argument('--json', action='store_true', help='print the metrics as JSON')
    _add_model_use_args(evaluate, '--data')
    evaluate.set_defaults(func=run_evaluate)

    predict = subparsers.add_parser(
        'predict', help=COMMANDS['predict'],
        description='Texts come from the arguments, from --input or from stdin (one example per line; a pair as '
                    'TEXT_A<tab>TEXT_B). --input is a TSV/CSV read with the model\'s text columns (or --text-column) '
                    'when its first line is a header naming them, or a plain text file read like stdin, one example '
                    'per line, when its first line has no delimiter (--input-format says which). Writes TSV: the '
                    'text(s), then label and p_<label> per class, or score for regression, one row per input line '
                    '(a blank line keeps its row, with empty cells).')
    predict.add_argument('--model', required=True, help='fine-tuned model folder, or a run folder')
    predict.add_argument('text', nargs='*', help='texts to classify (for a pair model: TEXT_A<tab>TEXT_B)')
    predict.add_argument('--input', help='file to read the texts from: a TSV/CSV, or a text file with one text per '
                                         'line (a token classifier: such a text file; question answering: a '
                                         'SQuAD-format JSON file)')
    predict.add_argument('--input-format', choices=INPUT_FORMATS,
                         help='how a classifier or regressor reads --input: table (a header naming the text columns, '
                              'or --no-header with --text-column indices) or lines (every line one text, as on '
                              'stdin). Default: table when the first line names the model\'s text column(s) or a '
                              'table option is given, lines when it has no delimiter (a note says so), an error '
                              'otherwise')
    predict.add_argument('--output', help='write the TSV here instead of stdout (a token classifier writes JSON '
                                          'lines, question answering one JSON object {question id: answer})')
    predict.add_argument('--overwrite', action='store_true',
                         help='replace --output if it exists (only a predictions file kobert-gluon wrote)')
    predict.add_argument('--max-rows', type=int, metavar='N', help='question answering: the first N questions only')
    predict.add_argument('--strip-particles', nargs='?', const='auto', choices=('auto', 'mecab', 'suffix'),
                         help='question answering: remove the Korean particles (조사) glued to the end of an answer, '
                              'found by Mecab (the [mecab] extra; auto: when installed) or by a suffix list')
    _add_model_use_args(predict, '--input')
    predict.set_defaults(func=run_predict)

    score = subparsers.add_parser(
        'score-qa', help=COMMANDS['score-qa'],
        description='Prints {"exact_match": ..., "f1": ...} (percent, KorQuAD 1.0\'s official definitions: '
                    'character-level F1) as one JSON line. Questions without a prediction score 0 (counted on stderr).')
    score.add_argument('data', help='SQuAD-format JSON file with the gold answers (FILE#test: that hash part)')
    score.add_argument('predictions', help='JSON file {question id: answer text}')
    score.set_defaults(func=run_score_qa)


# ----- finetune ----------------------------------------------------------------------------------------------
def _table_overrides(args):
    changes = {}
    if args.text_column:
        changes['text_columns'] = tuple(args.text_column)
    for name in ('label_column', 'header', 'delimiter', 'quoting'):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return changes


def _task_from_args(args):
    """The TaskSpec the options describe, or None when they say nothing about the task (resume)."""
    from ..tasks.datasets import TableSpec, TaskSpec, get_task
    from ..tasks.finetuning import PIPELINES
    from ..tasks.kinds import get_task_kind, task_kinds
    table_changes = _table_overrides(args)
    spec = get_task(args.task) if args.task else None
    kind = get_task_kind(args.kind or (spec.kind if spec else task_kinds()[0]))
    pipeline = PIPELINES.get(kind.structure)
    changes = {k: getattr(args, k) for k in ('kind', 'metric') if getattr(args, k) is not None}
    if (spec is not None and spec.table is None) or (args.kind is not None and not pipeline.reads_tables):
        if table_changes:
            raise UsageError('--text-column, --label-column, --no-header, --delimiter and --quoting describe tables; '
                             'a {} task reads its own format (--data-format)'.format(kind.name))
        if args.labels is not None:  # it would be ignored
            raise UsageError('--labels lists the classes of a table; a {} task takes its labels from its training '
                             'file (--min-label-count decides which are too rare)'.format(kind.name))
        if args.data_format is not None:
            changes['data_format'] = args.data_format
        if spec is not None:
            return spec.replace(**changes) if changes else spec
        return TaskSpec(name='custom', kind=kind.name, metric=changes.get('metric', kind.default_metric),
                        table=None, data_format=changes.get('data_format', pipeline.data_formats[0]))
    if args.data_format is not None:
        raise UsageError('--data-format is for --kind token_classification or extractive_qa (tables are described '
                         'with --text-column/--label-column)')
    if args.labels is not None:
        labels = tuple(label.strip() for label in args.labels.split(',') if label.strip())
        changes.update(labels=labels, label_names=None)
    if spec is not None:
        if table_changes:
            changes['table'] = TableSpec(**{**spec.table.to_dict(), **table_changes})
        return spec.replace(**changes) if changes else spec
    if not table_changes and not changes:
        return None
    if 'text_columns' not in table_changes or 'label_column' not in table_changes:
        raise UsageError('without --task, name the data columns: --text-column COL (twice for pairs) and '
                         '--label-column COL')
    changes.update(kind=kind.name, metric=changes.get('metric', kind.default_metric))
    return TaskSpec(name='custom', table=TableSpec(**table_changes), **changes)


def _settings_from(args, document):
    """The run's settings: ``document`` (the options over the run's saved settings or a new run's defaults) with the
    task the options describe and, for a new run, its files."""
    task = _task_from_args(args)
    if task is not None:
        document['task'] = task.to_dict()
    if not args.resume:
        if task is None:
            raise UsageError('say what to learn: --task NAME, or --text-column/--label-column for your own file')
        if args.data_dir:
            for split in ('train', 'dev'):
                if split == 'dev' and args.dev_fraction is not None:
                    continue  # the share of --train asked for is the dev set, not the task's dev file
                if document.get(split) is None and split in task.files:
                    document[split] = str(Path(args.data_dir) / task.files[split])
        if document.get('train') is None:
            raise UsageError('--train is required (or --data-dir with a ready-made --task)')
    return FinetuneSettings.from_dict(document)


def run_finetune(args):
    from ..tasks.finetuning import finetune
    from ..training.distributed import from_environment
    ranks = from_environment()  # one process, unless horovodrun started this one
    with options_named(args.setting_paths):
        log = stderr_notes(args, ranks)
        document = settings_document(args, args.setting_paths, {'training': TrainingConfig().to_dict()})
        settings = _settings_from(args, document)
        result = finetune(settings, args.out, resume=args.resume, overwrite=args.overwrite, log=log, ranks=ranks,
                          device=args.device)
    if ranks.is_writer:
        print(result.summary('epoch'))
    return 0


# ----- evaluate / predict ------------------------------------------------------------------------------------
def _load(args):
    return load_predictor_from_args(args, table_overrides=_table_overrides(args),
                                    encoding=args.encoding or DEFAULT_ENCODING)


def _table_for(args, model, with_label):
    from ..tasks.datasets import TableSpec, get_task
    base = get_task(args.task).table if getattr(args, 'task', None) else model.spec.table
    values = {**base.to_dict(), **_table_overrides(args)}
    if not with_label:
        values['label_column'] = None
    return TableSpec(**values)


def _task_of(args):
    from ..tasks.datasets import get_task
    return get_task(args.task) if getattr(args, 'task', None) else None


def run_evaluate(args):
    model = _load(args)
    pipeline = model.pipeline
    table = None
    if pipeline.reads_tables:
        table = _table_for(args, model, with_label=True)
    elif _table_overrides(args):
        raise UsageError('a {} model reads its own format; the table options do not apply'.format(model.spec.kind))
    if args.data_format is not None and args.data_format not in pipeline.data_formats:
        raise UsageError('--data-format is for token classifiers; this is a {} model'.format(model.spec.kind))
    metrics = model.evaluate(args.data, table=table,
                             skip_bad_rows=bool(args.skip_bad_rows), max_rows=args.max_rows,
                             batch_size=args.batch_size, encoding=args.encoding or DEFAULT_ENCODING,
                             data_format=args.data_format, task=_task_of(args))
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=2))
        return 0
    for name, value in metrics.items():
        print('{}\t{}'.format(name, '{:.4f}'.format(value) if isinstance(value, float) else value))
    return 0


def run_predict(args):
    from ..core.output_files import check_output_file, write_output_text
    from ..tasks.prediction import OPTIONS_OF_STRUCTURES, PREDICTIONS, PredictRequest
    if args.output:  # refuse a bad --output before spending time on the model
        check_output_file(args.output, PREDICTIONS, args.overwrite, inputs=[args.input, args.model])
    if args.max_rows is not None and args.max_rows < 1:
        raise UsageError('--max-rows must be at least 1')
    if args.input_format is not None and not args.input:
        raise UsageError('--input-format says how to read --input; texts from arguments or stdin are one per line')
    model = _load(args)
    pipeline = model.pipeline
    unread = ['--' + name.replace('_', '-') for name in OPTIONS_OF_STRUCTURES
              if getattr(args, name) and name not in pipeline.predict_options]
    if unread:
        raise UsageError('{} {} not apply to a {} model'.format(' and '.join(unread), 'does' if len(unread) == 1
                                                                  else 'do', pipeline.label))
    table = _table_for(args, model, with_label=False) if pipeline.reads_tables else None
    if table is None and _table_overrides(args):
        raise UsageError('a {} model reads its own format; the table options do not apply'.format(pipeline.label))
    input_format = args.input_format
    if _table_overrides(args):
        if input_format == 'lines':
            raise UsageError('--text-column, --no-header, --delimiter and --quoting describe a table; --input-format '
                             'lines reads every line as one text')
        input_format = 'table'  # the options describe the file: it is read as they say, never guessed
    request = PredictRequest(
        texts=args.text, input=args.input, encoding=args.encoding or DEFAULT_ENCODING, batch_size=args.batch_size,
        table=table, skip_bad_rows=bool(args.skip_bad_rows), max_rows=args.max_rows,
        strip_particles=args.strip_particles, input_format=input_format)
    # a file or stdin can be long and gets progress; texts given as arguments are a handful, where it is noise
    enabled = args.progress is not False if not args.text else None if args.progress is not False else False
    with progress.shown('kobert-gluon predict', enabled=enabled):
        output = pipeline.predict_output(model, request)
    for note in output.notes:
        stderr_notes(args)('kobert-gluon predict: ' + note)
    if args.output:
        write_output_text(args.output, output.text, PREDICTIONS, args.overwrite, inputs=[args.input, args.model])
    else:
        sys.stdout.write(output.text)
    return 0


def run_score_qa(args):
    from ..core.errors import InputError
    from ..tasks.extractive_qa import read_squad
    from ..tasks.qa_scoring import score_predictions
    golds = read_squad(args.data, need_answers=True, purpose='to score a prediction against').golds
    try:
        with open(args.predictions, encoding='utf-8-sig') as stream:
            predictions = json.load(stream)
    except FileNotFoundError:
        raise InputError('predictions file {} does not exist'.format(args.predictions)) from None
    except ValueError as err:
        raise InputError('{} is not JSON: {}'.format(args.predictions, err)) from None
    if not isinstance(predictions, dict) or not all(isinstance(v, str) for v in predictions.values()):
        raise InputError('{} must be one JSON object {{question id: answer text}}'.format(args.predictions))
    scores = score_predictions(golds, predictions)
    if scores['unanswered']:
        stderr_notes(args)('kobert-gluon score-qa: {} of {} questions have no prediction and score 0'
                           .format(scores['unanswered'], scores['questions']))
    unknown = len(set(predictions) - set(golds))
    if unknown:
        stderr_notes(args)('kobert-gluon score-qa: {} predictions name questions not in {} (ignored)'
                           .format(unknown, args.data))
    print(json.dumps({'exact_match': scores['exact_match'], 'f1': scores['f1']}))
    return 0
