"""Hugging Face transformers checkpoints in and out: ``import_hf`` makes a model folder, ``export_hf`` a folder that
``transformers`` loads with ``from_pretrained``.

Architectures (:mod:`.checkpoint_families`): ``BertModel``, ``BertForPreTraining`` (MLM + NSP heads),
``BertForSequenceClassification`` (classification with ``id2label``; regression when ``num_labels == 1``),
``BertForTokenClassification`` (a :class:`~kobert_gluon.heads.token.TokenClassifier` with ``id2label`` as its BIO
labels) and ``BertForQuestionAnswering`` (a :class:`~kobert_gluon.heads.token.SpanExtractor`); for DistilBERT
``DistilBertModel``, ``DistilBertForMaskedLM`` and the ``DistilBertFor...`` of the three task heads, for ELECTRA
``ElectraModel``, ``ElectraForPreTraining`` (the discriminator) and the ``ElectraFor...`` of the three task heads.
Tensor names are translated by each family's tables (``kobert_gluon/models/<family>/transformers.py``); every tensor of the checkpoint must find a place and
every parameter of the Gluon model must get a tensor, or the conversion stops naming them (nothing is left at random
initial values). An imported task head is a fine-tuned model folder (a ``finetuning`` section), so ``predict``,
``evaluate``, ``predict_entities`` and ``predict_answers`` take it as it is.

A hub repo id (``skt/kobert-base-v1``) is fetched as a verified snapshot of the files the conversion reads
(:mod:`kobert_gluon.hub.hf_hub`), pinned to the commit its revision names.

Weights are read from ``model.safetensors`` (also sharded) with ``safetensors.numpy``, so no torch is needed; a
``pytorch_model.bin`` needs torch (its zip CRC-32s are verified first); a ``tf_model.h5`` is read in a child process
(:mod:`.keras_h5`). What a reading library raises on a damaged file is one :class:`InputError` naming it, and every
imported weight must be finite floats. Written checkpoints are ``model.safetensors`` (no torch needed either).

A classifier's labels are its ``id2label``, checked against ``num_labels``, ``label2id``, ``problem_type`` and the
classifier's weight; transformers' default ``LABEL_<i>`` are kept for a sequence classifier (with a warning) and
refused for a token classifier unless ``labels=`` (``--labels``) names them.

Tokenizers: transformers' KoBERT tokenizer files are a SentencePiece model and ``vocab.txt`` (one token per line,
the line number is the id); they become the package's ``sentencepiece-transformers`` tokenizer (SentencePiece over
the whole text, as transformers' ``KoBertTokenizer``) with the same ids, or the Gluon ``sentencepiece`` convention
when ``tokenizer_config.json`` says this package exported it so (export-hf records the kind there). A checkpoint
without tokenizer files needs the tokenizer named (``tokenizer=``: a folder, a file or a registered model name);
none is guessed from the vocabulary's size.
"""
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..core.mxnet_stack import mx
import numpy as np

from ..core.documents import read_json, write_json
from ..core.errors import InputError, KobertGluonError, is_library_panic
from ..core.progress import phase
from ..core.outputs import outputs_of
from ..core.owned_folders import FolderKind, register_folder_kind, write_folder_atomically
from ..models.folder import save_model
from ..models.building import get_architecture, initialize_random
from ..hub import hf_hub
from ..hub.model_paths import check_checkpoint_path
from ..models.resolution import resolve_model
from ..models.zoo import model_folder_of
from ..tasks.datasets import TableSpec, TaskSpec
from ..tasks.finetuning import PIPELINES
from ..tasks.kinds import (TaskKind, get_task_kind, problem_types, task_kind_of_checkpoint, task_kind_of_head,
                           task_kinds)
from ..tasks.tagging import check_label_scheme
from ..tokenizers.registry import read_transformers_tokenizer, transformers_writer
from ..tokenizers.transformers_files import SP_MODEL_NAMES, TOKENIZER_CONFIG, TOKENIZER_JSON, VOCAB_TXT
from ..tokenizers.wordpiece import vocab_from_vocab_txt  # noqa: F401  (part of this module's API)
from ..models.family_registry import get_family
from .checkpoint_families import (CHECKPOINT_KINDS, TransformersMapping, checkpoint_kind, family_of_architecture,
                                  family_of_checkpoint)

__all__ = ['import_hf', 'export_hf', 'to_transformers_bert_model', 'read_checkpoint', 'save_converted',
           'tokenizer_for',
           'vocab_from_vocab_txt', 'checkpoint_files', 'fetch_checkpoint']

log = logging.getLogger(__name__)

HF_CONFIG = 'config.json'
SAFETENSORS = 'model.safetensors'
SAFETENSORS_INDEX = 'model.safetensors.index.json'
TORCH_BIN = 'pytorch_model.bin'
TF_H5 = 'tf_model.h5'
KOBERT_VOCAB_SIZE = 8002

EXPORT_KIND = register_folder_kind(FolderKind(
    'hf-export', 'Hugging Face export', (HF_CONFIG, SAFETENSORS, 'tokenizer.model', VOCAB_TXT, TOKENIZER_CONFIG,
                                            TOKENIZER_JSON),
    advice='it is a transformers checkpoint: convert it with kobert-gluon import-hf {folder} --out DIR')).name


