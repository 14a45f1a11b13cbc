"""TensorFlow checkpoints in, without TensorFlow: the files under tests/fixtures/tf were written by TensorFlow's own
Saver with the variable names of Google's BERT code and of the original ELECTRA code, and ``reference/`` holds what
transformers' own TensorFlow loaders (``load_tf_weights_in_bert`` / ``load_tf_weights_in_electra``, transformers 4)
made of the same files (tests/fixtures/make_tf_checkpoints.py wrote both). import-tf must give the same model."""
import json
import shutil
from pathlib import Path

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.convert.huggingface import import_hf
from kobert_gluon.convert.tensorflow import import_tf
from kobert_gluon.convert.tf_checkpoint import read_tf_checkpoint
from kobert_gluon.core.errors import InputError

from .conftest import error_line, run_cli

FIXTURES = Path(__file__).resolve().parent / 'fixtures' / 'tf'
TOLERANCE = 1e-5
IDS = np.array([[2, 5, 6, 7, 8, 3, 0], [2, 9, 10, 3, 11, 12, 3]])
TYPES = np.array([[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1]])
LENGTHS = np.array([6, 7])
MASKED = np.array([[1, 3], [2, 5]])


def _params(folder):
    return {name: value.asnumpy() for name, value in mx.nd.load(str(folder / 'model.params')).items()}


def _torch_outputs(model):
    torch = pytest.importorskip('torch', reason='the parity checks need torch (in the test extra)')
    mask = (np.arange(IDS.shape[1])[None] < LENGTHS[:, None]).astype('int64')
    with torch.no_grad():
        return model(input_ids=torch.tensor(IDS), token_type_ids=torch.tensor(TYPES),
                     attention_mask=torch.tensor(mask))


def test_the_reader_reads_what_tensorflow_wrote():
    variables = read_tf_checkpoint(FIXTURES / 'bert' / 'model.ckpt')
    assert variables['bert/encoder/layer_1/intermediate/dense/kernel'].shape == (16, 32)  # TensorFlow's (in, out)
    assert variables['global_step'].dtype == np.int64 and variables['global_step'].shape == ()
    assert 'bert/encoder/layer_0/output/dense/kernel/adam_m' in variables
    # the prefix, its .index file and the folder with TensorFlow's "checkpoint" file name the same checkpoint
    for name in (FIXTURES / 'bert' / 'model.ckpt.index', FIXTURES / 'bert'):
        assert read_tf_checkpoint(name).keys() == variables.keys()
    # import-tf reads the weights only: the optimizer's slots (twice the model) are never loaded
    from kobert_gluon.models.transformers_names import tf_variable_name
    weights = read_tf_checkpoint(FIXTURES / 'bert', keep=lambda name: tf_variable_name(name) is not None)
    assert set(variables) - set(weights) == {'global_step', 'bert/encoder/layer_0/output/dense/kernel/adam_m',
                                             'bert/encoder/layer_0/output/dense/kernel/adam_v'}


def test_bert_pretraining_checkpoint_equals_transformers_reading_of_it(tmp_path, capsys):
    folder = FIXTURES / 'bert'
    code, out, err = run_cli(capsys, 'import-tf', folder / 'model.ckpt', '--config', folder / 'bert_config.json',
                             '--vocab', folder / 'vocab.txt', '--out', tmp_path / 'from-tf')
    assert code == 0, err
    reference = import_hf(folder / 'reference', tmp_path / 'from-reference', tokenizer=str(folder / 'vocab.txt'))
    ours, theirs = _params(tmp_path / 'from-tf'), _params(reference)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[name], theirs[name]) for name in ours)  # the same weights, bit for bit
    document = json.loads((tmp_path / 'from-tf' / 'config.json').read_text())
    assert document['converted_from']['format'] == 'tensorflow'
    assert document['heads'] == {'use_pooler': True, 'use_decoder': True, 'use_classifier': True}
    transformers = pytest.importorskip('transformers', reason='the parity checks need transformers')
    hf = transformers.BertForPreTraining.from_pretrained(str(folder / 'reference')).eval()
    expected = _torch_outputs(hf)
    model, _ = get_model(str(tmp_path / 'from-tf'))
    sequence, pooled, nsp, mlm = model(mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS),
                                       mx.nd.array(MASKED))
    logits = expected.prediction_logits.numpy()[np.arange(2)[:, None], MASKED]
    assert float(np.abs(mlm.asnumpy() - logits).max()) < TOLERANCE
    assert float(np.abs(nsp.asnumpy() - expected.seq_relationship_logits.numpy()).max()) < TOLERANCE


