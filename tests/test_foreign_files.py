"""Files from other libraries, damaged and mislabelled (issue 32, classes 3 and 4).

Every reader of a foreign format is fuzzed with byte flips and truncations of real files (the TensorFlow checkpoint
TensorFlow wrote in tests/fixtures/tf, the safetensors, pytorch_model.bin and tf_model.h5 of the same tiny BERT,
tokenizer.json files that transformers itself saved). The rule: a damaged file is an error of the package's own
(one line in the CLI), never another exception; where the format has a checksum (a TensorFlow checkpoint's blocks
and tensors, pytorch_model.bin's zip CRC-32s) a flipped byte is refused or, outside what the checksums cover, reads
exactly the original; where it has none (safetensors, HDF5, tokenizer.json) a success must be a usable result.
The examples are drawn by hypothesis, derandomized, so every run checks the same cases.

Then transformers checkpoints whose labels nobody chose, or whose scores mean something the heads do not compute.
"""
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
from kobert_gluon.convert.huggingface import import_hf
from kobert_gluon.convert.tf_checkpoint import read_tf_checkpoint
from kobert_gluon.core.errors import InputError, KobertGluonError
from kobert_gluon.models.zoo import load_tokenizer

from .conftest import error_line, run_cli

FIXTURES = Path(__file__).resolve().parent / 'fixtures' / 'tf'
BERT_TF = FIXTURES / 'bert'
KERAS = FIXTURES / 'keras' / 'bert'  # tf_model.h5; reference/: the same weights as model.safetensors
VOCAB = KERAS / 'vocab.txt'
DATA_SHARD = 'model.ckpt.data-00000-of-00001'