# ----- reading a checkpoint --------------------------------------------------------------------------------------
def checkpoint_files(names) -> list:
    """Of a repository's file names, the ones a conversion reads: the config, one copy of the weights (safetensors
    first, else pytorch_model.bin) and the tokenizer files."""
    names = list(names)
    if HF_CONFIG not in names:
        raise InputError('the repository has no {}, so it is not a transformers checkpoint (files: {})'
                         .format(HF_CONFIG, ', '.join(sorted(names)[:10])))
    wanted = [HF_CONFIG]
    if SAFETENSORS in names:
        wanted.append(SAFETENSORS)
    elif SAFETENSORS_INDEX in names:
        wanted.append(SAFETENSORS_INDEX)
        wanted.extend(n for n in names if n.startswith('model-') and n.endswith('.safetensors') and '/' not in n)
    elif TORCH_BIN in names:
        wanted.append(TORCH_BIN)
    elif TF_H5 in names:
        wanted.append(TF_H5)
    else:
        raise InputError('the repository has no weights ({}, {}, {} or {})'.format(SAFETENSORS, SAFETENSORS_INDEX,
                                                                                  TORCH_BIN, TF_H5))
    wanted.extend(n for n in SP_MODEL_NAMES + (VOCAB_TXT, TOKENIZER_CONFIG, TOKENIZER_JSON) if n in names)
    return wanted


def fetch_checkpoint(repo_id: str, revision: str = 'main', cachedir=None) -> Path:
    """The local, verified snapshot of the files :func:`import_hf` reads from hub repo ``repo_id``."""
    return hf_hub.snapshot(repo_id, revision, select=checkpoint_files, cachedir=cachedir)


class CheckpointConfig(dict):
    """A transformers ``config.json`` as read: a field the conversion needs and the file lacks is one line naming the
    file and the field (``config['vocab_size']``), not a ``KeyError``. ``model_max_length``: what the checkpoint's
    ``tokenizer_config.json`` says transformers truncates at (None: no such file or value)."""

    def __init__(self, values: Dict[str, Any], path, model_max_length=None):
        super().__init__(values)
        self.path = path
        self.model_max_length = model_max_length

    def __missing__(self, key):
        raise InputError('{} lacks "{}", which a {} config needs; the file is incomplete or not a transformers '
                         'config'.format(self.path, key, self.get('model_type', 'transformers')))