@pytest.mark.parametrize('part', ['discriminator', 'generator'])
def test_electra_checkpoint_gives_either_model_as_transformers_reads_it(tmp_path, part):
    folder = FIXTURES / 'electra'
    out = import_tf(folder, folder / '{}_config.json'.format(part), tmp_path / 'from-tf', str(folder / 'vocab.txt'),
                    part=part)
    reference = import_hf(folder / 'reference' / part, tmp_path / 'from-reference',
                          tokenizer=str(folder / 'vocab.txt'))
    ours, theirs = _params(out), _params(reference)
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[n], theirs[n]) for n in ours)
    transformers = pytest.importorskip('transformers', reason='the parity checks need transformers')
    cls = transformers.ElectraForPreTraining if part == 'discriminator' else transformers.ElectraForMaskedLM
    hf = cls.from_pretrained(str(folder / 'reference' / part)).eval()
    expected = _torch_outputs(hf).logits.numpy()
    model, _ = get_model(str(out))
    if part == 'discriminator':
        got = model(mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS))[-1].asnumpy()
        assert float(np.abs((got - expected)[:, :6]).max()) < TOLERANCE
    else:
        got = model(mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS), mx.nd.array(MASKED))[-1].asnumpy()
        assert float(np.abs(got - expected[np.arange(2)[:, None], MASKED]).max()) < TOLERANCE


def test_damaged_or_unreadable_checkpoints_are_one_line_errors(tmp_path, capsys):
    folder = FIXTURES / 'bert'
    copy = tmp_path / 'copy'
    shutil.copytree(folder, copy)
    data = copy / 'model.ckpt.data-00000-of-00001'
    data.write_bytes(data.read_bytes()[:1000])  # cut short
    code, _, err = run_cli(capsys, 'import-tf', copy / 'model.ckpt', '--config', copy / 'bert_config.json',
                           '--vocab', copy / 'vocab.txt', '--out', tmp_path / 'out')
    assert code == 2 and 'cut short' in error_line(err, 'import-tf')
    (copy / 'model.ckpt.index').write_bytes(b'not a table')
    with pytest.raises(InputError, match='not a TensorFlow checkpoint index'):
        read_tf_checkpoint(copy / 'model.ckpt')
    code, _, err = run_cli(capsys, 'import-tf', tmp_path / 'nowhere' / 'model.ckpt', '--config',
                           folder / 'bert_config.json', '--vocab', folder / 'vocab.txt', '--out', tmp_path / 'out')
    assert code != 0 and 'no such TensorFlow checkpoint' in err
    config = tmp_path / 'xlmr.json'
    config.write_text(json.dumps({'model_type': 'xlm-roberta'}), encoding='utf-8')
    code, _, err = run_cli(capsys, 'import-tf', folder / 'model.ckpt', '--config', config, '--vocab',
                           folder / 'vocab.txt', '--out', tmp_path / 'out')
    assert code == 2 and 'import-tf reads bert and electra checkpoints' in error_line(err, 'import-tf')
    code, _, err = run_cli(capsys, 'import-tf', folder / 'model.ckpt', '--config', folder / 'bert_config.json',
                           '--vocab', folder / 'vocab.txt', '--part', 'generator', '--out', tmp_path / 'out')
    line = error_line(err, 'import-tf')
    assert code == 2 and 'a bert checkpoint holds one: leave --part out' in line and 'discriminator' in line
    electra = FIXTURES / 'electra'
    # an ELECTRA config without model_type is read as BERT's: the checkpoint's electra/ variables say which field
    untyped = tmp_path / 'untyped.json'
    document = json.loads((electra / 'discriminator_config.json').read_text(encoding='utf-8'))
    document.pop('model_type', None)
    untyped.write_text(json.dumps(document), encoding='utf-8')
    code, _, err = run_cli(capsys, 'import-tf', electra, '--config', untyped, '--vocab', electra / 'vocab.txt',
                           '--out', tmp_path / 'out')
    assert code == 2 and 'add "model_type": "electra" to the config' in error_line(err, 'import-tf')
    # the generator's config with the default part (the discriminator)
    code, _, err = run_cli(capsys, 'import-tf', electra, '--config', electra / 'generator_config.json', '--vocab',
                           electra / 'vocab.txt', '--out', tmp_path / 'out')
    assert code == 2 and 'reading the discriminator with generator_config.json' in error_line(err, 'import-tf')
    assert not (tmp_path / 'out').exists()


def test_a_moved_checkpoint_folder_is_found_by_its_files(tmp_path):
    """TensorFlow records where it saved, absolutely: a folder copied elsewhere still names the files beside it."""
    copy = tmp_path / 'moved'
    shutil.copytree(FIXTURES / 'bert', copy)
    (copy / 'checkpoint').write_text('model_checkpoint_path: "/training/machine/run1/model.ckpt"\n'
                                     'all_model_checkpoint_paths: "/training/machine/run1/model.ckpt"\n')
    assert read_tf_checkpoint(copy).keys() == read_tf_checkpoint(FIXTURES / 'bert' / 'model.ckpt').keys()