def _fuzz(examples):
    """hypothesis settings for a fuzz test: the same ``examples`` cases on every run (derandomized, no database)."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# a damage: flip one byte (xor with 1..255) or cut the file; positions near the start (headers, names) as often as
# anywhere, since that is where most formats keep their structure
DAMAGE = st.tuples(st.sampled_from(['flip', 'flip', 'cut']),
                   st.one_of(st.integers(0, 4095), st.integers(0, 2 ** 31)), st.integers(1, 255))


def _damaged(data: bytes, damage) -> bytes:
    how, where, xor = damage
    at = where % len(data)
    if how == 'cut':
        return data[:at]
    out = bytearray(data)
    out[at] ^= xor
    return bytes(out)


@pytest.fixture(scope='module')
def workdir():
    with tempfile.TemporaryDirectory(prefix='foreign-files-') as folder:
        yield Path(folder)


def _fresh(workdir: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=name + '-', dir=str(workdir)))


# ----- TensorFlow checkpoints: every byte checked ---------------------------------------------------------------------
@pytest.mark.parametrize('name', ['bert', 'electra'])
def test_checkpoints_tensorflow_wrote_verify(name):
    """Each tensor's index entry holds the *masked* crc32c of its bytes, as TensorFlow's tensor_bundle writes it:
    the checkpoints TensorFlow itself wrote pass every check, and read real weights."""
    variables = read_tf_checkpoint(FIXTURES / name)
    assert len(variables) > 20 and all(np.isfinite(v).all() and np.abs(v).max() < 10 for v in variables.values()
                                       if v.dtype.kind == 'f')


@pytest.fixture(scope='module')
def tf_copy(workdir):
    folder = workdir / 'tf'
    shutil.copytree(BERT_TF, folder)
    return folder


@_fuzz(160)
@given(part=st.sampled_from(['model.ckpt.index', DATA_SHARD]), damage=DAMAGE)
def test_any_damaged_byte_of_a_tensorflow_checkpoint_is_refused(tf_copy, part, damage):
    original = (BERT_TF / part).read_bytes()
    (tf_copy / part).write_bytes(_damaged(original, damage))
    try:
        with pytest.raises(InputError) as refused:
            read_tf_checkpoint(tf_copy / 'model.ckpt')
        assert str(tf_copy / part) in str(refused.value) or str(tf_copy / 'model.ckpt') in str(refused.value)
    finally:
        (tf_copy / part).write_bytes(original)


def test_every_byte_of_the_index_is_covered(tf_copy):
    """Not a sample: each of the index's bytes flipped in turn is refused (the blocks' crc32c, the footer checked
    against the handles it decodes to, the blocks filling the file)."""
    original = (BERT_TF / 'model.ckpt.index').read_bytes()
    try:
        for at in range(len(original)):
            damaged = bytearray(original)
            damaged[at] ^= 0x80 if at % 2 else 0x01  # the top bit and the bottom bit, both varint-relevant
            (tf_copy / 'model.ckpt.index').write_bytes(bytes(damaged))
            with pytest.raises(InputError):
                read_tf_checkpoint(tf_copy / 'model.ckpt')
    finally:
        (tf_copy / 'model.ckpt.index').write_bytes(original)


def test_import_tf_names_the_damaged_tensor_in_one_line(tmp_path, capsys):
    copy = tmp_path / 'copy'
    shutil.copytree(BERT_TF, copy)
    data = bytearray((copy / DATA_SHARD).read_bytes())
    expected = read_tf_checkpoint(BERT_TF)['bert/pooler/dense/kernel']
    # the pooler's kernel lies somewhere in the shard: find its bytes and flip one in the middle
    at = bytes(data).find(expected.astype('<f4').tobytes())
    assert at >= 0
    data[at + expected.nbytes // 2] ^= 0x40
    (copy / DATA_SHARD).write_bytes(bytes(data))
    code, _, err = run_cli(capsys, 'import-tf', copy / 'model.ckpt', '--config', copy / 'bert_config.json',
                           '--vocab', copy / 'vocab.txt', '--out', tmp_path / 'out')
    line = error_line(err, 'import-tf')
    assert code == 2 and 'bert/pooler/dense/kernel fails its checksum' in line and DATA_SHARD in line
    assert not (tmp_path / 'out').exists()
    # an optimizer slot is checked too, though import-tf drops it
    data = bytearray((BERT_TF / DATA_SHARD).read_bytes())
    slot = read_tf_checkpoint(BERT_TF)['bert/encoder/layer_0/output/dense/kernel/adam_m']
    at = bytes(data).find(slot.astype('<f4').tobytes())
    data[at] ^= 0x01
    (copy / DATA_SHARD).write_bytes(bytes(data))
    code, _, err = run_cli(capsys, 'import-tf', copy / 'model.ckpt', '--config', copy / 'bert_config.json',
                           '--vocab', copy / 'vocab.txt', '--out', tmp_path / 'out')
    assert code == 2 and 'adam_m fails its checksum' in error_line(err, 'import-tf')


# ----- transformers weights: safetensors, pytorch_model.bin, tf_model.h5 ---------------------------------------------
def _params(folder):
    import mxnet as mx
    return {name: value.asnumpy() for name, value in mx.nd.load(str(folder / 'model.params')).items()}


@pytest.fixture(scope='module')
def reference_params(workdir):
    """The model folder imported from the undamaged safetensors (the tf_model.h5 and the .bin hold the same)."""
    return _params(import_hf(KERAS / 'reference', workdir / 'reference', tokenizer=str(VOCAB)))


def _usable(out: Path, reference) -> bool:
    """A damaged file's import that succeeded gave a whole model: every parameter, finite, of the right shape."""
    params = _params(out)
    return params.keys() == reference.keys() and all(
        params[n].shape == reference[n].shape and np.isfinite(params[n]).all() for n in params)


def _import_damaged(folder: Path, name: str, original: bytes, damage, workdir: Path):
    """Import ``folder`` with its file ``name`` damaged: the model folder, or None when refused."""
    (folder / name).write_bytes(_damaged(original, damage))
    try:
        out = import_hf(folder, _fresh(workdir, 'out') / 'model', tokenizer=str(VOCAB))
    except KobertGluonError as err:
        assert str(folder) in str(err)
        event('refused')
        return None
    event('read')  # hypothesis --hypothesis-show-statistics counts how often each happened
    return out


@pytest.fixture(scope='module')
def safetensors_folder(workdir):
    folder = workdir / 'safetensors'
    shutil.copytree(KERAS / 'reference', folder)
    return folder


@_fuzz(60)
@given(damage=DAMAGE)
def test_damaged_safetensors_are_refused_or_still_a_whole_model(safetensors_folder, reference_params, workdir,
                                                                damage):
    original = (KERAS / 'reference' / 'model.safetensors').read_bytes()
    out = _import_damaged(safetensors_folder, 'model.safetensors', original, damage, workdir)
    assert out is None or _usable(out, reference_params)


@pytest.fixture(scope='module')
def torch_folder(workdir):
    """The same BERT as pytorch_model.bin, as torch saves it (a zip archive); ``(folder, the file's bytes)``."""
    torch = pytest.importorskip('torch', reason='pytorch_model.bin needs torch (in the test extra)')
    from safetensors.numpy import load_file
    folder = workdir / 'torch'
    folder.mkdir()
    shutil.copyfile(KERAS / 'reference' / 'config.json', folder / 'config.json')
    tensors = load_file(str(KERAS / 'reference' / 'model.safetensors'))
    torch.save({name: torch.from_numpy(value) for name, value in tensors.items()}, str(folder / 'pytorch_model.bin'))
    return folder, (folder / 'pytorch_model.bin').read_bytes()