def _read_config(path: Path) -> CheckpointConfig:
    """``config.json`` at ``path``, with the ``model_max_length`` of the ``tokenizer_config.json`` beside it."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise InputError('{} must hold a JSON object (a transformers config), got a {}'
                         .format(path, type(document).__name__))
    architectures = document.get('architectures')
    if architectures is not None and (not isinstance(architectures, list)
                                      or not all(isinstance(name, str) for name in architectures)):
        raise InputError('{}: "architectures" must be a list of class names (["BertModel"]), got {!r}'
                         .format(path, architectures))
    tokenizer_config = read_json(path.parent / TOKENIZER_CONFIG) if (path.parent / TOKENIZER_CONFIG).is_file() else {}
    model_max_length = tokenizer_config.get('model_max_length') if isinstance(tokenizer_config, dict) else None
    return CheckpointConfig(document, path, model_max_length)


def _load_weights(load, path: Path):
    """``load(path)`` of a weights file by the library that reads its format (safetensors, torch). What that library
    raises for a file it cannot parse (truncated, empty, damaged, not that format; a Rust panic too) is one line
    naming the file, since a half-downloaded checkpoint is a user's problem, not a bug. The package's own checks,
    and system errors about the file itself (missing, no permission), pass as they are."""
    try:
        return load(path)
    except (KobertGluonError, MemoryError):
        raise
    except Exception as err:  # noqa: BLE001 -- safetensors and torch raise their own types for a damaged file
        if isinstance(err, OSError) and err.errno is not None:
            raise
        reason = err
    except BaseException as err:
        if not is_library_panic(err):
            raise
        reason = err
    detail = str(reason).strip().splitlines()[0][:120] if str(reason).strip() else type(reason).__name__
    raise InputError('{} cannot be read as weights ({}); the file is damaged or incomplete: download or save it '
                     'again'.format(path, detail)) from None


def _read_torch_bin(path: Path) -> Dict[str, np.ndarray]:
    """The state dict of a ``pytorch_model.bin``. torch (since 1.6) saves a zip archive whose every member carries a
    CRC-32: they are all verified before torch reads the file, so a flipped byte is refused, not read as a weight.
    The older pickle format has no checksum. Every value must be a tensor."""
    try:
        import torch
    except ImportError:
        raise InputError('{} holds its weights as {}, which needs torch to read (pip install torch); or save the '
                         'checkpoint as model.safetensors'.format(path.parent, TORCH_BIN)) from None

    def load(name):
        with open(name, 'rb') as handle:
            is_zip = handle.read(4) == b'PK\x03\x04'
        if is_zip:
            import zipfile
            with zipfile.ZipFile(name) as archive:
                damaged = archive.testzip()
            if damaged is not None:
                raise InputError('{}: {} fails its CRC-32; the file is damaged: download or save it again'
                                 .format(path, damaged))
        return torch.load(name, map_location='cpu', weights_only=True)

    state = _load_weights(load, path)
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise InputError('{} does not hold a state dict of tensors; save the model again with save_pretrained'
                         .format(path))
    return {str(name): value.float().numpy() if value.is_floating_point() else value.numpy()
            for name, value in state.items()}


def _shard_files(folder: Path) -> List[Path]:
    index = read_json(folder / SAFETENSORS_INDEX)
    weight_map = index.get('weight_map') if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or not all(
            isinstance(name, str) for name in weight_map.values()):
        raise InputError('{}: "weight_map" must be an object {{tensor name: shard file}} (a sharded checkpoint\'s '
                         'index), got {!r}'.format(folder / SAFETENSORS_INDEX, weight_map)[:240])
    files = [folder / name for name in sorted(set(weight_map.values()))]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise FileNotFoundError('{}: the index names shard(s) {} that are not there; download them too'
                                .format(folder, ', '.join(missing[:3])))
    return files


def _read_keras_h5(path: Path) -> Dict[str, np.ndarray]:
    """The weights of transformers' own TensorFlow model in its ``tf_model.h5`` (Keras: a group per layer naming its
    weights in ``weight_names``; read in a child process by :mod:`.keras_h5`, since HDF5 can crash on a damaged
    file), named and laid out as transformers' PyTorch classes have them
    (:func:`~kobert_gluon.models.transformers_names.keras_weight_name`). A weight two layers share (a tied
    embedding) is read once and must be the same in both."""
    try:
        import h5py  # noqa: F401  (the child reads the file with it; a missing one is said here)
    except ImportError:
        raise InputError('{}: reading {} needs h5py: pip install "kobert-gluon[tensorflow]" (h5py only; no '
                         'TensorFlow)'.format(path, TF_H5)) from None
    from ..models.transformers_names import keras_weight_name
    from .keras_h5 import read_keras_weights
    tensors = {}
    for weight, value in read_keras_weights(path, InputError):
        name, transpose = keras_weight_name(weight)
        if transpose and value.ndim != 2:
            raise InputError('{}: {} is a kernel of shape {}, not a matrix; the file is damaged'.format(
                path, weight, value.shape))
        value = value.T.copy() if transpose else value
        if name in tensors and not np.array_equal(tensors[name], value):
            raise InputError('{}: {} is stored twice with different values'.format(path, name))
        tensors[name] = value
    return tensors


def _tensorflow_hint(folder: Path) -> str:
    """What reads a folder of TensorFlow weights, for the message that import-hf does not."""
    if any(folder.glob('*.index')):
        return '; it holds a TensorFlow checkpoint: convert it with kobert-gluon import-tf'
    return ''


def read_checkpoint(folder) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """``(config, tensors)`` of a transformers checkpoint folder, floating tensors as float32 numpy arrays (others as
    stored). A malformed config, index or weights file is one line naming the file and what was expected; the
    checksums a format has (pytorch_model.bin's zip CRC-32s) are verified."""
    folder = Path(folder)
    check_checkpoint_path(folder)  # a kobert-gluon model folder, a TensorFlow checkpoint ...: what it is, what to do
    if not (folder / HF_CONFIG).is_file():
        raise FileNotFoundError('{} is not a transformers checkpoint: it has no {}{}'.format(
            folder, HF_CONFIG, _tensorflow_hint(folder)))
    config = _read_config(folder / HF_CONFIG)
    if (folder / SAFETENSORS).is_file() or (folder / SAFETENSORS_INDEX).is_file():
        from safetensors.numpy import load_file
        files = [folder / SAFETENSORS] if (folder / SAFETENSORS).is_file() else _shard_files(folder)
        tensors = {}
        for path in files:
            tensors.update(_load_weights(lambda name: load_file(str(name)), path))
    elif (folder / TORCH_BIN).is_file():
        tensors = _read_torch_bin(folder / TORCH_BIN)
    elif (folder / TF_H5).is_file():
        tensors = _read_keras_h5(folder / TF_H5)
    else:
        raise FileNotFoundError('{} has no weights ({}, {}, {} or {}){}'.format(
            folder, SAFETENSORS, SAFETENSORS_INDEX, TORCH_BIN, TF_H5, _tensorflow_hint(folder)))
    # integer tensors (a position_ids buffer) keep their type: _gluon_values refuses one where a weight belongs
    return config, {name: value.astype(np.float32) if value.dtype.kind == 'f' else value
                    for name, value in tensors.items()}


def _default_labels(count: int) -> List[str]:
    """The names transformers gives labels that nobody named (``LABEL_0``, ``LABEL_1``, ...)."""
    return ['LABEL_{}'.format(i) for i in range(count)]


def _id2label(hf: Dict[str, Any], path) -> Optional[List[str]]:
    """The label names of a config's ``id2label``, in id order (None when it has none)."""
    id2label = hf.get('id2label')
    if id2label is None:
        return None
    if not isinstance(id2label, dict) or not all(isinstance(value, str) for value in id2label.values()):
        raise InputError('{}: "id2label" must be an object {{"0": label name, ...}}, got {!r}'.format(
            path, id2label)[:240])
    try:
        by_id = {int(key): value for key, value in id2label.items()}
    except ValueError:
        raise InputError('{}: the keys of "id2label" must be integer ids ("0", "1", ...), got {}'.format(
            path, ', '.join(repr(key) for key in list(id2label)[:4]))) from None
    if sorted(by_id) != list(range(len(by_id))):
        raise InputError('{}: the ids of id2label are {}, not 0 to {}'.format(path, sorted(by_id), len(by_id) - 1))
    return [by_id[i] for i in range(len(by_id))]


def _config_labels(hf: Dict[str, Any], path, outputs: int) -> Optional[List[str]]:
    """The names a classification config gives the ``outputs`` scores of its classifier, in id order; None when it
    names none (no ``id2label``, or transformers' ``LABEL_<i>``). Every field that says how many scores there are or
    what they mean must agree with the classifier's weight and with one another: ``num_labels``, ``id2label``, and
    ``label2id`` unless it is transformers' default left beside a named ``id2label`` (transformers' pipelines name
    the scores by ``id2label`` alone)."""
    labels = _id2label(hf, path)
    num_labels = hf.get('num_labels')
    for field, count in (('num_labels', num_labels), ('id2label', None if labels is None else len(labels))):
        if count is not None and count != outputs:
            raise InputError('{}: {} says {} labels, but the classifier\'s weight gives {} scores; the config is not '
                             'this checkpoint\'s: save it again with transformers'.format(path, field, count, outputs))
    named = None if labels is None or labels == _default_labels(len(labels)) else labels
    label2id = hf.get('label2id')
    if label2id is not None:
        if not isinstance(label2id, dict) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                     for i in label2id.values()):
            raise InputError('{}: "label2id" must be an object {{label name: id, ...}}, got {!r}'.format(
                path, label2id)[:240])
        left_default = label2id == {label: i for i, label in enumerate(_default_labels(len(label2id)))}
        if not left_default and (named is None or label2id != {label: i for i, label in enumerate(named)}):
            raise InputError('{}: id2label {} and label2id {} disagree on what the scores mean; pass the labels in '
                             'id order (--labels A,B,...; labels= in import_hf)'.format(
                                 path, json.dumps(hf.get('id2label'), ensure_ascii=False)[:100],
                                 json.dumps(label2id, ensure_ascii=False)[:100]))
    return named


