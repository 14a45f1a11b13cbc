"""The choices and defaults the command line's parsers show, written out as plain data.

Building a parser must not import MXNet: ``kobert-gluon finetune --help`` should answer at once, and the registries
and settings classes these values come from live in modules that import MXNet (tasks.kinds, tasks.finetuning,
training.trainer, pretraining.pretrain, pretraining.distill) or numpy (deploy.runtime). So the values are copied
here, and ``tests/test_cli_help.py`` checks every one against the registry or settings class it copies: a change
there that is not made here fails that test instead of making a help text lie. The options still check what they
are given against the real registries and settings when the command runs.
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

# pretraining.pretrain.OBJECTIVES
OBJECTIVES = ('bert', 'electra')

# deploy.runtime.RUNTIMES and PRECISIONS
RUNTIMES = ('mxnet', 'onnxruntime', 'openvino')
PRECISIONS = ('fp32', 'bf16', 'int8')

# training.trainer.TrainingConfig()'s values that options set
TRAINING = {
    'epochs': 3, 'max_steps': 0, 'learning_rate': 5e-05, 'warmup_ratio': 0.1, 'schedule': 'linear',
    'weight_decay': 0.01, 'max_grad_norm': 1.0, 'accumulate': 1, 'optimizer': 'bertadam', 'seed': 0,
    'checkpoint_every': 0, 'eval_every': 0, 'log_every': 0,
}
# pretraining.pretrain.pretraining_training_config(): pretrain's and distill's schedule
PRETRAINING_TRAINING = dict(TRAINING, epochs=0, max_steps=10000, learning_rate=0.0001, warmup_ratio=0.01,
                            checkpoint_every=1000, eval_every=1000, log_every=100)

# tasks.finetuning.FinetuneSettings' defaults that the finetune options show
FINETUNE = {
    'model': 'kobert-base', 'max_seq_length': 128, 'batch_size': 32, 'eval_batch_size': 64, 'num_workers': 0,
    'min_label_count': 5,
}

# pretraining.pretrain.PretrainSettings' and pretraining.distill.DistillSettings' defaults the options show
_SHARD_RUNS = {'dev_chunks': 1, 'max_dev_instances': 5000, 'batch_size': 64, 'eval_batch_size': 128,
               'bucket_window': 50, 'param_dtype': 'float32'}
PRETRAIN = dict(_SHARD_RUNS, model='kobert-base', objective='bert', generator_size=0.25, rtd_weight=50.0)
DISTILL = dict(_SHARD_RUNS, temperature=2.0, alpha_ce=0.33, alpha_mlm=0.33, alpha_cos=0.33)
