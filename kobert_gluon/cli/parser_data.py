"""The registries' choices the command line's parsers show, written out as plain data.

Building a parser must not import MXNet: ``kobert-gluon finetune --help`` should answer at once, and the registries
these values come from live in modules that import MXNet (tasks.kinds, tokenizers) or numpy (deploy.runtime). So
the values are copied here, and ``tests/test_cli_help.py`` checks every one against the registry it copies: a
change there that is not made here fails that test instead of making a help text lie. The options still check
what they are given against the real registries when the command runs. (The settings' options, defaults and help
are not copied: the settings modules declare them and import no MXNet, :mod:`kobert_gluon.core.settings_fields`.)
"""

# tasks.structures (every structure's tasks.kinds registered): every task kind, in registration order, and its metrics (the first is its default)
TASK_METRICS = {
    'classification': ('accuracy', 'macro_f1'),
    'regression': ('spearman', 'pearson'),
    'token_classification': ('entity_f1', 'entity_precision', 'entity_recall'),
    'extractive_qa': ('f1', 'exact_match'),
    'multi_label_classification': ('micro_f1', 'macro_f1'),
}
TASK_KINDS = tuple(TASK_METRICS)
METRICS = tuple(dict.fromkeys(metric for metrics in TASK_METRICS.values() for metric in metrics))

# tokenizers.kinds.vocabulary_kinds(): the kinds build-vocab builds (the first is its default)
VOCABULARY_KINDS = ('sentencepiece', 'wordpiece', 'mecab+wordpiece')

# deploy.runtime.RUNTIMES and PRECISIONS
RUNTIMES = ('mxnet', 'onnxruntime', 'openvino')
PRECISIONS = ('fp32', 'bf16', 'int8')
