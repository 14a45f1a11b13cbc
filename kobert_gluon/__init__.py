"""kobert-gluon: KoBERT (SKT Brain's Korean BERT) for MXNet Gluon / GluonNLP on today's Python.

    >>> from kobert_gluon import get_mxnet_kobert_model, get_tokenizer_path
    >>> model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False)

The public names below load on first use (PEP 562): ``import kobert_gluon`` and ``kobert-gluon --help`` pay for
no mxnet, gluonnlp or onnx. Every module that uses mxnet or gluonnlp takes them from :mod:`.core.mxnet_stack`,
which checks numpy and applies the fixes (:mod:`.core.environment`) before importing them. Importing the package
registers every model family (:mod:`.models.all_families`: plain data). ``ARCHITECTURE.md`` maps the subpackages.
"""
import importlib

from .core.version import __version__
from .models import all_families as _all_families  # noqa: F401  (every family registers its models,
#                                                    architecture and conversion here, so the catalogue is complete;
#                                                    no MXNet)
from .convert import catalogued as _catalogued  # noqa: F401  (catalogued transformers checkpoints convert on
#                                                    first use: get_model(NAME), --model NAME; no MXNet until then)
from .training import run_layout as _run_layout  # noqa: F401  (the run folder kind registers, so every reader
#                                                    of a run folder left half-way through --overwrite says so)

# public name -> (module under kobert_gluon, attribute; None: the module itself)
_EXPORTS = {
    'artifact_store': ('hub.artifact_store', None),
    'ArtifactError': ('hub.artifact_store', 'ArtifactError'),
    'ArtifactNotFoundError': ('hub.artifact_store', 'ArtifactNotFoundError'),
    'ChecksumMismatchError': ('hub.artifact_store', 'ChecksumMismatchError'),
    # models
    'KOBERT_BASE_CONFIG': ('models.bert', 'KOBERT_BASE_CONFIG'),
    'BertConfig': ('models.bert', 'BertConfig'),
    'build_bert': ('models.bert', 'build_bert'),
    'load_model': ('models.resolution', 'load_model'),
    'save_model': ('models.folder', 'save_model'),
    'get_model': ('models.zoo', 'get_model'),
    'encode': ('models.sentence_vectors', 'encode'),
    'list_models': ('models.zoo', 'list_models'),
    'register_model': ('models.zoo', 'register_model'),
    # the original KoBERT API
    'download': ('compat.kobert', 'download'),
    'get_kobert_model': ('compat.kobert', 'get_kobert_model'),
    'get_mxnet_kobert_model': ('compat.kobert', 'get_mxnet_kobert_model'),
    'get_pytorch_kobert_model': ('compat.kobert', 'get_pytorch_kobert_model'),
    'import_hf': ('convert.huggingface', 'import_hf'),
    'export_hf': ('convert.huggingface', 'export_hf'),
    'InferenceModel': ('deploy.runtime', 'InferenceModel'),
    'load_predictor': ('deploy.predictor', 'load_predictor'),
    'get_onnx_kobert_model': ('compat.kobert', 'get_onnx_kobert_model'),
    'get_pretrained_bert_kobert_model': ('compat.kobert', 'get_pretrained_bert_kobert_model'),
    # tokenizers
    'KoBERTTokenizer': ('tokenizers.sentencepiece', 'KoBERTTokenizer'),
    'get_tokenizer': ('tokenizers.sentencepiece', 'get_tokenizer'),
    'load_tokenizer': ('models.zoo', 'load_tokenizer'),
    'WordPieceTokenizer': ('tokenizers.wordpiece', 'WordPieceTokenizer'),
    'get_tokenizer_path': ('tokenizers.sentencepiece', 'get_tokenizer_path'),
    'get_vocab': ('tokenizers.sentencepiece', 'get_vocab'),
    'load_vocab': ('tokenizers.sentencepiece', 'load_vocab'),
    'VocabFolder': ('tokenizers.registry', 'VocabFolder'),  # the registry: every kind a folder can be
    'build_vocab': ('tokenizers.registry', 'build_vocab'),
    # export
    'OnnxExportError': ('export.onnx_export', 'OnnxExportError'),
    'export_onnx': ('export.onnx_export', 'export_onnx'),
    'verify_onnx': ('export.onnx_parity', 'verify_onnx'),
    # fine-tuning
    'TASKS': ('tasks.datasets', 'TASKS'),
    'MalformedRowError': ('tasks.datasets', 'MalformedRowError'),
    'TableSpec': ('tasks.datasets', 'TableSpec'),
    'TaskSpec': ('tasks.datasets', 'TaskSpec'),
    'get_task': ('tasks.datasets', 'get_task'),
    'list_tasks': ('tasks.datasets', 'list_tasks'),
    'read_table': ('tasks.datasets', 'read_table'),
    'FinetuneSettings': ('tasks.finetuning', 'FinetuneSettings'),
    'FineTunedModel': ('tasks.finetuning', 'FineTunedModel'),
    'SequenceTask': ('tasks.finetuning', 'SequenceTask'),
    'finetune': ('tasks.finetuning', 'finetune'),
    'BucketBatchSampler': ('training.text_batches', 'BucketBatchSampler'),
    'TextBatches': ('training.text_batches', 'TextBatches'),
    'Trainer': ('training.trainer', 'Trainer'),
    'TrainingConfig': ('training.trainer', 'TrainingConfig'),
    # pretraining
    'TextSource': ('core.corpus_text', 'TextSource'),
    'InstanceOptions': ('pretraining.instances', 'InstanceOptions'),
    'PretrainingData': ('pretraining.data', 'PretrainingData'),
    'PretrainingShardDataset': ('pretraining.data', 'PretrainingShardDataset'),
    'create_pretraining_data': ('pretraining.data', 'create_pretraining_data'),
    'PretrainingBatches': ('pretraining.batches', 'PretrainingBatches'),
    'PretrainingEvalBatches': ('pretraining.batches', 'PretrainingEvalBatches'),
    'PretrainResult': ('pretraining.pretrain', 'PretrainResult'),
    'PretrainSettings': ('pretraining.pretrain', 'PretrainSettings'),
    'PretrainingTask': ('pretraining.pretrain', 'PretrainingTask'),
    'pretrain': ('pretraining.pretrain', 'pretrain'),
    'DistillSettings': ('pretraining.distill', 'DistillSettings'),
    'distill': ('pretraining.distill', 'distill'),
}


