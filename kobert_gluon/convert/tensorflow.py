"""TensorFlow checkpoints in: what Google's BERT code (``run_pretraining.py``, the BERT walk-through's pretraining) and
the original ELECTRA code save, converted into a model folder without TensorFlow installed.

The checkpoint is read by :mod:`.tf_checkpoint`; its variables are renamed the way transformers' own TensorFlow
loaders rename them (each family's ``tf_checkpoint`` hook, in ``kobert_gluon/models/<family>/transformers.py``) and
then converted exactly as a transformers checkpoint is (:func:`.huggingface.save_converted`): every tensor placed,
the heads the checkpoint has built, the tokenizer's files beside them. The config is the model's JSON:
``bert_config.json`` as Google's code writes it (no ``model_type``: BERT), or a transformers ``config.json``
(``model_type`` ``electra`` for an ELECTRA; the original code keeps its hyper-parameters in flags).
"""
from pathlib import Path
from typing import Optional

from ..core.documents import read_json
from ..core.errors import InputError
from ..core.progress import phase
from ..models.family_registry import transformers_mappings
from ..models.transformers_names import tf_variable_name
from .huggingface import CheckpointConfig, save_converted, tokenizer_for
from .tf_checkpoint import checkpoint_prefix, read_tf_checkpoint

__all__ = ['import_tf']


def _family(hf, path):
    model_type = hf.get('model_type', 'bert')
    readable = [m for m in transformers_mappings() if m.tf_checkpoint is not None]
    family = next((m for m in readable if m.model_type == model_type), None)
    if family is None:
        raise InputError('{}: model_type {!r}; import-tf reads {} checkpoints'.format(
            path, model_type, ' and '.join(m.model_type for m in readable)))
    return family


def _parts_of_others(family):
    return sorted({p for m in transformers_mappings() if len(m.tf_parts) > 1 for p in m.tf_parts})


def _check_config_names_the_family(document, variables, family, config_path: Path) -> None:
    """A config without ``model_type`` means Google's BERT; a checkpoint whose variables are another family's
    (``electra/...``) then fails deep in the renaming: say which field is missing instead."""
    if 'model_type' in document:
        return
    scopes = {name.split('/', 1)[0] for name in variables}
    for other in transformers_mappings():
        if other is not family and other.tf_checkpoint is not None and other.model_type in scopes \
                and family.model_type not in scopes:
            raise InputError('{} has no model_type, so it is read as a {} config, but the checkpoint holds {} '
                             'variables ({}/...): add "model_type": "{}" to the config'.format(
                                 config_path, family.model_type, other.model_type, other.model_type,
                                 other.model_type))


def import_tf(checkpoint, config, out, tokenizer, part: Optional[str] = None, overwrite: bool = False,
              cachedir=None) -> Path:
    """Convert the TensorFlow checkpoint ``checkpoint`` (its prefix, ``PATH/model.ckpt``, its ``.index`` file or the
    folder TensorFlow wrote it in) with the model config ``config`` (a JSON file) into the model folder ``out``.

    ``tokenizer``: what the model was trained with: a WordPiece ``vocab.txt`` (Google's BERT, KoELECTRA), a
    SentencePiece model, a model or vocabulary folder, or a registered model name. ``part``: which model of a
    checkpoint holding two (ELECTRA: ``discriminator``, the default, or ``generator``)."""
    prefix = checkpoint_prefix(checkpoint)
    config_path = Path(str(config))
    document = read_json(config_path)
    if not isinstance(document, dict):
        raise InputError('{}: expected a JSON object of model hyper-parameters'.format(config_path))
    hf = CheckpointConfig(document, config_path)
    family = _family(hf, config_path)
    if part is not None and len(family.tf_parts) < 2:
        raise InputError('--part is for checkpoints that hold two models (ELECTRA: {}); a {} checkpoint holds one: '
                         'leave --part out'.format(' or '.join(_parts_of_others(family)), family.model_type))
    part = part or family.tf_parts[0]
    if part not in family.tf_parts:
        raise InputError('--part {!r}: a {} checkpoint has {}'.format(part, family.model_type,
                                                                      ', '.join(family.tf_parts)))
    if tokenizer is None:
        raise InputError('a TensorFlow checkpoint has no tokenizer files: pass the vocabulary it was trained with '
                         '(--vocab vocab.txt, a SentencePiece .model, a model folder or a registered name)')
    phase('reading the TensorFlow checkpoint {}'.format(prefix))
    variables = read_tf_checkpoint(prefix, keep=lambda name: tf_variable_name(name) is not None)  # no optimizer slots
    _check_config_names_the_family(document, variables, family, config_path)
    tensors, kind = family.tf_checkpoint(variables, part)
    hf = CheckpointConfig({**document, 'model_type': family.model_type, 'architectures': [family.classes[kind]]},
                          config_path)
    model_config = family.config_from_hf(hf, config_path)
    found = tokenizer_for(None, tokenizer, model_config.vocab_size, family, cachedir=cachedir)
    converted_from = {'format': 'tensorflow', 'architecture': family.classes[kind], 'source': prefix.name,
                      'part': part if len(family.tf_parts) > 1 else None}
    try:
        return save_converted(hf, tensors, family, kind, found, out, converted_from, prefix, overwrite=overwrite,
                              inputs=[prefix.parent, config_path, tokenizer], config_path=config_path)
    except InputError as err:
        if len(family.tf_parts) < 2 or 'shape' not in str(err):
            raise
        # one checkpoint, two models of different widths: the likeliest mistake is the other model's config
        raise InputError('{} (reading the {} with {}; is that its config? --part {})'.format(
            err, part, config_path.name, ' or '.join(family.tf_parts))) from None
