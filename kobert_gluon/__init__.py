"""kobert-gluon: KoBERT (SKT Brain's Korean BERT) for MXNet Gluon / GluonNLP on today's Python.

    >>> from kobert_gluon import get_mxnet_kobert_model, get_tokenizer_path
    >>> model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
"""
from .core import environment as _compat

_compat.prepare()  # numpy check, quiet mxnet/gluonnlp import, sentencepiece fix for gluonnlp

from .hub import artifact_store  # noqa: E402
from .hub.artifact_store import ArtifactError, ArtifactNotFoundError, ChecksumMismatchError  # noqa: E402
from .models.bert import KOBERT_BASE_CONFIG, BertConfig, build_bert  # noqa: E402
from .tasks.datasets import TASKS, MalformedRowError, TableSpec, TaskSpec, get_task, list_tasks, read_table  # noqa: E402
from .heads import sequence as heads  # noqa: E402,F401  (registers task loaders for model folders)
from .compat.kobert import download, get_kobert_model, get_mxnet_kobert_model  # noqa: E402
from .tasks.finetuning import FinetuneSettings, FineTunedModel, SequenceTask, finetune  # noqa: E402
from .models.folder import load_model, save_model  # noqa: E402
from .models.zoo import get_model, list_models, register_model  # noqa: E402
from .core.corpus_text import TextSource  # noqa: E402
from .export.onnx_export import OnnxExportError, export_onnx, get_onnx_kobert_model  # noqa: E402
from .export.onnx_parity import verify_onnx  # noqa: E402
from .pretraining.pretrain import PretrainResult, PretrainSettings, PretrainingTask, pretrain  # noqa: E402
from .pretraining.batches import PretrainingBatches, PretrainingEvalBatches  # noqa: E402
from .pretraining.data import PretrainingData, PretrainingShardDataset, create_pretraining_data  # noqa: E402
from .pretraining.instances import InstanceOptions  # noqa: E402
from .training.text_batches import BucketBatchSampler, TextBatches  # noqa: E402
from .tokenizers.sentencepiece import KoBERTTokenizer, get_tokenizer, get_tokenizer_path, get_vocab  # noqa: E402
from .training.trainer import Trainer, TrainingConfig  # noqa: E402
from .tokenizers.vocab_builder import VocabFolder, build_vocab  # noqa: E402

from .core.version import __version__  # noqa: E402

__all__ = [
    'ArtifactError', 'ArtifactNotFoundError', 'BertConfig', 'ChecksumMismatchError', 'KOBERT_BASE_CONFIG',
    'KoBERTTokenizer', 'OnnxExportError', 'artifact_store', 'build_bert', 'download', 'export_onnx',
    'get_kobert_model', 'get_model', 'get_mxnet_kobert_model', 'get_onnx_kobert_model', 'get_tokenizer',
    'get_tokenizer_path', 'get_vocab', 'list_models', 'load_model', 'register_model', 'save_model',
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
]