@_fuzz(50)
@given(damage=DAMAGE)
def test_damaged_pytorch_bins_are_refused_or_read_exactly(torch_folder, reference_params, workdir, damage):
    """torch's zip has a CRC-32 per member: a flipped byte in a tensor is refused; one outside what the CRC-32s
    cover (a timestamp in a zip header) may be read, and then gives exactly the original weights."""
    folder, original = torch_folder
    out = _import_damaged(folder, 'pytorch_model.bin', original, damage, workdir)
    if out is not None:
        params = _params(out)
        assert params.keys() == reference_params.keys()
        assert all(np.array_equal(params[n], reference_params[n]) for n in params)


def test_a_flipped_byte_in_a_pytorch_tensor_names_its_member(torch_folder, tmp_path, capsys):
    folder = tmp_path / 'bin'
    shutil.copytree(torch_folder[0], folder)
    # the bytes torch wrote: the fuzz test above leaves its last damaged file in the shared folder
    data = bytearray(torch_folder[1])
    data[len(data) // 2] ^= 0x10  # the middle of the archive: tensor data
    (folder / 'pytorch_model.bin').write_bytes(bytes(data))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--tokenizer', VOCAB, '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'pytorch_model.bin' in line and 'CRC-32' in line


@pytest.fixture(scope='module')
def h5_folder(workdir):
    pytest.importorskip('h5py', reason='tf_model.h5 needs h5py (the [tensorflow] extra; in the test extra)')
    folder = workdir / 'h5'
    shutil.copytree(KERAS, folder, ignore=shutil.ignore_patterns('reference'))
    return folder


@_fuzz(30)
@given(damage=DAMAGE)
def test_damaged_tf_model_h5_is_refused_or_still_a_whole_model(h5_folder, reference_params, workdir, damage):
    """HDF5 has no checksums in Keras files, and crashes the process on some damaged files: the package reads it in
    a child process, so a crash too is one error."""
    original = (KERAS / 'tf_model.h5').read_bytes()
    out = _import_damaged(h5_folder, 'tf_model.h5', original, damage, workdir)
    assert out is None or _usable(out, reference_params)


def test_a_tf_model_h5_that_crashed_hdf5_is_one_line(h5_folder, tmp_path, capsys):
    """A flipped byte in the type of the layer_names attribute (found by the fuzz test) made HDF5 read a wild
    pointer and killed Python: now the child dies and the import says the file is damaged."""
    folder = tmp_path / 'h5'
    shutil.copytree(h5_folder, folder)
    data = bytearray((KERAS / 'tf_model.h5').read_bytes())
    data[857] ^= 51
    (folder / 'tf_model.h5').write_bytes(bytes(data))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--tokenizer', VOCAB, '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'tf_model.h5 cannot be read as Keras weights' in line


def test_a_non_finite_weight_is_refused(tmp_path, capsys):
    """safetensors has no checksum; a NaN where a weight should be is what damage (or divergence) looks like."""
    from safetensors.numpy import load_file, save_file
    folder = tmp_path / 'nan'
    shutil.copytree(KERAS / 'reference', folder)
    tensors = load_file(str(folder / 'model.safetensors'))
    tensors['bert.pooler.dense.bias'][3] = np.nan
    save_file(tensors, str(folder / 'model.safetensors'))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--tokenizer', VOCAB, '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'bert.pooler.dense.bias holds values that are not finite' in line


# ----- tokenizer.json ------------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def tokenizer_files(workdir):
    """tokenizer.json files that transformers itself saved: XLM-RoBERTa's (Unigram, over kobert-mini's
    SentencePiece model) and a BERT WordPiece one (transformers 5 saves no vocab.txt beside it)."""
    transformers = pytest.importorskip('transformers', reason='the files are made by transformers (test extra)')
    from kobert_gluon.models.zoo import model_folder_of
    spm = workdir / 'spm'
    spm.mkdir()
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', spm / 'sentencepiece.bpe.model')
    transformers.XLMRobertaTokenizer.from_pretrained(str(spm)).save_pretrained(str(workdir / 'xlmr'))
    transformers.BertTokenizer(str(VOCAB), do_lower_case=False).save_pretrained(str(workdir / 'wordpiece'))
    return {kind: (workdir / kind / 'tokenizer.json').read_bytes() for kind in ('xlmr', 'wordpiece')}


TEXT = '한국어 ＡＢＣ 문장을 나눠 봅니다 123'


@_fuzz(120)
@given(kind=st.sampled_from(['xlmr', 'wordpiece']), damage=DAMAGE)
def test_damaged_tokenizer_json_is_refused_or_still_tokenizes(tokenizer_files, workdir, kind, damage):
    path = _fresh(workdir, 'tok') / 'tokenizer.json'
    path.write_bytes(_damaged(tokenizer_files[kind], damage))
    try:
        tokenizer = load_tokenizer(str(path))
        ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(TEXT))
    except KobertGluonError as err:
        assert str(path) in str(err)
        event('refused')
        return
    event('read')
    assert ids and all(0 <= i < len(tokenizer.vocab) for i in ids)


