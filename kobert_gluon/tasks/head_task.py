"""What the trainer's tasks for a fine-tuned head share (:class:`HeadTask`): one forward pass over the
``(input_ids, valid_length, token_type_ids, label)`` batches every structure's batches give, the task kind's loss
with what it is averaged over (so data-parallel training can divide it by the count over all ranks), and the best
model saved as a fine-tuned model folder. The structures add how they predict and score: sentences
(:class:`~.finetuning.SequenceTask`), tagged text (:class:`~.tagging.TokenTask`), questions
(:class:`~.extractive_qa.QATask`)."""
from typing import Any, Dict, Optional

from ..core.mxnet_stack import mx
from ..core.progress import steps as progress_steps
from ..models import folder as model_folder

__all__ = ['HeadTask']


class HeadTask:
    """``loss_unit``: what the kind's loss is a mean over (``examples``, or, with :meth:`loss_count`, labelled
    pieces); ``saved_info`` goes into the best model's ``finetuning`` section."""
    higher_is_better = True
    loss_unit = 'examples'

    def __init__(self, spec, vocab=None, tokenizer=None, saved_info: Optional[Dict[str, Any]] = None, ctx=None):
        self.spec = spec
        self.metric = spec.metric
        self.kind = spec.task_kind
        self.vocab = vocab
        self.tokenizer = tokenizer  # a tokenizer object, or (0.1) a SentencePiece model path
        self.saved_info = saved_info or {}
        self.ctx = ctx or mx.cpu()

    def _forward(self, model, batch, ctx=None):
        """The model's output and the labels of ``batch``, computed on ``ctx`` (None: the task's device)."""
        ctx = ctx or self.ctx
        input_ids, valid_length, token_types, label = [x.as_in_context(ctx) for x in batch]
        return model(input_ids, token_types, valid_length), label

    def each_batch(self, data, unit: str):
        """``(indices, batch)`` of every batch of ``data`` in order (epoch 0: unshuffled), counted in ``unit`` on
        stderr where the command line shows progress (evaluate, predict; silent in the API and in a server)."""
        with progress_steps(total=len(data), desc='predicting', unit=unit) as bar:
            for indices, batch in zip(data.batch_indices(0), data.batches(0)):
                yield indices, batch
                bar.update(len(indices))

    def loss_count(self, output, label):
        """How many units the kind's loss of this batch is averaged over."""
        return int(output.shape[0])

    def loss(self, model, batch):
        # where the trainer put the batch: with several devices, each part of a batch is on its own
        output, label = self._forward(model, batch, batch[0].context)
        loss = self.kind.loss(output, label)
        return loss, int(output.shape[0]), None, {self.loss_unit: (loss, self.loss_count(output, label))}

    def save_best(self, model, folder):
        model_folder.save_model(model, self.vocab, folder, self.tokenizer,
                                extra={'finetuning': self.saved_info}, overwrite=True)
