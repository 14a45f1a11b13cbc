"""Heads over every position of a backbone's sequence output: token classification and answer-span extraction.

Like the sentence heads, each is a HybridBlock ``head(input_ids, token_type_ids, valid_length)`` over a backbone
kept as ``bert``, so it hybridizes and exports to ONNX as one graph. They read the sequence output only, so their
backbone is built without a pooler (an unused pooler would get no gradient, which MXNet's trainer refuses), the
way transformers' ``BertForTokenClassification`` and ``BertForQuestionAnswering`` have none.

* :class:`TokenClassifier` -- dropout + dense: label scores ``(batch, length, num_labels)``
  (``BertForTokenClassification``'s ``classifier``);
* :class:`SpanExtractor` -- dense(2): answer start and end scores ``(batch, length, 2)``
  (``BertForQuestionAnswering``'s ``qa_outputs``; no dropout there either).
"""

from ..core.errors import InputError
from ..core.mxnet_stack import gluon, nn
from ..core.outputs import BATCH, SEQUENCE, OutputSpec, outputs_of

__all__ = ['TokenClassifier', 'SpanExtractor', 'sequence_output']


def _check_backbone(bert):
    """The backbone must return its sequence output alone (as the outputs its family's builder declared say)."""
    names = [output.name for output in outputs_of(bert)]
    if names != ['sequence_output']:
        raise ValueError('a token head needs a backbone without pooler and pretraining heads (for BERT: '
                         'use_pooler=False, use_decoder=False, use_classifier=False); this one returns {}'
                         .format(', '.join(names)))


def sequence_output(outputs):
    """The sequence output of a backbone without pooler (one output), or of one that returns a tuple."""
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


class TokenClassifier(gluon.HybridBlock):
    """Sequence output -> dropout -> dense: unnormalised label scores of every position."""
    output_name = 'token_logits'  # what an export calls the output

    def __init__(self, bert, num_labels, dropout=0.1, labels=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        _check_backbone(bert)
        if num_labels < 2:
            raise InputError('a token classifier needs at least 2 labels, got {}'.format(num_labels))
        if labels is not None and len(labels) != num_labels:
            raise InputError('{} labels given for {} classes'.format(len(labels), num_labels))
        self.bert = bert
        self.num_labels = num_labels
        self.dropout_rate = dropout
        self.labels = list(labels) if labels is not None else [str(i) for i in range(num_labels)]
        with self.name_scope():
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Dense(num_labels, flatten=False)

    def hybrid_forward(self, F, inputs, token_types, valid_length=None):  # pylint: disable=arguments-differ
        sequence = sequence_output(self.bert(inputs, token_types, valid_length))
        return self.output(self.dropout(sequence))

    @property
    def kobert_outputs(self):
        return (OutputSpec(self.output_name, (BATCH, SEQUENCE, self.num_labels)),)

    def task_config(self):
        return {'kind': 'token_classifier', 'num_labels': self.num_labels, 'dropout': self.dropout_rate,
                'labels': self.labels}

    @classmethod
    def from_task_config(cls, bert, task_config) -> 'TokenClassifier':
        return cls(bert, task_config['num_labels'], dropout=task_config.get('dropout', 0.1),
                   labels=task_config.get('labels'))


class SpanExtractor(gluon.HybridBlock):
    """Sequence output -> dense(2): the scores of every position as an answer's start (``[..., 0]``) and end
    (``[..., 1]``)."""
    output_name = 'span_logits'

    def __init__(self, bert, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        _check_backbone(bert)
        self.bert = bert
        self.labels = ['start', 'end']
        with self.name_scope():
            self.output = nn.Dense(2, flatten=False)

    def hybrid_forward(self, F, inputs, token_types, valid_length=None):  # pylint: disable=arguments-differ
        sequence = sequence_output(self.bert(inputs, token_types, valid_length))
        return self.output(sequence)

    @property
    def kobert_outputs(self):
        return (OutputSpec(self.output_name, (BATCH, SEQUENCE, 2)),)

    def task_config(self):
        return {'kind': 'span_extractor'}

    @classmethod
    def from_task_config(cls, bert, task_config) -> 'SpanExtractor':
        return cls(bert)