def test_a_damaged_sentencepiece_table_is_one_line_without_a_rust_backtrace(tokenizer_files, tmp_path, capfd):
    """A damaged precompiled_charsmap made the tokenizers library panic (pyo3's PanicException, which `except
    Exception` misses) and print a Rust backtrace: it is checked first now."""
    document = json.loads(tokenizer_files['xlmr'])
    charsmap = document['normalizer']['precompiled_charsmap']
    document['normalizer']['precompiled_charsmap'] = charsmap[:100] + '!' + charsmap[101:]
    path = tmp_path / 'tokenizer.json'
    path.write_text(json.dumps(document), encoding='utf-8')
    with pytest.raises(InputError, match='precompiled_charsmap is damaged'):
        load_tokenizer(str(path))
    assert 'panicked' not in capfd.readouterr().err


# ----- labels nobody chose, and scores that mean something else ------------------------------------------------------
TAGS = ['O', 'B-PS', 'I-PS', 'B-LC', 'I-LC']


def _hf_classifier(tmp_path, cls, name, **config):
    """A tiny transformers ``cls`` (random weights, saved by transformers) with kobert-mini's tokenizer files."""
    transformers = pytest.importorskip('transformers', reason='the checkpoints are made by transformers')
    from .test_convert import SMALL, _perturbed, _with_tokenizer_files
    transformers.logging.set_verbosity_error()
    model = _perturbed(getattr(transformers, cls)(transformers.BertConfig(**{**SMALL, **config})))
    folder = tmp_path / name
    model.save_pretrained(folder)
    _with_tokenizer_files(folder)
    return model, folder


def _edit_config(folder, change):
    document = json.loads((folder / 'config.json').read_text())
    change(document)
    (folder / 'config.json').write_text(json.dumps(document))


def test_a_token_classifier_with_default_labels_needs_them_passed(tmp_path, capsys):
    hf, folder = _hf_classifier(tmp_path, 'BertForTokenClassification', 'tagger', num_labels=5)
    assert json.loads((folder / 'config.json').read_text())['id2label']['4'] == 'LABEL_4'  # transformers' default
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'out')
    line = error_line(err, 'import-hf')
    assert code == 2 and 'LABEL_0 ... LABEL_4' in line and '--labels O,B-PER,I-PER' in line
    assert not (tmp_path / 'out').exists()
    for labels, expected in (('O,B-PS,I-PS', 'names 3 labels'), ('O,S-PS,B-PS,I-PS,E-PS', 'S-PS'),
                             ('B-PS,I-PS,B-LC,I-LC,B-OG', 'need O'), ('O,B-PS,I-PS,B-PS,I-LC', 'more than once'),
                             ('O,,B-PS', 'give every label a name')):
        code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', labels, '--out', tmp_path / 'out')
        assert code == 2 and expected in error_line(err, 'import-hf'), (labels, err)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', ','.join(TAGS), '--out', tmp_path / 'out')
    assert code == 0, err
    from kobert_gluon import FineTunedModel
    tagger = FineTunedModel.load(tmp_path / 'out')
    assert list(tagger.labels) == TAGS
    # the labels are the checkpoint's ids in order: the same scores as transformers, read with the given names
    import torch
    text = '홍길동은 서울에 산다'
    [entities], _ = tagger.predict_entities([text])
    encoded = tagger.tokenizer.encode(text, max_seq_length=32, pad=False)
    with torch.no_grad():
        logits = hf(input_ids=torch.tensor([list(encoded[0])])).logits[0].numpy()
    best = [TAGS[i] for i in logits.argmax(-1)[1:int(encoded[1]) - 1]]
    assert {e.label for e in entities} == {tag[2:] for tag in best if tag != 'O'}