@pytest.mark.parametrize('family,cls', [('bert', 'BertForPreTraining'), ('electra', 'ElectraForPreTraining'),
                                        ('xlm-roberta', 'XLMRobertaForSequenceClassification')])
def test_tf_model_h5_folders_import_as_transformers_converts_them(tmp_path, capsys, family, cls):
    """A folder transformers' TensorFlow model saved (tf_model.h5, Keras) imports with import-hf, to the same weights
    as transformers' own TensorFlow-to-PyTorch conversion of it, and the same outputs."""
    pytest.importorskip('h5py', reason='tf_model.h5 needs h5py (the [tensorflow] extra; in the test extra)')
    folder = FIXTURES / 'keras' / family
    code, _, err = run_cli(capsys, 'import-hf', folder, '--tokenizer', folder / 'vocab.txt', '--out', tmp_path / 'h5')
    assert code == 0, err
    reference = import_hf(folder / 'reference', tmp_path / 'reference', tokenizer=str(folder / 'vocab.txt'))
    ours, theirs = _params(tmp_path / 'h5'), _params(reference)
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[n], theirs[n]) for n in ours)
    transformers = pytest.importorskip('transformers', reason='the parity checks need transformers')
    hf = getattr(transformers, cls).from_pretrained(str(folder / 'reference')).eval()
    model, _ = get_model(str(tmp_path / 'h5'))
    ids, types = (IDS, TYPES) if family != 'xlm-roberta' else (IDS + 3, np.zeros_like(TYPES))
    import torch
    mask = (np.arange(ids.shape[1])[None] < LENGTHS[:, None]).astype('int64')
    with torch.no_grad():
        expected = hf(input_ids=torch.tensor(ids), token_type_ids=torch.tensor(types),
                      attention_mask=torch.tensor(mask))
    outputs = model(mx.nd.array(ids), mx.nd.array(types), mx.nd.array(LENGTHS),
                    *([mx.nd.array(MASKED)] if family == 'bert' else []))
    if family == 'bert':
        got, want = outputs[-1].asnumpy(), expected.prediction_logits.numpy()[np.arange(2)[:, None], MASKED]
    elif family == 'electra':
        got, want = outputs[-1].asnumpy()[:, :6], expected.logits.numpy()[:, :6]
    else:
        got, want = outputs.asnumpy(), expected.logits.numpy()
    assert float(np.abs(got - want).max()) < TOLERANCE


def test_import_hf_points_tensorflow_folders_to_what_reads_them(tmp_path, capsys):
    code, _, err = run_cli(capsys, 'import-hf', FIXTURES / 'bert', '--out', tmp_path / 'out')
    assert code != 0 and 'import-tf' in err
    broken = tmp_path / 'broken'
    broken.mkdir()
    shutil.copyfile(FIXTURES / 'keras' / 'bert' / 'config.json', broken / 'config.json')
    (broken / 'tf_model.h5').write_bytes(b'\x89HDF\r\n\x1a\n')
    code, _, err = run_cli(capsys, 'import-hf', broken, '--tokenizer', FIXTURES / 'bert' / 'vocab.txt', '--out',
                           tmp_path / 'out')
    assert code == 2 and 'tf_model.h5' in error_line(err, 'import-hf')


def test_a_fine_tuning_scripts_head_is_named_not_misread(tmp_path, monkeypatch):
    """run_classifier.py's top-level output_weights/output_bias carry no labels: refused in one line, naming them."""
    from kobert_gluon.convert import tensorflow
    variables = read_tf_checkpoint(FIXTURES / 'bert' / 'model.ckpt')
    variables.update({'output_weights': np.zeros((2, 16), np.float32), 'output_bias': np.zeros(2, np.float32)})
    monkeypatch.setattr(tensorflow, 'read_tf_checkpoint', lambda prefix, **options: variables)
    with pytest.raises(InputError, match="task head of Google's fine-tuning scripts .*output_bias, output_weights"):
        import_tf(FIXTURES / 'bert' / 'model.ckpt', FIXTURES / 'bert' / 'bert_config.json', tmp_path / 'out',
                  str(FIXTURES / 'bert' / 'vocab.txt'))
    assert not (tmp_path / 'out').exists()


def test_an_xlm_roberta_folder_without_its_tokenizer_json_names_what_it_reads(tmp_path, capsys):
    # the Keras fixture holds a vocab.txt (transformers' test tokenizer), which is not an XLM-R tokenizer
    code, _, err = run_cli(capsys, 'import-hf', FIXTURES / 'keras' / 'xlm-roberta', '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and "tokenizer is its tokenizer.json" in line and 'vocab.txt there is not its kind' in line
    assert '--tokenizer' in line and not (tmp_path / 'out').exists()
