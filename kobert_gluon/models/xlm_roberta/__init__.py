"""The XLM-RoBERTa family: RoBERTa positions and one token type on GluonNLP's BERT encoder, its SentencePiece
tokenizer with fairseq's ids, its transformers mapping and ``xlm-roberta-base``.

``config`` (XLMRobertaConfig), ``model`` (``build_xlm_roberta``), ``tokenizer`` (the ``xlm-roberta-sentencepiece``
kind), ``transformers`` (``XLMRobertaModel``, ``XLMRobertaForSequenceClassification``,
``XLMRobertaForTokenClassification``, ``XLMRobertaForQuestionAnswering``), ``catalogue``. Importing this package
registers the family; MXNet loads only when a model or tokenizer is built.
"""
from ...tokenizers.kinds import TokenizerKind
from ..architecture_registry import Architecture
from ..family_registry import ModelFamily, register_family
from . import catalogue, transformers
from .config import OUTPUTS, SHAPE_FIELDS, XLM_ROBERTA_BASE_CONFIG, XLMRobertaConfig

__all__ = ['XLMRobertaConfig', 'XLM_ROBERTA_BASE_CONFIG', 'SHAPE_FIELDS', 'build_xlm_roberta', 'FAMILY']

TOKENIZER_KIND = 'xlm-roberta-sentencepiece'


def build_xlm_roberta(config: XLMRobertaConfig, use_pooler=True, **options):
    """An uninitialised XLM-RoBERTa of ``config`` (:func:`.model.build_xlm_roberta`)."""
    from .model import build_xlm_roberta as build
    return build(config, use_pooler=use_pooler, **options)


def _load_tokenizer_folder(folder):
    from .tokenizer import load_folder
    return load_folder(folder)


def _tokenizer_from_pretrained(name_or_folder, cachedir=None):
    from .tokenizer import from_pretrained
    return from_pretrained(name_or_folder, cachedir=cachedir)


def _reads_file(path) -> bool:
    from .tokenizer import is_tokenizer_json
    return is_tokenizer_json(path)


def _from_file(path):
    from .tokenizer import XLMRobertaTokenizer
    return XLMRobertaTokenizer(path)


FAMILY = register_family(ModelFamily(
    name='xlm-roberta',
    architecture=Architecture(
        'xlm-roberta', XLMRobertaConfig, build_xlm_roberta, SHAPE_FIELDS, ('use_pooler',),
        'XLM-RoBERTa: word, one token type and learned position embeddings numbered after the padding index, '
        'post-LayerNorm encoder; the classification pre-head (dense + tanh on <s>) as the pooler', outputs=OUTPUTS),
    transformers=transformers.MAPPING,
    models=catalogue.MODELS,
    tokenizer_kinds=(TokenizerKind(
        TOKENIZER_KIND, ('tokenizer.json',), _load_tokenizer_folder, _tokenizer_from_pretrained,
        'XLM-RoBERTa\'s SentencePiece (Unigram) over the whole text from transformers\' tokenizer.json; fairseq\'s '
        'ids (<s> 0, <pad> 1, </s> 2, <unk> 3)', reads_file=_reads_file, from_file=_from_file),),
))