def _problem_task(kind: str, hf: Dict[str, Any], path, outputs: int) -> TaskKind:
    """The task kind of the scores of a checkpoint class several task kinds share (...ForSequenceClassification), by
    transformers' ``problem_type`` (absent: regression for one score, else one label of several, as transformers
    reads it): the registered kind that declares that problem type
    (:func:`~kobert_gluon.tasks.kinds.task_kind_of_checkpoint`)."""
    problem = hf.get('problem_type') or ('regression' if outputs == 1 else 'single_label_classification')
    task = task_kind_of_checkpoint(kind, problem)
    if task is None:
        raise InputError('{}: problem_type {!r} is not one this package reads ({})'.format(
            path, problem, ', '.join(problem_types(kind))))
    if not task.has_classes and outputs != 1:
        raise InputError('{}: a regression with {} outputs; this package\'s regressor predicts one value'
                         .format(path, outputs))
    if task.has_classes and outputs < 2:
        raise InputError('{}: {} with {} score; a classifier needs 2 labels or more'.format(path, problem, outputs))
    return task


def _checkpoint_task(kind: str, hf: Dict[str, Any], path, values: Dict[str, np.ndarray]) -> TaskKind:
    """The task kind of a task head checkpoint (a ``task_head`` kind): the one registered kind of that class, or
    where several share it (...ForSequenceClassification), the one its ``problem_type`` names."""
    if problem_types(kind):
        return _problem_task(kind, hf, path, values['output.weight'].shape[0])
    return task_kind_of_checkpoint(kind, None)


def _head_labels(hf: Dict[str, Any], path, kind: str, outputs: int, given) -> List[str]:
    """The labels of a head with classes (of checkpoint ``kind``) with ``outputs`` scores, in id order: ``given``
    (the user's ``--labels``) or the config's names. A sequence classifier whose config names no labels keeps
    transformers' ``LABEL_<i>`` (as transformers' own pipelines print them); a token classifier must have real tags,
    since its labels are decoded into entities: unnamed, it is refused and asks for ``--labels``."""
    named = _config_labels(hf, path, outputs)
    if given is not None:
        if len(given) != outputs:
            raise InputError('--labels names {} labels ({}), but the checkpoint\'s classifier gives {} scores'.format(
                len(given), ','.join(given), outputs))
        if named is not None and named != given:
            raise InputError('--labels {} differ from the id2label of {} ({}); leave --labels out, or save the '
                             'checkpoint with the right id2label'.format(','.join(given), path, ','.join(named)))
        named, path = given, '--labels'
    tags = checkpoint_kind(kind).entity_tags
    if named is None:
        if tags:
            raise InputError('{}: id2label is transformers\' default (LABEL_0 ... LABEL_{}), so nobody named the tags '
                             'and no entity can be read; pass them in id order: --labels O,B-PER,I-PER,... '
                             '(labels= in import_hf)'.format(path, outputs - 1))
        log.warning('%s: id2label is transformers\' default, so the classes keep the names LABEL_0 ... LABEL_%d; '
                    'pass --labels to name them', path, outputs - 1)
        named = _default_labels(outputs)
    repeated = sorted({label for label in named if named.count(label) > 1})
    if repeated:
        raise InputError('{}: {} more than once; each label needs a name of its own'.format(
            path, ', '.join(repeated)))
    if tags:
        if len(named) < 2 or 'O' not in named:
            raise InputError('{}: a token classifier\'s tags need O (outside any entity) and at least one entity '
                             'type, got {}'.format(path, ', '.join(named)))
        if check_label_scheme(named, path) == 'io':  # decoded as IO: a run of one type is one entity
            log.info('%s: IO labels (no B- tags): a run of pieces of one type is one entity', path)
    return named


