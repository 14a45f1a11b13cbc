"""ELECTRA pretraining (replaced-token detection) on the same shards and the same Trainer as BERT's.

A *generator* (a narrow ELECTRA with the masked-LM head) fills the masked positions of each shard instance; the
tokens it fills are sampled from its softmax (temperature 1; the sample is not differentiated through). The
*discriminator* reads the original sequence with those samples in place and says, for every position, whether
the token was replaced. A sampled token that equals the original counts as original. Loss, as in the ELECTRA paper:
``generator MLM cross-entropy + rtd_weight (50) * discriminator binary cross-entropy`` (mean over the real,
non-padding positions). Generator and discriminator share the token, segment and position embeddings.

The shards are the ones ``create-pretraining-data`` writes for BERT: the generator's input is the shard's
``input_ids`` (BERT's 80/10/10 masking), the originals at the masked positions are ``masked_lm_ids``; the
next-sentence labels are not used.

* :class:`ElectraPretrainingModel` -- the pair, as one block for the trainer (checkpoints hold both);
* :func:`build_electra_pretraining_model` -- both with random weights, the generator ``generator_size`` of the
  discriminator's width;
* :class:`ElectraPretrainingTask` -- the trainer's task: the loss, per-step and dev metrics (generator MLM loss
  and accuracy, RTD loss, accuracy over all real tokens and recall over the replaced ones); ``best/`` is the
  discriminator alone, with its RTD head, ready for ``finetune --model``.
"""
from typing import Any, Dict, Optional

import numpy as np

from ..core.errors import InputError
from ..core.mxnet_stack import mx, nn, autograd
from ..models import folder as model_folder
from ..models.electra import ElectraConfig, build_electra
from .measures import dev_ratios, real_positions

__all__ = ['ElectraPretrainingModel', 'ElectraPretrainingTask', 'build_electra_pretraining_model',
           'DEFAULT_GENERATOR_SIZE', 'DEFAULT_RTD_WEIGHT']

DEFAULT_GENERATOR_SIZE = 0.25  # the ELECTRA paper's best generator: 1/4 to 1/2 of the discriminator
DEFAULT_RTD_WEIGHT = 50.0
_DEV_SAMPLING_SEED = 20201  # dev evaluations draw the same replacements every time


class ElectraPretrainingModel(nn.Block):
    """The discriminator and its generator as one block: the trainer optimises and checkpoints both (shared
    embeddings once). ``kobert_config`` is the discriminator's."""

    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.kobert_config = discriminator.kobert_config


def build_electra_pretraining_model(config: ElectraConfig, generator_size: float = DEFAULT_GENERATOR_SIZE,
                                    seed: int = 0, ctx=None) -> ElectraPretrainingModel:
    """A discriminator of ``config`` (no pooler: ELECTRA pretrains none) and a generator ``generator_size`` of its
    width sharing its embeddings, with BERT's random initialisation following ``seed``."""
    from ..models.building import initialize_random
    if not isinstance(config, ElectraConfig):
        raise InputError('--objective electra trains an ELECTRA; the model given is a {} (choose an electra '
                         'architecture such as koelectra-small-v3 with --from-scratch)'.format(config.family))
    discriminator = build_electra(config, use_pooler=False, use_discriminator=True)
    generator = build_electra(config.generator(generator_size), use_pooler=False, use_decoder=True,
                              shared_embeddings=discriminator)
    model = ElectraPretrainingModel(discriminator, generator)
    initialize_random(model, ctx, seed=seed)
    return model


