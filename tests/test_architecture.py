"""The open design: registries (architectures, tokenizer kinds, heads, task kinds), folders written by 0.1,
the light import, logging instead of print, and CLI options that cannot drift from the settings they fill."""
import ast
import dataclasses
import json
import re
import shutil
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

import kobert_gluon
from kobert_gluon import FineTunedModel, get_model, load_model, save_model
from kobert_gluon.core.errors import InputError
from kobert_gluon.core.owned_folders import MARKER_FILE, record_checksums
from kobert_gluon.hub import catalogue
from kobert_gluon.models import architecture_registry, building
from kobert_gluon.models.bert import KOBERT_BASE_CONFIG, BertConfig, build_bert
from kobert_gluon.models.zoo import model_folder_of
from kobert_gluon.tasks.kinds import get_task_kind, task_kinds

from .conftest import REPO, run_cli, error_line, random_kobert

TINY = dict(num_layers=1, units=32, hidden_size=64, num_heads=2, max_length=32)
REVIEWS = ['이 영화 정말 재밌어요', '최악의 영화', '배우 연기가 좋았다']


def _batch():
    ids = mx.nd.array([[2, 4958, 6855, 2046, 3, 1], [2, 7088, 1050, 7843, 54, 3]])
    types = mx.nd.zeros((2, 6))
    return ids, types, mx.nd.array([5, 6])


def _write_as_0_1(folder):
    """Rewrite a model folder's config.json as kobert-gluon 0.1 wrote it (no architecture, no tokenizer kind,
    embed_dropout written but unused) and drop the marker (0.1 wrote none)."""
    config = json.loads((folder / 'config.json').read_text(encoding='utf-8'))
    del config['architecture'], config['tokenizer']
    config['bert']['embed_dropout'] = 0.3  # 0.1 ignored it: loading must not start using it
    (folder / 'config.json').write_text(json.dumps(config, indent=2), encoding='utf-8')
    (folder / MARKER_FILE).unlink()


def test_config_names_architecture_and_tokenizer_kind(tmp_path):
    model, vocab = random_kobert(use_decoder=False, use_classifier=False, **TINY)
    model(*_batch())  # deferred shapes
    folder = save_model(model, vocab, tmp_path / 'm', kobert_gluon.KoBERTTokenizer.from_pretrained('kobert-mini'))
    config = json.loads((folder / 'config.json').read_text(encoding='utf-8'))
    assert config['architecture'] == 'bert' and config['tokenizer'] == {'kind': 'sentencepiece'}
    assert config['bert']['num_layers'] == 1 and config['format_version'] == 1
    assert config['heads'] == {'use_pooler': True, 'use_decoder': False, 'use_classifier': False}


def test_shipped_folder_rewritten_as_0_1_loads_with_the_same_predictions(tmp_path):
    shipped = FineTunedModel.load('kobert-mini-nsmc')
    old = tmp_path / 'old'
    shutil.copytree(model_folder_of('kobert-mini-nsmc'), old)
    _write_as_0_1(old)
    loaded = FineTunedModel.load(old)
    np.testing.assert_array_equal(loaded.predict(REVIEWS), shipped.predict(REVIEWS))
    # 0.1 built the embedding dropout at the encoder's rate, whatever embed_dropout said
    bert, _ = load_model(old, use_pooler=True)
    assert bert.bert.kobert_config.embed_dropout == bert.bert.kobert_config.dropout == 0.1


def test_embed_dropout_is_the_embedding_dropout():
    ids, types, lengths = _batch()

    def two_training_passes(**rates):
        model = build_bert(KOBERT_BASE_CONFIG.replace(vocab_size=8002, **TINY, **rates), use_decoder=False,
                           use_classifier=False)
        building.initialize_random(model, seed=0)
        with mx.autograd.train_mode():
            return [model(ids, types, lengths)[0].asnumpy() for _ in range(2)]

    first, second = two_training_passes(dropout=0.0, embed_dropout=0.0)
    np.testing.assert_array_equal(first, second)  # no dropout anywhere: deterministic
    first, second = two_training_passes(dropout=0.0, embed_dropout=0.5)
    assert not np.allclose(first, second)  # only the embeddings drop out, and they do
    assert BertConfig(dropout=0.1).replace(dropout=0.3).embed_dropout == 0.3  # one dropout option moves both
    assert BertConfig(dropout=0.1, embed_dropout=0.0).replace(dropout=0.3).embed_dropout == 0.0


@dataclasses.dataclass(frozen=True)
class WideConfig(BertConfig):
    """A made-up family for the test: BERT's structure under its own architecture name."""