# ----- tokenizers --------------------------------------------------------------------------------------------------
def _checkpoint_tokenizer(folder: Path, family: TransformersMapping):
    """The tokenizer of a transformers folder: the family's own reader where it has one, else the generic one."""
    if family.tokenizer_reader is not None:
        return family.tokenizer_reader(folder)
    return read_transformers_tokenizer(folder)


def tokenizer_for(src: Path, tokenizer, vocab_size: int, family: TransformersMapping, cachedir=None):
    """The tokenizer of a checkpoint folder ``src``, or the one ``tokenizer`` names; never guessed."""
    if tokenizer is not None:
        path = Path(str(tokenizer))
        found = (_checkpoint_tokenizer(path, family) if path.is_dir() and not (path / 'vocab.json').is_file()
                 else None)
        if found is None:
            if path.is_dir() and not any((path / name).is_file() for name in ('vocab.json', 'vocab.txt')):
                raise InputError('--tokenizer {}: no tokenizer there (a kobert-gluon model or build-vocab folder, a '
                                 'folder with a SentencePiece model and vocab.txt or with tokenizer.json, a vocab.txt, '
                                 'tokenizer.json or .model file, or a registered model name such as kobert-base)'
                                 .format(path))
            from ..models.zoo import load_tokenizer  # a model or vocabulary folder, a file, a registered name
            found = load_tokenizer(tokenizer, cachedir=cachedir)
    else:
        found = _checkpoint_tokenizer(src, family)
        if found is None:
            # A vocabulary size says nothing about the pieces: a kobert-mini export has KoBERT's 8,002 rows too, and
            # KoBERT's tokenizer on it predicts garbage. So the tokenizer is always the user's choice.
            hint = (' (if it is KoBERT\'s own vocabulary: --tokenizer kobert-base)'
                    if vocab_size == KOBERT_VOCAB_SIZE else '')
            if family.tokenizer_files:  # a family with its own tokenizer: other files there are not its own
                present = sorted(p.name for p in Path(src).iterdir() if p.name in (VOCAB_TXT, TOKENIZER_JSON)
                                 + tuple(SP_MODEL_NAMES)) if Path(src).is_dir() else []
                wanted = 'an {} checkpoint\'s tokenizer is its {}{}'.format(
                    family.model_type, ' or '.join(family.tokenizer_files),
                    '; {} there is not its kind'.format(', '.join(present)) if present else '')
            else:
                wanted = 'it has no tokenizer files ({} with {}, {} alone, or a WordPiece {})'.format(
                    ' / '.join(SP_MODEL_NAMES[:2]), VOCAB_TXT, VOCAB_TXT, TOKENIZER_JSON)
            raise InputError('{}: {}, so its {:,}-token vocabulary cannot be read; pass the tokenizer it was trained '
                             'with: --tokenizer PATH or registered model name (tokenizer=){}'.format(
                                 src, wanted, vocab_size, hint))
    if len(found.vocab) != vocab_size:
        raise InputError('the tokenizer has {} tokens but the checkpoint\'s embeddings have {}'
                         .format(len(found.vocab), vocab_size))
    return found


# ----- import --------------------------------------------------------------------------------------------------------
def _check_tied(family: TransformersMapping, tensors: Dict[str, np.ndarray], path) -> None:
    for tied, source in family.tied:
        if tied in tensors and source in tensors and not np.array_equal(tensors[tied], tensors[source]):
            raise InputError('{}: {} differs from {}; untied output embeddings are not supported'
                             .format(path, tied, source))


def _gluon_values(tensors, family: TransformersMapping, kind: str, config, path) -> Tuple[Dict[str, np.ndarray], bool]:
    """(Gluon parameter name -> array, whether there is a pooler) for the model import_hf builds; a tensor with no
    place, or a place with no tensor, is an error."""
    prefixed = any(name.startswith(family.prefix) for name in tensors)
    has_pooler = family.pooler_probe(prefixed) in tensors
    cls, record = family.classes[kind], checkpoint_kind(kind)
    if record.needs_pooler(family) and not has_pooler:
        raise InputError('{}: {} needs the pooler, which the checkpoint does not have'.format(path, cls))
    hf_prefix = family.prefix if prefixed else ''
    skip = {hf_prefix + name for name in family.ignored} | {tied for tied, _ in family.tied}
    if record.pooler == 'never':
        if has_pooler and family.pooler_in_backbone:
            # transformers before 4.0 built BertForTokenClassification and BertForQuestionAnswering with a pooler
            # that nothing reads, and checkpoints of that time still hold it; transformers drops it on loading, and
            # so does this import (the Gluon token heads sit on a backbone without a pooler)
            log.info('%s: a %s reads no pooler; its pooler tensors are left out', path, cls)
            skip.update(family.pooler_names(prefixed))
        has_pooler = False
    plan = family.plan(kind, config, has_pooler, prefixed)
    _check_tied(family, tensors, path)
    unused = sorted(name for name in tensors if name not in plan and name not in skip)
    if unused:
        raise InputError('{}: {} tensor(s) have no place in a {} ({}); nothing was written'.format(
            path, len(unused), cls, ', '.join(unused[:6]) + (' ...' if len(unused) > 6 else '')))
    missing = sorted(hf for hf in plan if hf not in tensors)
    if missing:
        raise InputError('{}: the checkpoint lacks {} tensor(s) a {} needs ({}); nothing was written'.format(
            path, len(missing), cls, ', '.join(missing[:6]) + (' ...' if len(missing) > 6 else '')))
    for name in plan:  # formats without checksums: what a damaged value can be seen to be
        if tensors[name].dtype.kind != 'f':
            raise InputError('{}: {} holds {} values where a weight holds floats; the file is damaged or not a '
                             'checkpoint of this model: download or save it again'.format(path, name,
                                                                                         tensors[name].dtype))
        if not np.isfinite(tensors[name]).all():
            raise InputError('{}: {} holds values that are not finite (NaN or infinity); the file is damaged or the '
                             'model diverged: download or save it again'.format(path, name))
    return {gluon: tensors[hf] for hf, gluon in plan.items()}, has_pooler