def test_a_sequence_classifier_with_default_labels_keeps_them_or_takes_given_ones(tmp_path, capsys):
    _, folder = _hf_classifier(tmp_path, 'BertForSequenceClassification', 'classifier', num_labels=3)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'default')
    assert code == 0, err
    from kobert_gluon import FineTunedModel
    assert list(FineTunedModel.load(tmp_path / 'default').labels) == ['LABEL_0', 'LABEL_1', 'LABEL_2']
    assert 'pass --labels to name them' in err
    code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', 'neg,neutral,pos', '--out', tmp_path / 'named')
    assert code == 0, err
    named, default = FineTunedModel.load(tmp_path / 'named'), FineTunedModel.load(tmp_path / 'default')
    assert list(named.labels) == ['neg', 'neutral', 'pos']
    assert np.array_equal(named.predict(['정말 재밌어요']), default.predict(['정말 재밌어요']))
    # a config that names its labels must agree with --labels
    _edit_config(folder, lambda c: c.update(id2label={'0': 'neg', '1': 'neutral', '2': 'pos'}, label2id=None))
    code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', 'pos,neutral,neg', '--out', tmp_path / 'x')
    assert code == 2 and 'differ from the id2label' in error_line(err, 'import-hf')
    # as does the API's labels=
    with pytest.raises(InputError, match='list of label names'):
        import_hf(folder, tmp_path / 'x', labels='neg,neutral,pos')


BAD_CONFIGS = {
    'unknown problem_type': (lambda c: c.update(problem_type='ranking'), "problem_type 'ranking'"),
    'regression with 3 outputs': (lambda c: c.update(problem_type='regression'), 'a regression with 3 outputs'),
    'num_labels disagrees': (lambda c: c.update(num_labels=2), 'num_labels says 2 labels'),
    'id2label too short': (lambda c: c.update(id2label={'0': 'neg', '1': 'pos'}, label2id={'neg': 0, 'pos': 1}),
                           'id2label says 2 labels'),
    'label2id disagrees': (lambda c: c.update(id2label={'0': 'neg', '1': 'neutral', '2': 'pos'},
                                              label2id={'pos': 0, 'neutral': 1, 'neg': 2}), 'disagree'),
    'label2id alone names them': (lambda c: c.update(label2id={'neg': 0, 'neutral': 1, 'pos': 2}), 'disagree'),
    'id2label values are not names': (lambda c: c.update(id2label={'0': 1, '1': 2, '2': 3}), 'must be an object'),
}


@pytest.fixture(scope='module')
def three_class_checkpoint(tmp_path_factory):
    _, folder = _hf_classifier(tmp_path_factory.mktemp('three'), 'BertForSequenceClassification', 'three',
                               num_labels=3)
    return folder


@pytest.mark.parametrize('case', sorted(BAD_CONFIGS))
def test_config_fields_that_change_what_the_scores_mean_are_checked(case, three_class_checkpoint, tmp_path, capsys):
    change, expected = BAD_CONFIGS[case]
    folder = tmp_path / 'checkpoint'
    shutil.copytree(three_class_checkpoint, folder)
    _edit_config(folder, change)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'out')
    assert code == 2 and expected in error_line(err, 'import-hf')
    assert not (tmp_path / 'out').exists()


def test_label2id_left_at_transformers_default_beside_named_id2label_is_fine(three_class_checkpoint, tmp_path):
    """transformers' pipelines name the scores by id2label alone, and older configs kept the default label2id."""
    folder = tmp_path / 'checkpoint'
    shutil.copytree(three_class_checkpoint, folder)
    _edit_config(folder, lambda c: c.update(id2label={'0': 'neg', '1': 'neutral', '2': 'pos'},
                                            label2id={'LABEL_0': 0, 'LABEL_1': 1, 'LABEL_2': 2}))
    from kobert_gluon import FineTunedModel
    assert list(FineTunedModel.load(import_hf(folder, tmp_path / 'out')).labels) == ['neg', 'neutral', 'pos']


def test_labels_are_refused_where_there_are_none(tmp_path, capsys):
    _, folder = _hf_classifier(tmp_path, 'BertModel', 'base')
    code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', 'a,b', '--out', tmp_path / 'out')
    assert code == 2 and 'BertModel, which has no labels' in error_line(err, 'import-hf')
    _, folder = _hf_classifier(tmp_path, 'BertForSequenceClassification', 'regressor', num_labels=1)
    code, _, err = run_cli(capsys, 'import-hf', folder, '--labels', 'score', '--out', tmp_path / 'out')
    assert code == 2 and 'regressor (one score)' in error_line(err, 'import-hf')