class ElectraPretrainingTask:
    """The trainer's task for an :class:`ElectraPretrainingModel` on pretraining-shard batches; the best model
    is the one with the lowest dev ``loss`` (MLM + rtd_weight * RTD, on replacements drawn with a fixed seed)."""
    metric = 'loss'
    higher_is_better = False

    def __init__(self, vocab, tokenizer, saved_info: Optional[Dict[str, Any]] = None, param_dtype='float32',
                 rtd_weight: float = DEFAULT_RTD_WEIGHT, ctx=None):
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.saved_info = saved_info or {}
        self.param_dtype = param_dtype
        self.rtd_weight = rtd_weight
        self.ctx = ctx or mx.cpu()
        self._cross_entropy = mx.gluon.loss.SoftmaxCrossEntropyLoss()

    def _forward(self, model, batch, ctx=None):
        ctx = ctx or self.ctx  # None: the task's device (evaluation); training: where the trainer put the batch
        input_ids, segment_ids, valid_length, positions, masked_ids, weights, _ = [
            x.as_in_context(ctx) for x in batch]
        # outputs (sequence, scores): the scores (batch, predictions, vocab)
        mlm_logits = model.generator(input_ids, segment_ids, valid_length, positions)[-1]
        length = input_ids.shape[1]
        with autograd.pause():
            # a sample from the generator's softmax: argmax of logits + Gumbel noise
            uniform = mx.nd.random.uniform(low=1e-10, high=1.0, shape=mlm_logits.shape, ctx=ctx)
            sampled = mx.nd.argmax(mlm_logits.detach() - mx.nd.log(-mx.nd.log(uniform)), axis=-1)
            # (batch, predictions, length): where each real prediction sits (padding predictions have weight 0)
            where = mx.nd.one_hot(positions, length) * weights.expand_dims(axis=-1)
            replaced = mx.nd.clip(where.sum(axis=1), 0, 1)

            def scatter(values):  # (batch, predictions) -> (batch, length), zero off the predicted positions
                return mx.nd.batch_dot(values.astype('float32').expand_dims(axis=1), where).reshape((0, -1))
            dtype = input_ids.dtype
            original = mx.nd.where(replaced, scatter(masked_ids), input_ids.astype('float32'))
            corrupted = mx.nd.where(replaced, scatter(sampled), original)
            labels = (corrupted != original).astype('float32')
            real = real_positions(valid_length, length, ctx)
        rtd_logits = model.discriminator(corrupted.astype(dtype), segment_ids, valid_length)[-1]  # (batch, length)
        # binary cross-entropy with logits, computed stably: max(x, 0) - x * y + log(1 + exp(-|x|))
        rtd_ce = mx.nd.relu(rtd_logits) - rtd_logits * labels + mx.nd.log1p(mx.nd.exp(-mx.nd.abs(rtd_logits)))
        vocab_size = mlm_logits.shape[-1]
        mlm_ce = self._cross_entropy(mlm_logits.reshape((-1, vocab_size)), masked_ids.reshape((-1,)))
        return mlm_ce, mlm_logits, masked_ids, weights.reshape((-1,)), rtd_ce, rtd_logits, labels, real

    @staticmethod
    def _sums(mlm_ce, mlm_logits, masked_ids, weights, rtd_ce, rtd_logits, labels, real):
        """``{metric: (numerator, denominator)}`` of one batch (detached: scoring is not part of the graph)."""
        predicted = mx.nd.argmax(mlm_logits.detach(), axis=-1).reshape((-1,))
        mlm_correct = ((predicted == masked_ids.reshape((-1,)).astype('float32')) * weights).sum()
        said_replaced = (rtd_logits.detach() > 0).astype('float32')
        rtd_correct = ((said_replaced == labels) * real).sum()
        replaced_found = (said_replaced * labels * real).sum()
        predictions, tokens, replaced = weights.sum(), real.sum(), (labels * real).sum()
        return {'mlm_loss': ((mlm_ce.detach() * weights).sum(), predictions),
                'mlm_accuracy': (mlm_correct, predictions),
                'rtd_loss': ((rtd_ce.detach() * real).sum(), tokens),
                'rtd_accuracy': (rtd_correct, tokens),
                'rtd_recall': (replaced_found, replaced),
                'replaced_fraction': (replaced, tokens)}

    def loss(self, model, batch):
        parts = self._forward(model, batch, batch[0].context)
        mlm_ce, weights, rtd_ce, real = parts[0], parts[3], parts[4], parts[7]
        # + 1e-8: a batch whose predictions all have weight 0 contributes no MLM loss instead of NaN
        mlm_loss = (mlm_ce * weights).sum() / (weights.sum() + 1e-8)
        rtd_loss = (rtd_ce * real).sum() / real.sum()
        return mlm_loss + self.rtd_weight * rtd_loss, int(rtd_ce.shape[0]), self._sums(*parts), {
            'mlm': (mlm_loss, weights.sum()), 'rtd': (self.rtd_weight * rtd_loss, real.sum())}

    def evaluate(self, model, data) -> Dict[str, float]:
        mx.random.seed(_DEV_SAMPLING_SEED)  # the trainer reseeds before its next step, so training is unaffected
        metrics = dev_ratios(data.batches(), lambda batch: self._sums(*self._forward(model, batch)))
        metrics['loss'] = metrics['mlm_loss'] + self.rtd_weight * metrics['rtd_loss']
        metrics['mlm_perplexity'] = float(np.exp(min(metrics['mlm_loss'], 50.0)))
        return metrics

    def save_best(self, model, folder):
        model_folder.save_model(model.discriminator, self.vocab, folder, self.tokenizer, param_dtype=self.param_dtype,
                                extra={'pretraining': dict(self.saved_info, objective='electra')}, overwrite=True)