def _check_scores_per_position(values: Dict[str, np.ndarray], wanted: int, cls: str, path) -> None:
    """A head that must give ``wanted`` scores per position: a question-answering checkpoint scores exactly a start
    and an end (transformers splits its logits in two the same way, but only DistilBERT's class checks num_labels)."""
    rows = values['output.weight'].shape[0]
    if rows != wanted:
        raise InputError('{}: the {}\'s qa_outputs gives {} scores per position; a span head reads {} (start, end)'
                         .format(path, cls, rows, wanted))


def set_parameters(model, values: Dict[str, np.ndarray], ctx=None) -> None:
    """Give every parameter of ``model`` its array (by Gluon name); tied parameters once. Shapes must agree."""
    ctx = ctx or mx.cpu()
    initialize_random(model, ctx)
    done = set()
    params = model._collect_params_with_prefix()
    for name, param in params.items():
        if id(param) in done:
            continue
        if name not in values:
            raise InputError('no tensor for parameter {} of the Gluon model'.format(name))
        value = values[name]
        # a dimension the Gluon model learns from its input (0: a Dense without in_units) takes any size
        if param.shape is not None and (len(param.shape) != value.ndim or any(
                known and known != size for known, size in zip(param.shape, value.shape))):
            raise InputError('{}: the checkpoint\'s tensor has shape {}, the Gluon model needs ({})'.format(
                name, value.shape, ', '.join(str(known) if known else 'any' for known in param.shape)))
        if param._deferred_init:  # a Dense without in_units learns its shape here rather than at a first forward
            param.shape = value.shape
            param._finish_deferred_init()
        param.set_data(mx.nd.array(value, ctx=ctx, dtype='float32'))
        done.add(id(param))


def _finetuning_section(task: TaskKind, labels: Optional[List[str]], source_class: str,
                        max_seq_length: int) -> Dict[str, Any]:
    """What FineTunedModel needs to predict with an imported head: its task kind, and what its structure reads by
    default (a table with a ``text`` and a ``label`` column; else the structure's first file format: KLUE-NER files
    for a token classifier, SQuAD files for a span extractor)."""
    pipeline = PIPELINES.get(task.structure)
    table = TableSpec(text_columns=('text',), label_column='label') if pipeline.reads_tables else None
    spec = TaskSpec(name='imported', kind=task.name, metric=task.default_metric, table=table,
                    labels=tuple(labels) if labels else None,
                    data_format=None if pipeline.reads_tables else pipeline.data_formats[0],
                    description='imported from a transformers {}'.format(source_class))
    return {'task': spec.to_dict(), 'labels': labels, 'max_seq_length': max_seq_length, 'trained_on': None}


def _max_seq_length(hf: Dict[str, Any], config) -> int:
    """The input length an imported head predicts with: ``model_max_length`` of ``tokenizer_config.json`` (what
    transformers truncates at, and what export-hf writes from the fine-tuned ``max_seq_length``) when it fits the
    position table; else the smaller of 512 and the positions (transformers writes 1e30 for "no limit")."""
    value = getattr(hf, 'model_max_length', None)
    if isinstance(value, int) and not isinstance(value, bool) and 2 < value <= config.max_length:
        return value
    return min(512, config.max_length)


def import_hf(src, out, tokenizer=None, overwrite: bool = False, cachedir=None, revision: str = 'main',
              labels=None) -> Path:
    """Convert the transformers checkpoint ``src`` into the model folder ``out``; returns ``out``.

    ``src`` is a local folder, or a hub repo id (``skt/kobert-base-v1``) fetched at ``revision`` into the cache and
    verified (:func:`fetch_checkpoint`). ``tokenizer``: a folder with the tokenizer to use when ``src`` has none (a
    kobert-gluon model or vocabulary folder, or a SentencePiece model with ``vocab.txt``). ``labels``: the label
    names of a sequence or token classifier in id order (a list of str), for a checkpoint whose ``id2label`` is
    transformers' default ``LABEL_<i>``; a token classifier needs them (its tags, BIO or IO, with ``O``), and a
    config that names its labels must agree with them.
    """
    if not isinstance(src, (str, Path)):
        raise InputError('import_hf: src must be a checkpoint folder or a hub repo id (a str or Path), got {!r}'
                         .format(src))
    if labels is not None and (isinstance(labels, str) or not all(isinstance(label, str) and label
                                                                 for label in labels)):
        raise InputError('import_hf: labels must be a list of label names (str) in id order, got {!r}'
                         .format(labels))
    labels = None if labels is None else list(labels)
    source = {'source': Path(str(src)).name}
    if hf_hub.is_repo_id(src):
        try:
            folder = fetch_checkpoint(str(src), revision, cachedir=cachedir)
        except KobertGluonError as err:  # "owner/name" is also how a mistyped local path looks
            raise type(err)('{}: no such local folder; as a hub repo id: {}'.format(src, err)) from None
        source = {'source': str(src), 'revision': revision, 'commit': folder.name}
        src = folder
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError('{}: no such folder (give a transformers checkpoint folder or a hub repo id, '
                                'owner/name)'.format(src))
    phase('reading the checkpoint in {}'.format(src))
    hf, tensors = read_checkpoint(src)
    family, kind = family_of_checkpoint(hf, src / HF_CONFIG)
    config = family.config_from_hf(hf, src / HF_CONFIG)
    found = tokenizer_for(src, tokenizer, config.vocab_size, family, cachedir=cachedir)
    converted_from = dict(format='transformers', architecture=family.classes[kind], **source,
                          transformers_version=hf.get('transformers_version'))
    return save_converted(hf, tensors, family, kind, found, out, converted_from, src, overwrite=overwrite,
                          inputs=[src, tokenizer], labels=labels)


