"""Sentence vectors from any model: ``encode(texts, model, pooling=)`` and the ``encode`` command's encoder.

A model of any family gives one vector per text, pooled from its sequence output in one of three ways:

``pooler``
    the model's pooled output (BERT's dense + tanh on ``[CLS]``; ELECTRA's and DistilBERT's pre-classifier; XLM-R's
    classification pre-head), for a model whose weights hold one;
``cls``
    the first row of the last layer (``[CLS]`` / ``<s>``), as it is;
``mean``
    the mean of the last layer over the text's own positions (padding left out), as sentence-transformers pools.

The default is ``pooler`` where the model's weights hold a pooler, else ``mean``: KoELECTRA discriminators and
generators, masked-LM checkpoints and ``xlm-roberta-base`` have none (a pooler built for them would be random),
and the mean is the pooling sentence-transformers uses by default.
"""
from typing import List, Optional, Sequence, Union

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from .architecture_registry import backbone_heads
from .resolution import ResolvedModel, resolve_model
from .zoo import check_max_seq_length

__all__ = ['POOLINGS', 'SentenceEncoder', 'encode', 'default_pooling']

POOLINGS = ('pooler', 'cls', 'mean')
DEFAULT_MAX_SEQ_LENGTH = 128


def default_pooling(resolved: ResolvedModel) -> str:
    """``pooler`` where the model's weights hold a pooler, else ``mean`` (see the module docstring)."""
    return 'pooler' if resolved.saved_heads.get('use_pooler') else 'mean'


class SentenceEncoder:
    """A model's backbone and tokenizer, loaded once, turning texts into vectors with one pooling."""

    def __init__(self, model='kobert-base', pooling: Optional[str] = None, max_seq_length: Optional[int] = None,
                 pretrained: bool = True, device=None, cachedir=None):
        if pooling is not None and pooling not in POOLINGS:
            raise InputError('pooling must be one of {}, got {!r}'.format(', '.join(POOLINGS), pooling))
        ctx = None
        if device is not None:
            from ..core.devices import parse_devices
            ctx = parse_devices(device)[0]
        resolved = model if isinstance(model, ResolvedModel) else resolve_model(model, cachedir=cachedir)
        if max_seq_length is None:  # the default, cut to the model's positions as the command line cuts it
            max_seq_length = min(DEFAULT_MAX_SEQ_LENGTH, resolved.config.max_length)
        check_max_seq_length(max_seq_length, resolved, option='max_seq_length')
        self.pooling = pooling or default_pooling(resolved)
        if self.pooling == 'pooler':
            if 'use_pooler' not in resolved.architecture.optional_heads:
                raise InputError('a {} model has no pooler; use pooling cls or mean (--pooling cls|mean)'
                                 .format(resolved.architecture.name))
            if pretrained and not resolved.saved_heads.get('use_pooler'):
                raise InputError('{} has no pooler in its weights (a pooler would be random); use pooling mean or '
                                 'cls (--pooling mean|cls)'.format(resolved.given))
        built, _vocab = resolved.build(pretrained=pretrained, ctx=ctx,
                                       **backbone_heads(pooler=self.pooling == 'pooler'))
        self.backbone = getattr(built, 'bert', built)  # a fine-tuned folder's head sits on its backbone
        self.tokenizer = resolved.tokenizer
        self.max_seq_length = max_seq_length
        self.ctx = next(iter(self.backbone.collect_params().values())).list_ctx()[0]
        vocab = self.tokenizer.vocab
        self._padding_id = vocab[vocab.padding_token] if vocab.padding_token is not None else 0

    def encode_batch(self, texts: Sequence[str]):
        """``(vectors, sequence_output, valid_lengths)`` of a batch of texts (numpy; the sequence output padded)."""
        encoded = [self.tokenizer.encode(text, max_seq_length=self.max_seq_length, pad=False) for text in texts]
        width = max(int(valid) for _, valid, _ in encoded)
        ids = np.full((len(texts), width), self._padding_id, dtype=np.float32)
        types = np.zeros((len(texts), width), dtype=np.float32)
        lengths = np.array([int(valid) for _, valid, _ in encoded], dtype=np.float32)
        for row, (row_ids, valid, row_types) in enumerate(encoded):
            ids[row, :int(valid)] = row_ids[:int(valid)]
            types[row, :int(valid)] = row_types[:int(valid)]
        outputs = self.backbone(mx.nd.array(ids, ctx=self.ctx), mx.nd.array(types, ctx=self.ctx),
                                mx.nd.array(lengths, ctx=self.ctx))
        if not isinstance(outputs, (list, tuple)):  # a backbone without a pooler returns its sequence output alone
            outputs = (outputs,)
        sequence = outputs[0].asnumpy()
        if self.pooling == 'pooler':
            vectors = outputs[1].asnumpy()
        elif self.pooling == 'cls':
            vectors = sequence[:, 0]
        else:  # mean over each text's own positions
            mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.float32)
            vectors = (sequence * mask[:, :, None]).sum(axis=1) / lengths[:, None]
        return vectors.astype(np.float32), sequence, lengths.astype(np.int64)

    def __call__(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One vector per text, ``(len(texts), units)`` float32."""
        parts = [self.encode_batch(texts[start:start + batch_size])[0]
                 for start in range(0, len(texts), batch_size)]
        return np.concatenate(parts, axis=0)


def encode(texts: Union[str, List[str]], model='kobert-base', pooling: Optional[str] = None,
           max_seq_length: Optional[int] = None, batch_size: int = 32, pretrained: bool = True, device=None,
           cachedir=None) -> np.ndarray:
    """Sentence vectors of ``texts`` (a list of strings; one string gives one row) from ``model`` (a registered name,
    a model or run folder), ``(len(texts), units)`` float32. ``pooling``: ``'pooler'``, ``'cls'`` or ``'mean'``
    (default: the pooler where the model's weights hold one, else the mean; see the module docstring).
    ``max_seq_length``: longer texts are cut (default 128, or the model's positions if fewer).
    ``pretrained=False`` uses random weights (trying the pipeline)."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
        raise InputError('encode takes a non-empty list of texts (strings); got {!r}'.format(texts)[:200])
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError('batch_size must be a positive integer, got {!r}'.format(batch_size))
    encoder = SentenceEncoder(model, pooling=pooling, max_seq_length=max_seq_length, pretrained=pretrained,
                              device=device, cachedir=cachedir)
    return encoder(list(texts), batch_size=batch_size)
