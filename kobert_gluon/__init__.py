"""kobert-gluon: KoBERT (SKT Brain's Korean BERT) for MXNet Gluon / GluonNLP on today's Python.

    >>> from kobert_gluon import get_mxnet_kobert_model, get_tokenizer_path
    >>> model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
"""
from . import _compat

_compat.prepare()  # numpy check, quiet mxnet/gluonnlp import, sentencepiece fix for gluonnlp

from . import artifact_store  # noqa: E402
from .artifact_store import ArtifactError, ArtifactNotFoundError, ChecksumMismatchError  # noqa: E402
from .bert_config import KOBERT_BASE_CONFIG, BertConfig, build_bert  # noqa: E402
from .datasets import TASKS, MalformedRowError, TableSpec, TaskSpec, get_task, list_tasks, read_table  # noqa: E402
from . import heads  # noqa: E402,F401  (registers task loaders for model folders)
from .kobert import download, get_kobert_model, get_mxnet_kobert_model  # noqa: E402
from .finetuning import FinetuneSettings, FineTunedModel, SequenceTask, finetune  # noqa: E402
from .model_folder import load_model, save_model  # noqa: E402
from .model_zoo import get_model, list_models, register_model  # noqa: E402
from .corpus_text import TextSource  # noqa: E402
from .onnx_export import OnnxExportError, export_onnx, get_onnx_kobert_model  # noqa: E402
from .onnx_parity import verify_onnx  # noqa: E402
from .pretraining import PretrainResult, PretrainSettings, PretrainingTask, pretrain  # noqa: E402
from .pretraining_batches import PretrainingBatches, PretrainingEvalBatches  # noqa: E402
from .pretraining_data import PretrainingData, PretrainingShardDataset, create_pretraining_data  # noqa: E402
from .pretraining_instances import InstanceOptions  # noqa: E402
from .text_batches import BucketBatchSampler, TextBatches  # noqa: E402
from .tokenization import KoBERTTokenizer, get_tokenizer, get_tokenizer_path, get_vocab  # noqa: E402
from .trainer import Trainer, TrainingConfig  # noqa: E402
from .vocab_builder import VocabFolder, build_vocab  # noqa: E402

__version__ = '0.1.0'

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