def save_converted(hf: Dict[str, Any], tensors: Dict[str, np.ndarray], family: TransformersMapping, kind: str,
                   tokenizer, out, converted_from: Dict[str, Any], src: Path, max_seq_length: Optional[int] = None,
                   overwrite: bool = False, inputs=(), config_path: Optional[Path] = None,
                   labels: Optional[List[str]] = None) -> Path:
    """The model folder ``out`` of ``tensors`` named as transformers names them, a ``kind`` checkpoint of ``family``
    with the transformers config ``hf`` (``config_path``, by default ``src/config.json``; ``src`` names the
    checkpoint in messages): every tensor placed, the heads built, the tokenizer's files beside them. ``labels``:
    a classifier's label names in id order where its config names none. ``max_seq_length``: the input length a head
    predicts with (None: the checkpoint's own, :func:`_max_seq_length`). What import-hf and import-tf share."""
    config_path = config_path or src / HF_CONFIG
    config = family.config_from_hf(hf, config_path)
    max_seq_length = max_seq_length or _max_seq_length(hf, config)
    if len(tokenizer.vocab) != config.vocab_size:
        raise InputError('the tokenizer has {} tokens but the checkpoint\'s embeddings have {}'
                         .format(len(tokenizer.vocab), config.vocab_size))
    values, has_pooler = _gluon_values(tensors, family, kind, config, src)
    record = checkpoint_kind(kind)
    if record.scores_per_position:
        _check_scores_per_position(values, record.scores_per_position, family.classes[kind], src)
    task = _checkpoint_task(kind, hf, config_path, values) if record.task_head else None
    if task is not None and task.has_classes:
        labels = _head_labels(hf, config_path, kind, values['output.weight'].shape[0], labels)
    elif labels is not None:
        regressor = task is not None and task.problem_type and not task.has_classes
        what = '{} (one score)'.format(task.head_kind) if regressor else family.classes[kind]
        raise InputError('--labels: {} is a {}, which has no labels (they name the scores of a sequence or token '
                         'classifier)'.format(src, what))
    phase('building the {} and placing its {:,} tensors'.format(family.classes[kind], len(values)))
    backbone = get_architecture(family.architecture).build(config, **family.backbone_heads(kind, has_pooler))
    # DistilBertForQuestionAnswering's qa_dropout has no counterpart: the span head has no dropout, as
    # BertForQuestionAnswering and ElectraForQuestionAnswering have none (outputs in inference are the same)
    model = backbone if task is None else task.build_head(backbone, labels, family.head_dropout(kind, hf))
    set_parameters(model, values)
    phase('writing the model folder {}'.format(out))
    extra = {'converted_from': {k: v for k, v in converted_from.items() if v is not None}}
    if task is not None:
        extra['finetuning'] = _finetuning_section(task, labels, family.classes[kind], max_seq_length)
    return save_model(model, tokenizer.vocab, out, tokenizer, extra=extra, overwrite=overwrite, inputs=inputs)


# ----- export --------------------------------------------------------------------------------------------------------
def _hf_config(family: TransformersMapping, config, kind: str, vocab, model,
               task: Optional[TaskKind] = None) -> Dict[str, Any]:
    """transformers' ``config.json`` of a ``kind`` export; ``task``: the task kind of a head (None: a backbone)."""
    document = {'architectures': [family.classes[kind]], **family.hf_config(config),
                'pad_token_id': vocab[vocab.padding_token]}
    if task is None:
        return document
    labels = list(model.labels) if task.has_classes else ['score'] if task.problem_type else []
    if labels:
        document.update(num_labels=len(labels), id2label={str(i): label for i, label in enumerate(labels)},
                        label2id={label: i for i, label in enumerate(labels)})
    else:
        document['num_labels'] = 2  # qa_outputs: start and end
    if task.problem_type:
        document['problem_type'] = task.problem_type
    # DistilBERT's token head drops out at the encoder's rate (its key is the encoder's ``dropout``), which the
    # encoder's value already fills; the other families have a key of the head's own
    key = family.head_dropout_key(kind)
    if key is not None and key not in document:
        document[key] = model.dropout_rate
    return document