def __getattr__(name):
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError('module {!r} has no attribute {!r}'.format(__name__, name)) from None
    module = importlib.import_module('.' + module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    'ArtifactError', 'ArtifactNotFoundError', 'BertConfig', 'ChecksumMismatchError', 'KOBERT_BASE_CONFIG',
    'KoBERTTokenizer', 'OnnxExportError', 'artifact_store', 'build_bert', 'download', 'export_onnx',
    'get_kobert_model', 'get_model', 'get_mxnet_kobert_model', 'get_pytorch_kobert_model', 'get_onnx_kobert_model',
    'encode',
    'get_pretrained_bert_kobert_model',
    'import_hf', 'export_hf', 'InferenceModel', 'load_predictor', 'get_tokenizer', 'load_tokenizer',
    'WordPieceTokenizer',
    'get_tokenizer_path', 'get_vocab', 'load_vocab', 'list_models', 'load_model', 'register_model', 'save_model',
    'verify_onnx', '__version__',
    # fine-tuning
    'TASKS', 'TaskSpec', 'TableSpec', 'MalformedRowError', 'get_task', 'list_tasks', 'read_table',
    'BucketBatchSampler', 'TextBatches', 'Trainer', 'TrainingConfig', 'FinetuneSettings', 'FineTunedModel',
    'SequenceTask', 'finetune',
    # pretraining data
    'InstanceOptions', 'PretrainingData', 'PretrainingShardDataset', 'TextSource', 'VocabFolder', 'build_vocab',
    'create_pretraining_data',
    # pretraining
    'PretrainSettings', 'PretrainResult', 'PretrainingTask', 'PretrainingBatches', 'PretrainingEvalBatches',
    'pretrain',
    # distillation
    'DistillSettings', 'distill',
]
