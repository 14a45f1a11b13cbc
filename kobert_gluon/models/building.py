"""What building a model needs: the architectures, complete (:mod:`.architecture_registry` with every family of
:mod:`.all_families` registered), and the two MXNet helpers every builder's caller uses (``as_context``,
``initialize_random``). Import this module (not :mod:`.architecture_registry`) to look an architecture up.
"""
from ..core.errors import InputError
from ..core.mxnet_stack import mx
from . import all_families  # noqa: F401  (every family registers its architecture)
from .architecture_registry import (Architecture, architecture_for_config, architectures, backbone_heads,  # noqa: F401
                           get_architecture, register_architecture)

__all__ = ['Architecture', 'register_architecture', 'get_architecture', 'architectures', 'architecture_for_config',
           'initialize_random', 'backbone_heads', 'as_context',
           'DEFAULT_ARCHITECTURE']


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


# The architecture of every model folder written before config.json named one (kobert-gluon 0.1: all BERT).
DEFAULT_ARCHITECTURE = 'bert'
