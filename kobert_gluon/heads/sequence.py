"""Sentence(-pair) heads over a backbone's pooled output: classification and regression.

Each head is a HybridBlock ``head(input_ids, token_type_ids, valid_length)`` over a backbone that returns
``(sequence_output, pooled_output)`` (a BERTModel built with the pooler and without the pretraining heads), so
it hybridizes and exports to ONNX as one graph. The backbone is kept as the attribute ``bert`` whatever its
architecture: parameter names in saved files start with it. A head describes itself as plain data
(``task_config``) and its output (``kobert_outputs``, with its axes) and is rebuilt from it by ``from_task_config`` (see :mod:`.registry`).
"""

from ..core.errors import InputError
from ..core.mxnet_stack import gluon, nn
from ..core.outputs import BATCH, OutputSpec, outputs_of

__all__ = ['SequenceClassifier', 'SequenceRegressor']


def _check_backbone(bert):
    """The backbone must return exactly ``(sequence_output, pooled_output)``: a pooler, no pretraining heads (as the
    outputs its family's builder declared say)."""
    names = [output.name for output in outputs_of(bert)]
    if names != ['sequence_output', 'pooled_output']:
        raise ValueError('a sentence head needs a backbone with its pooler and without pretraining heads (for BERT: '
                         'use_pooler=True, use_decoder=False, use_classifier=False); this one returns {}'
                         .format(', '.join(names)))


class SequenceClassifier(gluon.HybridBlock):
    """Pooled ``[CLS]`` output -> dropout -> dense: unnormalised scores of shape ``(batch, num_classes)``."""
    output_name = 'logits'  # what an export calls the output

    def __init__(self, bert, num_classes, dropout=0.1, labels=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        _check_backbone(bert)
        if num_classes < 2:
            raise InputError('a classifier needs at least 2 classes, got {}'.format(num_classes))
        if labels is not None and len(labels) != num_classes:
            raise InputError('{} labels given for {} classes'.format(len(labels), num_classes))
        self.bert = bert
        self.num_classes = num_classes
        self.dropout_rate = dropout
        self.labels = list(labels) if labels is not None else [str(i) for i in range(num_classes)]
        with self.name_scope():
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Dense(num_classes, flatten=False)

    def hybrid_forward(self, F, inputs, token_types, valid_length=None):  # pylint: disable=arguments-differ
        _, pooled = self.bert(inputs, token_types, valid_length)
        return self.output(self.dropout(pooled))

    @property
    def kobert_outputs(self):
        return (OutputSpec(self.output_name, (BATCH, self.num_classes)),)

    def task_config(self):
        return {'kind': 'classifier', 'num_classes': self.num_classes, 'dropout': self.dropout_rate,
                'labels': self.labels}

    @classmethod
    def from_task_config(cls, bert, task_config) -> 'SequenceClassifier':
        return cls(bert, task_config['num_classes'], dropout=task_config.get('dropout', 0.1),
                   labels=task_config.get('labels'))


class SequenceRegressor(gluon.HybridBlock):
    """Pooled ``[CLS]`` output -> dropout -> dense(1): one real value per input, shape ``(batch,)``."""
    output_name = 'score'

    def __init__(self, bert, dropout=0.1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        _check_backbone(bert)
        self.bert = bert
        self.dropout_rate = dropout
        with self.name_scope():
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Dense(1, flatten=False)

    def hybrid_forward(self, F, inputs, token_types, valid_length=None):  # pylint: disable=arguments-differ
        _, pooled = self.bert(inputs, token_types, valid_length)
        return self.output(self.dropout(pooled)).reshape((-1,))

    @property
    def kobert_outputs(self):
        return (OutputSpec(self.output_name, (BATCH,)),)

    def task_config(self):
        return {'kind': 'regressor', 'dropout': self.dropout_rate}

    @classmethod
    def from_task_config(cls, bert, task_config) -> 'SequenceRegressor':
        return cls(bert, dropout=task_config.get('dropout', 0.1))