def test_a_new_architecture_is_a_registry_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(architecture_registry, '_ARCHITECTURES', architecture_registry._ARCHITECTURES.copy())
    building.register_architecture(building.Architecture(
        'wide', WideConfig, build_bert, building.get_architecture('bert').shape_fields,
        ('use_pooler', 'use_decoder', 'use_classifier'), outputs=building.get_architecture('bert').outputs))
    _, vocab = random_kobert(**TINY)
    model = build_bert(WideConfig(vocab_size=len(vocab), embed_size=TINY['units'], **TINY), use_decoder=False, use_classifier=False)
    building.initialize_random(model, seed=1)
    ids, types, lengths = _batch()
    expected = model(ids, types, lengths)[1].asnumpy()
    folder = save_model(model, vocab, tmp_path / 'wide', kobert_gluon.KoBERTTokenizer.from_pretrained('kobert-mini'))
    config = json.loads((folder / 'config.json').read_text(encoding='utf-8'))
    assert config['architecture'] == 'wide' and 'wide' in config and 'bert' not in config
    loaded, _ = get_model(str(folder))
    assert type(loaded.kobert_config) is WideConfig
    np.testing.assert_array_equal(loaded(ids, types, lengths)[1].asnumpy(), expected)

    architecture_registry._ARCHITECTURES.remove('wide')
    with pytest.raises(InputError, match="unknown architecture 'wide'; known: bert.*upgrade"):
        get_model(str(folder))


def test_unknown_tokenizer_kind_and_head_kind_say_what_is_known(tmp_path, capsys):
    folder = tmp_path / 'm'
    shutil.copytree(model_folder_of('kobert-mini-nsmc'), folder)
    config = json.loads((folder / 'config.json').read_text(encoding='utf-8'))
    config['tokenizer']['kind'] = 'bytepiece'
    (folder / 'config.json').write_text(json.dumps(config), encoding='utf-8')
    record_checksums(folder, 'model')
    code, _, err = run_cli(capsys, 'predict', '--model', str(folder), '좋아요')
    assert code == 2 and "unknown tokenizer kind 'bytepiece'" in error_line(err, 'predict')
    assert 'sentencepiece' in err
    config['tokenizer']['kind'] = 'sentencepiece'
    config['task']['kind'] = 'crf_tagger'
    (folder / 'config.json').write_text(json.dumps(config), encoding='utf-8')
    record_checksums(folder, 'model')
    code, _, err = run_cli(capsys, 'predict', '--model', str(folder), '좋아요')
    assert code == 2 and "unknown head kind 'crf_tagger'" in error_line(err, 'predict')
    assert 'classifier, regressor, token_classifier, span_extractor' in err  # registration order


def test_task_kinds_drive_the_cli_choices_and_task_checks(capsys):
    assert task_kinds() == ['classification', 'regression', 'token_classification', 'extractive_qa',
                            'multi_label_classification']
    assert get_task_kind('regression').default_metric == 'spearman'
    with pytest.raises(InputError, match="unknown task kind 'ranking'; known: classification, regression, "
                                         "token_classification, extractive_qa, multi_label_classification"):
        kobert_gluon.get_task('nsmc').replace(kind='ranking')
    with pytest.raises(InputError, match='metric of a regression task must be one of spearman, pearson'):
        kobert_gluon.get_task('nsmc').replace(kind='regression')
    with pytest.raises(SystemExit):
        run_cli(capsys, 'finetune', '--kind', 'ranking')
    err = capsys.readouterr().err
    assert "invalid choice: 'ranking' (choose from" in err and "'regression'" in err


def test_catalogue_entry_for_kobert_base_is_the_predefined_config():
    spec = catalogue.get_model_spec('kobert-base')
    assert building.get_architecture(spec.architecture).config_from(spec.config) == KOBERT_BASE_CONFIG
    assert spec.tokenizer_kind == 'sentencepiece'


def test_shipped_configs_hold_no_local_paths():
    for name in ('kobert-mini', 'kobert-mini-nsmc'):
        text = (model_folder_of(name) / 'config.json').read_text(encoding='utf-8')
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
        local = [s for s in strings if s.startswith(('/', '~', '..')) or re.match(r'^[A-Za-z]:\\', s)]
        assert not local, (name, local)