def _export_task(document) -> Optional[TaskKind]:
    """The task kind of a model folder's head: its fine-tuning section's, else the first kind that saves such a head
    (None: no head)."""
    finetuning = document.get('finetuning')
    if finetuning:
        return get_task_kind(finetuning['task']['kind'])
    task = document.get('task')
    return task_kind_of_head(task.get('kind')) if task else None


def _export_kind(family: TransformersMapping, document, task: Optional[TaskKind]) -> str:
    if task is not None:
        if task.checkpoint_kind is None:
            raise InputError('export-hf writes the heads of {}, not a {} head'.format(
                ', '.join(sorted({k.head_kind for k in map(get_task_kind, task_kinds()) if k.checkpoint_kind})),
                task.head_kind))
        return task.checkpoint_kind
    heads = document['heads']
    for record in CHECKPOINT_KINDS.values():  # the backbone kinds with heads, in order: lm, then masked_lm
        wanted = record.optional_heads_of(family)
        if record.name in family.classes and wanted and all(heads.get(name) for name, on in wanted.items() if on):
            return record.name
    return 'base'


def export_hf(model_or_folder, out, overwrite: bool = False) -> Path:
    """Write the model folder (or registered shipped model) ``model_or_folder`` as a transformers checkpoint in
    ``out``: ``config.json``, ``model.safetensors``, ``tokenizer.model`` and ``vocab.txt``.

    A fine-tuned classifier or regressor becomes ``BertForSequenceClassification`` (``DistilBert...`` for a
    DistilBERT, ``Electra...`` for an ELECTRA), a token classifier ``BertForTokenClassification`` (its labels as
    ``id2label``), a span extractor ``BertForQuestionAnswering``, a model with the pretraining heads
    ``BertForPreTraining`` (``DistilBertForMaskedLM``, ``ElectraForPreTraining``), anything else ``BertModel``
    (``DistilBertModel``; a DistilBERT's pre-classifier belongs to the classification head there, so a bare
    backbone's is not written).
    """
    from safetensors.numpy import save_file
    source = resolve_model(model_folder_of(model_or_folder))
    folder, document, config = source.folder, source.document, source.config
    family = family_of_architecture(document['architecture'])
    phase('loading {}'.format(folder))
    model, vocab = source.build()
    tokenizer = source.tokenizer
    task = _export_task(document)
    kind = _export_kind(family, document, task)
    record = checkpoint_kind(kind)
    has_pooler = record.pooled(family, bool(document['heads'].get('use_pooler', False)))
    plan = family.plan(kind, config, has_pooler, prefixed=record.under_prefix)
    params = model._collect_params_with_prefix()
    missing = sorted(g for g in plan.values() if g not in params)
    if missing:
        raise InputError('{}: the model has no parameter(s) {}'.format(folder, ', '.join(missing)))
    tensors = {hf: np.ascontiguousarray(params[gluon].data().asnumpy().astype(np.float32))
               for hf, gluon in plan.items()}
    hf_config = _hf_config(family, config, kind, vocab, model, task)
    # the length the model was fine-tuned at travels as transformers' own setting, so an import gets it back
    max_seq_length = (document.get('finetuning') or {}).get('max_seq_length') or config.max_length
    # the family's own tokenizer files, else those of the tokenizer's kind
    write_tokenizer = family.tokenizer_writer or transformers_writer(tokenizer.kind)

    phase('writing {:,} tensors as a {} to {}'.format(len(tensors), family.classes[kind], out))

    def write(tmp: Path):
        save_file(tensors, str(tmp / SAFETENSORS), metadata={'format': 'pt'})
        write_json(tmp / HF_CONFIG, hf_config)
        write_tokenizer(tokenizer, tmp, max_seq_length)

    return write_folder_atomically(out, EXPORT_KIND, write, overwrite=overwrite, inputs=[folder])


def to_transformers_bert_model(bert, vocab, model_class=None):
    """A transformers ``BertModel`` (eval mode; ``model_class``: a subclass of it) holding the weights of the Gluon
    ``BERTModel`` ``bert``, built in memory (torch and transformers needed: ``pip install "kobert-gluon[pytorch]"``)."""
    try:
        import torch
        import transformers
    except ImportError as err:
        raise InputError('a transformers model needs torch and transformers ({}); run: pip install '
                         '"kobert-gluon[pytorch]"'.format(err)) from None
    config = bert.kobert_config
    outputs = outputs_of(bert)
    pooler = any(output.name == 'pooled_output' for output in outputs)
    params = bert._collect_params_with_prefix()
    if any(param._deferred_init for param in params.values()):  # loaded but never run: shapes are not set yet
        ids = mx.nd.array([[2, 3]])
        # a head over the masked positions (the masked-LM decoder) needs them as a fourth input
        extra = (mx.nd.array([[1]]),) if not all(output.follows_inputs for output in outputs) else ()
        bert(ids, mx.nd.zeros_like(ids), mx.nd.array([2]), *extra)
    mapping = get_family('bert').transformers
    plan = mapping.plan('base', config, has_pooler=pooler, prefixed=False)
    state = {hf: torch.from_numpy(params[gluon].data().asnumpy().astype(np.float32)) for hf, gluon in plan.items()}
    model = (model_class or transformers.BertModel)(
        transformers.BertConfig(**_hf_config(mapping, config, 'base', vocab, bert)), add_pooling_layer=pooler)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith('position_ids')]
    if missing or unexpected:
        raise InputError('transformers BertModel and the Gluon model disagree: missing {}, unexpected {}'
                         .format(missing, unexpected))
    return model.eval()
