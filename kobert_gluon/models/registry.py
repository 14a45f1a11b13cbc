"""Architectures: the name a model folder's ``config.json`` (or a catalogue entry) gives -> how to build it.

An architecture is a config class (a frozen dataclass with ``from_dict``, ``to_dict`` and ``replace``), a
``build(config, **optional_heads)`` that returns an uninitialised Gluon block, the config fields that fix
parameter shapes (a pretrained file loads only into a model that agrees on them), and the optional pretraining
heads its builder takes (for BERT: ``use_pooler``, ``use_decoder``, ``use_classifier``).

Built with no pretraining heads but its pooler, every architecture's block is a *backbone*:
``backbone(input_ids, token_type_ids, valid_length) -> (sequence_output, pooled_output)`` (``pooled_output`` is
None for an architecture without a pooler), which is what the heads in :mod:`kobert_gluon.heads` sit on.

Adding a family (DistilBERT, ELECTRA) is a module like :mod:`.bert` plus one :func:`register_architecture` call
below; model folders, the zoo, fine-tuning and export then take it without change.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import mxnet as mx

from ..core.errors import InputError
from ..core.registry import Registry
from . import bert, distilbert, electra

__all__ = ['Architecture', 'register_architecture', 'get_architecture', 'architectures', 'architecture_for_config',
           'initialize_random', 'backbone_heads', 'as_context',
           'DEFAULT_ARCHITECTURE']


@dataclass(frozen=True)
class Architecture:
    name: str
    config_class: type
    build: Callable
    shape_fields: Tuple[str, ...]
    optional_heads: Tuple[str, ...] = ()
    description: str = ''

    def config_from(self, value: Any):
        """A config object of this architecture from a config object or a dict of its fields."""
        if isinstance(value, self.config_class):
            return value
        if isinstance(value, dict):
            return self.config_class.from_dict(value)
        raise InputError('a {} model needs a {} or a dict of its fields, got {}'.format(
            self.name, self.config_class.__name__, type(value).__name__))

    def take_heads(self, options: Dict[str, Any]) -> Dict[str, Any]:
        """Remove and return the head options in ``options`` that this architecture has. A head another
        architecture has (``use_classifier`` for a DistilBERT) may be asked away (False/None) and is dropped;
        asking for it is an error."""
        known = {head for architecture in _ARCHITECTURES.values() for head in architecture.optional_heads}
        heads = {}
        for name in [name for name in options if name in known]:
            value = options.pop(name)
            if name in self.optional_heads:
                heads[name] = value
            elif value:
                raise InputError('a {} model has no {} head ({}=True); its optional heads are {}'.format(
                    self.name, name[4:], name, ', '.join(self.optional_heads)))
        return heads

    def changed_shapes(self, config, overrides: Dict[str, Any]):
        """The shape fields ``overrides`` would change (those cannot change for pretrained weights)."""
        return [k for k in overrides if k in self.shape_fields and overrides[k] != getattr(config, k)]


_ARCHITECTURES: Registry[Architecture] = Registry('architecture',
                                                  'a model written by a newer release may need an upgrade')


def register_architecture(architecture: Architecture) -> Architecture:
    return _ARCHITECTURES.register(architecture.name, architecture)


def get_architecture(name: str) -> Architecture:
    return _ARCHITECTURES.get(name)


def architectures():
    return sorted(_ARCHITECTURES.names())


def backbone_heads(pooler: bool = True) -> Dict[str, bool]:
    """Head options that make any architecture a backbone: no pretraining head, and its pooler for the sentence heads
    (``pooler=False`` for the heads that read every position) (``take_heads`` drops the ones an architecture does
    not have)."""
    heads = {head: False for architecture in _ARCHITECTURES.values() for head in architecture.optional_heads}
    heads['use_pooler'] = pooler
    return heads


def architecture_for_config(config) -> Architecture:
    """The architecture whose config class ``config`` is (exactly, else the closest base class)."""
    for cls in type(config).__mro__:
        for architecture in _ARCHITECTURES.values():
            if architecture.config_class is cls:
                return architecture
    raise InputError('{} is not the config of a registered architecture ({})'.format(
        type(config).__name__, ', '.join(architectures())))


def as_context(ctx) -> 'mx.Context':
    """The MXNet context ``ctx`` names: None (the CPU), an ``mx.Context``, or ``'cpu'``, ``'gpu'``, ``'gpu:1'``."""
    if ctx is None:
        return mx.cpu(0)
    if isinstance(ctx, mx.Context):
        return ctx
    if isinstance(ctx, str):
        kind, _, index = ctx.strip().lower().partition(':')
        if kind in ('cpu', 'gpu') and (not index or index.isdigit()):
            return mx.Context(kind, int(index or 0))
    raise InputError("ctx must be an mxnet context (mx.cpu(), mx.gpu(0)) or a name ('cpu', 'gpu', 'gpu:1'), "
                     "got {!r}".format(ctx))


def initialize_random(model, ctx=None, seed=None) -> None:
    """BERT's initialisation, used for every architecture: weights ~ N(0, 0.02), biases 0, LayerNorm gamma 1
    (their own initialisers)."""
    if seed is not None:
        mx.random.seed(seed)
    model.initialize(init=mx.init.Normal(0.02), ctx=ctx or mx.cpu(0))


register_architecture(Architecture(
    'bert', bert.BertConfig, bert.build_bert, bert.SHAPE_FIELDS, ('use_pooler', 'use_decoder', 'use_classifier'),
    'GluonNLP BERTModel (KoBERT): token, segment and learned position embeddings, post-LayerNorm encoder, '
    'tanh pooler; MLM decoder and next-sentence classifier as optional heads'))

register_architecture(Architecture(
    'distilbert', distilbert.DistilBertConfig, distilbert.build_distilbert, distilbert.SHAPE_FIELDS,
    ('use_pooler', 'use_decoder'),
    'DistilBERT (DistilKoBERT): word and position embeddings (no token types), post-LayerNorm encoder; its ReLU '
    'pre-classifier as the pooler; masked-LM decoder as an optional head'))

register_architecture(Architecture(
    'electra', electra.ElectraConfig, electra.build_electra, electra.SHAPE_FIELDS,
    ('use_pooler', 'use_discriminator', 'use_decoder'),
    'ELECTRA (KoELECTRA): embeddings of their own width projected to the encoder\'s, post-LayerNorm encoder; the '
    'classification pre-head (dense + GELU on [CLS]) as the pooler; replaced-token discriminator and generator '
    'masked-LM decoder as optional heads'))

# The architecture of every model folder written before config.json named one (kobert-gluon 0.1: all BERT).
DEFAULT_ARCHITECTURE = 'bert'