# ----- import weight and output discipline -------------------------------------------------------------------
def test_import_loads_no_onnx_onnxruntime_or_matplotlib_and_export_still_works(tmp_path):
    # a fresh interpreter: in this one, another test may have imported onnx before mxnet
    code = ('import sys, kobert_gluon\n'
            'heavy = [m for m in ("onnx", "onnxruntime", "matplotlib") if m in sys.modules]\n'
            'model, _ = kobert_gluon.get_model("kobert-mini-nsmc")\n'
            'kobert_gluon.export_onnx(model, sys.argv[1])\n'
            'print(heavy, "onnx" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'm.onnx')], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == '[] True'
    import onnxruntime
    session = onnxruntime.InferenceSession(str(tmp_path / 'm.onnx'), providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()][:2] == ['input_ids', 'token_type_ids']


def test_import_and_top_level_help_load_no_mxnet():
    code = ('import sys, kobert_gluon\n'
            'after_import = "mxnet" in sys.modules\n'
            'from kobert_gluon.cli import main\n'
            'try:\n'
            '    main(["--help"])\n'
            'except SystemExit:\n'
            '    pass\n'
            'web = [m for m in ("fastapi", "uvicorn", "starlette", "prometheus_client") if m in sys.modules]\n'
            'print(after_import, "mxnet" in sys.modules, "gluonnlp" in sys.modules, web)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert 'finetune' in out and 'create-pretraining-data' in out and 'serve' in out  # every command is listed
    assert out.strip().splitlines()[-1] == 'False False False []'  # the [serve] extra's packages neither


def test_library_code_does_not_print():
    printing = []
    for path in sorted((REPO / 'kobert_gluon').rglob('*.py')):
        if 'cli' in path.relative_to(REPO / 'kobert_gluon').parts:
            continue  # the command line is where output is made
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'print':
                printing.append('{}:{}'.format(path.relative_to(REPO), node.lineno))
    assert printing == []


# ----- options defined once -----------------------------------------------------------------------------------
def _subparser(name):
    from kobert_gluon.cli import build_parser
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == 'command')
    return subparsers.choices[name]


def _lookup(document, dotted):
    for key in dotted.split('.'):
        document = document[key]
    return document


@pytest.mark.parametrize('command', ['finetune', 'pretrain', 'distill'])
def test_cli_options_name_real_settings_and_their_defaults(command, tmp_path):
    if command == 'finetune':
        from kobert_gluon.tasks.finetuning import FinetuneSettings
        document = FinetuneSettings(task='nsmc', train='train.tsv').to_dict()
    elif command == 'distill':
        from kobert_gluon.pretraining.distill import DistillSettings
        document = DistillSettings(data=str(tmp_path), teacher='kobert-mini', student_layers=1).to_dict()
    else:
        from kobert_gluon.pretraining.pretrain import PretrainSettings
        document = PretrainSettings(data=str(tmp_path)).to_dict()
    paths = _subparser(command).get_default('setting_paths')  # what the parser built from the declarations
    assert len(paths) >= 25
    options = {a.dest: a for a in _subparser(command)._actions}
    checked = 0
    for dest, dotted in paths.items():
        assert dest in options, 'settings path {} has no option --{}'.format(dotted, dest.replace('_', '-'))
        if dotted.startswith('model_overrides.'):
            assert dotted.split('.')[1] in {f.name for f in dataclasses.fields(BertConfig)}
            continue
        value = _lookup(document, dotted)  # KeyError: the option fills a setting that does not exist
        match = re.search(r'\(default:? ([^);,]+)', options[dest].help or '') or re.match(
            r'default ([^);,]+)$', options[dest].help or '')
        if match and isinstance(value, (int, float, str)) and not isinstance(value, bool) and value != 0:
            shown = match.group(1).strip()
            assert shown == (format(value, 'g') if isinstance(value, float) else str(value)), (dest, shown, value)
            checked += 1
    assert checked >= 5


def test_a_task_reads_what_its_structure_reads():
    """The table/files rule is the structure's (its pipeline's ``reads_tables``), checked where a task is used."""
    from kobert_gluon.tasks.datasets import TableSpec, TaskSpec
    from kobert_gluon.tasks.finetuning import pipeline_for
    ner_with_table = TaskSpec(name='x', kind='token_classification', metric='entity_f1',
                              table=TableSpec(text_columns=('text',), label_column='label'))
    with pytest.raises(InputError, match='a token_classification task reads token classification files, not a table'):
        pipeline_for(ner_with_table)
    sentences_without_table = TaskSpec(name='y', kind='classification', metric='accuracy', table=None)
    with pytest.raises(InputError, match='a classification task reads a table: say which columns'):
        pipeline_for(sentences_without_table)
    assert pipeline_for(kobert_gluon.get_task('korquad')).label == 'question answering'


def test_cli_data_formats_are_the_structures_formats():
    """The formats the CLI offers (tasks.file_formats, plain data: building a parser imports no reader) are every
    pipeline's: a structure whose formats are not declared there fails here."""
    from kobert_gluon.tasks.file_formats import DATA_FORMATS, TAGGED_FORMATS
    from kobert_gluon.tasks.finetuning import PIPELINES
    assert set(DATA_FORMATS) == {f for pipeline in PIPELINES.values() for f in pipeline.data_formats}
    assert TAGGED_FORMATS == tuple(PIPELINES.get('tagged').data_formats)
