"""How a family's transformers checkpoints map onto its Gluon model: the :class:`TransformersMapping` each family
folder fills in with its own name tables and config functions, and the names all families share. Data and name
plans only (no torch, no MXNet); :mod:`kobert_gluon.convert.huggingface` reads and writes the tensors.

A *kind* says which transformers class a checkpoint is: ``base`` (``BertModel``, ``DistilBertModel``), ``lm``
(the pretraining heads: ``BertForPreTraining``, MLM + NSP; ``ElectraForPreTraining``, the discriminator),
``masked_lm`` (the masked-LM head alone: ``BertForMaskedLM``, ``DistilBertForMaskedLM``, ``ElectraForMaskedLM``, a
generator), ``classification`` (``...ForSequenceClassification``,
classification or regression), ``token_classification`` (``...ForTokenClassification``) or ``question_answering``
(``...ForQuestionAnswering``). Gluon task heads keep the backbone under ``bert.``; transformers keeps it under the
family's prefix (``bert.``, ``distilbert.``) in every class but the base one. The last two kinds read every position,
so their backbone has no pooler on either side (transformers builds them with ``add_pooling_layer=False``).

Each table is data: ``(transformers name, Gluon name)``, with ``{i}`` standing for a layer index. transformers'
``nn.Linear`` and Gluon's ``Dense`` both store weights as ``(out, in)``, so no tensor is transposed; LayerNorm's
``weight``/``bias`` are Gluon's ``gamma``/``beta``. transformers' names are given without the family prefix.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..core.errors import InputError

__all__ = ['TransformersMapping', 'CheckpointKind', 'CHECKPOINT_KINDS', 'KINDS', 'checkpoint_kind', 'ENCODER_LAYER',
           'TOKEN_CLASSIFIER_HEAD', 'QUESTION_ANSWERING_HEAD', 'layer_pairs', 'checked_activation', 'check_absolute_positions',
           'tf_variable_name', 'tf_tensors', 'keras_weight_name']

@dataclass(frozen=True)
class CheckpointKind:
    """What one kind of transformers checkpoint is to the converter, so that it reads these fields instead of
    branching on kind names. ``head_table`` and ``optional_heads`` name the :class:`TransformersMapping` fields that
    hold, per family, the names of its head's tensors and the Gluon backbone's optional heads it is built with (''
    for none: the pooler alone). ``task_head``: the Gluon model is a task head over a backbone kept as ``bert.``.
    ``pooler``: ``'never'`` (transformers builds the class without one, ``add_pooling_layer=False``), ``'read'`` (its
    head reads the pooled output, wherever the family keeps it) or ``'if held'``. ``dropout_key`` and
    ``dropout_fallback``: the mapping fields naming the config key of the dropout before its head and the (key,
    default) read where that one is absent or null. ``entity_tags``: its labels are tags decoded into entities, so
    they must be named. ``scores_per_position``: the number of scores its head must give per position (0: any).
    ``under_prefix``: transformers keeps the backbone under the family's prefix (``bert.``), as in every class but
    the bare model."""
    name: str
    head_table: str = ''
    optional_heads: str = ''
    task_head: bool = False
    pooler: str = 'if held'
    dropout_key: str = ''
    dropout_fallback: str = ''
    entity_tags: bool = False
    scores_per_position: int = 0
    under_prefix: bool = True

    def pooled(self, family: 'TransformersMapping', use_pooler: bool) -> bool:
        """Whether a model of this kind (its Gluon backbone built with ``use_pooler``) has a pooler transformers
        names: never for an unpooled kind; where the head reads it, always; else where the backbone keeps it."""
        if self.pooler == 'never' or not use_pooler:
            return False
        return self.pooler == 'read' or family.pooler_in_backbone

    def needs_pooler(self, family: 'TransformersMapping') -> bool:
        """Whether a checkpoint of this kind must hold the family's backbone pooler (BERT's classifier and NSP head
        read it)."""
        built = self.pooler == 'read' or self.optional_heads_of(family).get('use_pooler', False)
        return family.pooler_in_backbone and built

    def optional_heads_of(self, family: 'TransformersMapping') -> Dict[str, bool]:
        return dict(getattr(family, self.optional_heads)) if self.optional_heads else {}


# The kinds, in the order a folder's heads are matched against them on export (the first whose heads it has):
# ``base`` (BertModel), ``lm`` (the pretraining heads: BertForPreTraining, MLM + NSP; ElectraForPreTraining, the
# discriminator), ``masked_lm`` (the masked-LM head alone; an ELECTRA generator), then the task heads.
CHECKPOINT_KINDS: Dict[str, CheckpointKind] = {kind.name: kind for kind in (
    CheckpointKind('base', under_prefix=False),
    CheckpointKind('lm', head_table='lm_head', optional_heads='lm_heads'),
    CheckpointKind('masked_lm', head_table='masked_lm_head', optional_heads='masked_lm_heads', pooler='never'),
    CheckpointKind('classification', head_table='sequence_head', task_head=True, pooler='read',
                   dropout_key='classifier_dropout_key', dropout_fallback='classifier_dropout_fallback'),
    CheckpointKind('token_classification', head_table='token_head', task_head=True, pooler='never',
                   dropout_key='token_dropout_key', dropout_fallback='token_dropout_fallback', entity_tags=True),
    CheckpointKind('question_answering', head_table='span_head', task_head=True, pooler='never',
                   scores_per_position=2),
)}
KINDS = tuple(CHECKPOINT_KINDS)


def checkpoint_kind(name: str) -> CheckpointKind:
    try:
        return CHECKPOINT_KINDS[name]
    except KeyError:
        raise InputError('{!r} is not a transformers checkpoint kind; the kinds are {}'.format(
            name, ', '.join(KINDS))) from None


# One post-LayerNorm encoder layer as BERT names it (ELECTRA and RoBERTa keep the same names under their prefix) ->
# GluonNLP's BERTEncoderCell.
ENCODER_LAYER: List[Tuple[str, str]] = [
    ('encoder.layer.{i}.attention.self.query.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_query.weight'),
    ('encoder.layer.{i}.attention.self.query.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_query.bias'),
    ('encoder.layer.{i}.attention.self.key.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_key.weight'),
    ('encoder.layer.{i}.attention.self.key.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_key.bias'),
    ('encoder.layer.{i}.attention.self.value.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_value.weight'),
    ('encoder.layer.{i}.attention.self.value.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_value.bias'),
    ('encoder.layer.{i}.attention.output.dense.weight', 'encoder.transformer_cells.{i}.proj.weight'),
    ('encoder.layer.{i}.attention.output.dense.bias', 'encoder.transformer_cells.{i}.proj.bias'),
    ('encoder.layer.{i}.attention.output.LayerNorm.weight', 'encoder.transformer_cells.{i}.layer_norm.gamma'),
    ('encoder.layer.{i}.attention.output.LayerNorm.bias', 'encoder.transformer_cells.{i}.layer_norm.beta'),
    ('encoder.layer.{i}.intermediate.dense.weight', 'encoder.transformer_cells.{i}.ffn.ffn_1.weight'),
    ('encoder.layer.{i}.intermediate.dense.bias', 'encoder.transformer_cells.{i}.ffn.ffn_1.bias'),
    ('encoder.layer.{i}.output.dense.weight', 'encoder.transformer_cells.{i}.ffn.ffn_2.weight'),
    ('encoder.layer.{i}.output.dense.bias', 'encoder.transformer_cells.{i}.ffn.ffn_2.bias'),
    ('encoder.layer.{i}.output.LayerNorm.weight', 'encoder.transformer_cells.{i}.ffn.layer_norm.gamma'),
    ('encoder.layer.{i}.output.LayerNorm.bias', 'encoder.transformer_cells.{i}.ffn.layer_norm.beta'),
]


def layer_pairs(table: List[Tuple[str, str]], num_layers: int) -> List[Tuple[str, str]]:
    """``table`` (names with ``{i}``) for layers ``0 .. num_layers - 1``."""
    return [(hf.format(i=i), gluon.format(i=i)) for i in range(num_layers) for hf, gluon in table]


def checked_activation(hf: Dict[str, Any], path, supported=('gelu', 'relu'), key='hidden_act') -> str:
    """The activation a transformers config names, refused unless the Gluon encoder has it exactly."""
    activation = hf.get(key, 'gelu')
    if activation not in supported:
        raise InputError('{}: {} {!r} is not supported (the Gluon encoder has the exact "gelu" and "relu")'
                         .format(path, key, activation))
    return activation


# TensorFlow embedding tables are variables without a suffix; transformers names them ``...embeddings.weight``
_TF_TABLES = ('word_embeddings', 'token_type_embeddings', 'position_embeddings')
# What a TensorFlow training checkpoint also holds that is not a weight of the model
_TF_NOT_WEIGHTS = ('adam_m', 'adam_v', 'global_step', 'good_steps', 'loss_scale')


def tf_variable_name(name: str) -> Optional[Tuple[str, bool]]:
    """The transformers name of one variable of Google's TensorFlow BERT code (and of the ELECTRA code built on it),
    and whether its matrix must be transposed (a TensorFlow dense ``kernel`` is (in, out), transformers' Linear
    weight (out, in)); None for what is not a weight (``global_step``, the optimizer's ``adam_m``/``adam_v``).
    ``bert/encoder/layer_3/attention/self/query/kernel`` is ``bert.encoder.layer.3.attention.self.query.weight``;
    ``gamma``/``beta`` are LayerNorm's ``weight``/``bias``; ``output_weights``/``output_bias`` a head's."""
    parts = name.split('/')
    if parts[-1] in _TF_NOT_WEIGHTS or any(part.startswith('Adam') for part in parts):
        return None
    names, transpose = [], False
    for part in parts:
        if part.startswith('layer_') and part[len('layer_'):].isdigit():
            names += ['layer', part[len('layer_'):]]
        elif part == 'kernel':
            names.append('weight')
            transpose = True
        elif part in ('gamma', 'output_weights'):
            names.append('weight')
        elif part in ('beta', 'output_bias'):
            names.append('bias')
        else:
            names.append(part)
    if parts[-1] in _TF_TABLES:
        names.append('weight')
    return '.'.join(names), transpose


def keras_weight_name(name: str) -> Tuple[str, bool]:
    """The transformers (PyTorch) name of one weight of transformers' own TensorFlow model as its ``tf_model.h5``
    holds it, and whether its matrix must be transposed; the renaming transformers' TensorFlow-to-PyTorch conversion
    does: ``tf_bert_for_pre_training/mlm___cls/predictions/bias:0`` is ``cls.predictions.bias`` (``A___B`` is ``B``,
    ``layer_._0`` is ``layer.0``, the model's own name is dropped; ``kernel`` is a transposed ``weight``,
    ``embeddings`` and ``gamma`` are ``weight``, ``beta`` is ``bias``)."""
    import re
    name = name.split(':')[0]
    name = re.sub(r'/[^/]*___([^/]*)/', r'/\1/', name)
    name = re.sub(r'//+', '/', name.replace('_._', '/'))
    parts = name.split('/')
    parts = parts[1:] if len(parts) > 1 else parts
    transpose = parts[-1] == 'kernel'
    parts[-1] = {'kernel': 'weight', 'embeddings': 'weight', 'gamma': 'weight', 'beta': 'bias'}.get(parts[-1],
                                                                                                  parts[-1])
    return '.'.join(parts), transpose


def tf_tensors(variables: Dict[str, Any]) -> Dict[str, Any]:
    """TensorFlow variables (already renamed to the transformers layout's scopes) as transformers-named tensors."""
    tensors = {}
    for name, array in variables.items():
        translated = tf_variable_name(name)
        if translated is not None:
            tensors[translated[0]] = array.T.copy() if translated[1] else array
    return tensors


def check_absolute_positions(hf: Dict[str, Any], path) -> None:
    if hf.get('position_embedding_type', 'absolute') != 'absolute':
        raise InputError('{}: position_embedding_type {!r} is not supported (only "absolute")'
                         .format(path, hf.get('position_embedding_type')))


# ----- heads over every position: the same names in all three families ----------------------------------------
# ``*ForTokenClassification``'s ``classifier`` (a plain Linear, also in ELECTRA's, unlike its sentence head) ->
# kobert_gluon's TokenClassifier ``output``.
TOKEN_CLASSIFIER_HEAD: List[Tuple[str, str]] = [
    ('classifier.weight', 'output.weight'),
    ('classifier.bias', 'output.bias'),
]

# ``*ForQuestionAnswering``'s ``qa_outputs`` (Linear(hidden, 2); transformers splits its logits into start = [..., 0]
# and end = [..., 1]) -> kobert_gluon's SpanExtractor ``output``, whose [..., 0] / [..., 1] are start / end too.
QUESTION_ANSWERING_HEAD: List[Tuple[str, str]] = [
    ('qa_outputs.weight', 'output.weight'),
    ('qa_outputs.bias', 'output.bias'),
]


@dataclass(frozen=True)
class TransformersMapping:
    model_type: str                        # transformers' config.model_type
    architecture: str                      # the Gluon architecture (models.architecture_registry)
    prefix: str                            # where transformers' task classes keep the backbone
    classes: Dict[str, str]                # kind -> transformers class name
    config_from_hf: Callable[[Dict[str, Any], Any], Any]
    hf_config: Callable[[Any], Dict[str, Any]]
    backbone_map: Callable[[Any], Dict[str, str]]  # the Gluon config -> its backbone's name plan
    pooler: List[Tuple[str, str]]          # transformers -> Gluon names of what the Gluon model calls its pooler
    pooler_in_backbone: bool               # under the backbone prefix (BERT's pooler) or in the head (pre_classifier)
    lm_head: List[Tuple[str, str]]
    sequence_head: List[Tuple[str, str]]
    tied: List[Tuple[str, str]]
    lm_heads: Dict[str, bool]              # the Gluon optional heads of the lm kind
    classifier_dropout_key: str            # the config key of the classification head's dropout
    classifier_dropout_fallback: Tuple[str, float]  # (key, default) read when that one is absent or null
    token_dropout_key: str                 # the config key of the token classification head's dropout
    token_dropout_fallback: Tuple[str, float]
    token_head: List[Tuple[str, str]] = field(default_factory=lambda: list(TOKEN_CLASSIFIER_HEAD))
    span_head: List[Tuple[str, str]] = field(default_factory=lambda: list(QUESTION_ANSWERING_HEAD))
    # The masked-LM head alone (``...ForMaskedLM``) and the Gluon optional heads of that kind (none: no such class)
    masked_lm_head: List[Tuple[str, str]] = field(default_factory=list)
    masked_lm_heads: Dict[str, bool] = field(default_factory=dict)
    # Backbone tensors (names under the prefix) a checkpoint may hold that the Gluon model does not keep: buffers
    # that are not parameters, or weights the family's transformers classes create untrained (RoBERTa's pooler)
    ignored: Tuple[str, ...] = ('embeddings.position_ids',)
    # The family's own tokenizer files, where its checkpoints bring a tokenizer the generic reader does not know:
    # ``tokenizer_reader(folder) -> tokenizer or None`` and ``tokenizer_writer(tokenizer, folder, max_seq_length)``
    # (writes the files transformers reads, tokenizer_config.json included). None: KoBERT's SentencePiece with
    # vocab.txt, or WordPiece (convert.huggingface's own reader and writer).
    tokenizer_reader: Optional[Callable[[Any], Any]] = None
    tokenizer_writer: Optional[Callable[[Any, Any, int], None]] = None
    # the files ``tokenizer_reader`` reads, named in the message when a checkpoint has none of them
    tokenizer_files: Tuple[str, ...] = ()
    # The family's TensorFlow checkpoints (its original code's variable names): ``tf_checkpoint(variables, part) ->
    # (transformers-named tensors, kind)``; ``part`` picks one model of a checkpoint holding two (ELECTRA's
    # discriminator and generator). None: import-tf does not read this family.
    tf_checkpoint: Optional[Callable[[Dict[str, Any], str], Tuple[Dict[str, Any], str]]] = None
    tf_parts: Tuple[str, ...] = ('model',)

    def head_dropout_key(self, kind: str) -> Optional[str]:
        """The config key of the dropout before a ``kind`` checkpoint's head (None: its head has none, as the span
        head of ``...ForQuestionAnswering``)."""
        field_name = checkpoint_kind(kind).dropout_key
        return getattr(self, field_name) if field_name else None

    def head_dropout(self, kind: str, hf: Dict[str, Any]) -> Optional[float]:
        """The dropout transformers puts before a ``kind`` checkpoint's head for the config ``hf`` (None: none):
        the head's own key, else the family's fallback when that one is absent or null."""
        record = checkpoint_kind(kind)
        if not record.dropout_key:
            return None
        value = hf.get(getattr(self, record.dropout_key))
        return value if value is not None else hf.get(*getattr(self, record.dropout_fallback))

    def kind_of_class(self, name: str) -> Optional[str]:
        return next((kind for kind, cls in self.classes.items() if cls == name), None)

    def pooler_names(self, prefixed: bool) -> List[str]:
        """The transformers names of what the Gluon model calls its pooler, as a checkpoint would hold them."""
        prefix = self.prefix if prefixed and self.pooler_in_backbone else ''
        return [prefix + hf for hf, _ in self.pooler]

    def pooler_probe(self, prefixed: bool) -> str:
        return self.pooler_names(prefixed)[0]

    def plan(self, kind: str, config, has_pooler: bool, prefixed: bool) -> Dict[str, str]:
        """transformers name -> Gluon name of every tensor of a ``kind`` checkpoint of a model of ``config``."""
        record = checkpoint_kind(kind)
        hf_prefix = self.prefix if prefixed else ''
        gluon_prefix = 'bert.' if record.task_head else ''
        plan = {hf_prefix + hf: gluon_prefix + gluon for hf, gluon in self.backbone_map(config).items()}
        if has_pooler and record.pooler != 'never':
            pooler_prefix = hf_prefix if self.pooler_in_backbone else ''
            plan.update({pooler_prefix + hf: gluon_prefix + gluon for hf, gluon in self.pooler})
        plan.update(getattr(self, record.head_table) if record.head_table else ())
        return plan

    def backbone_heads(self, kind: str, has_pooler: bool) -> Dict[str, bool]:
        """The Gluon architecture's optional heads for a ``kind`` model: those of its kind where it has some, else
        none but the pooler (built where the kind's head reads it or the checkpoint holds one)."""
        record = checkpoint_kind(kind)
        if record.optional_heads:
            return record.optional_heads_of(self)
        heads = {name: False for name in {**self.lm_heads, **self.masked_lm_heads}}
        heads['use_pooler'] = record.pooler != 'never' and (has_pooler or record.pooler == 'read')
        return heads
