"""kobert-gluon: KoBERT (SKT Brain's Korean BERT) for MXNet Gluon / GluonNLP on today's Python.

    >>> from kobert_gluon import get_mxnet_kobert_model, get_tokenizer_path
    >>> model, vocab = get_mxnet_kobert_model(use_decoder=False, use_classifier=False)
"""
from . import _compat

_compat.prepare()  # numpy check, quiet mxnet/gluonnlp import, sentencepiece fix for gluonnlp

from . import artifact_store  # noqa: E402
from .artifact_store import ArtifactError, ArtifactNotFoundError, ChecksumMismatchError  # noqa: E402
from .bert_config import KOBERT_BASE_CONFIG, BertConfig, build_bert  # noqa: E402
from . import heads  # noqa: E402,F401  (registers task loaders for model folders)
from .kobert import download, get_kobert_model, get_mxnet_kobert_model  # noqa: E402
from .model_folder import load_model, save_model  # noqa: E402
from .model_zoo import get_model, list_models, register_model  # noqa: E402
from .corpus_text import TextSource  # noqa: E402
from .pretraining_data import PretrainingData, PretrainingShardDataset, create_pretraining_data  # noqa: E402
from .pretraining_instances import InstanceOptions  # noqa: E402
from .tokenization import KoBERTTokenizer, get_tokenizer, get_tokenizer_path, get_vocab  # noqa: E402
from .vocab_builder import VocabFolder, build_vocab  # noqa: E402

__version__ = '0.1.0'

__all__ = [
    'ArtifactError', 'ArtifactNotFoundError', 'BertConfig', 'ChecksumMismatchError', 'KOBERT_BASE_CONFIG',
    'KoBERTTokenizer', 'artifact_store', 'build_bert', 'download', 'get_kobert_model', 'get_model',
    'get_mxnet_kobert_model', 'get_tokenizer', 'get_tokenizer_path', 'get_vocab', 'list_models', 'load_model',
    'register_model', 'save_model', '__version__',
    # pretraining data
    'InstanceOptions', 'PretrainingData', 'PretrainingShardDataset', 'TextSource', 'VocabFolder', 'build_vocab',
    'create_pretraining_data',
]
