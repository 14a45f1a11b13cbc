"""How XLM-RoBERTa's transformers checkpoints (``XLMRobertaModel``, ``XLMRobertaFor...``) map onto its Gluon model:
the name tables (data), the config both ways and the tokenizer hooks. Read by
:mod:`kobert_gluon.convert.huggingface` through :data:`MAPPING`."""
from typing import Any, Dict, List, Tuple

from ...core.errors import InputError
from ..transformers_names import (ENCODER_LAYER, TransformersMapping, check_absolute_positions, checked_activation,
                                  layer_pairs)
from .config import XLMRobertaConfig

__all__ = ['MAPPING']

EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.position_weight'),
    ('embeddings.token_type_embeddings.weight', 'token_type_embed.0.weight'),
    ('embeddings.LayerNorm.weight', 'encoder.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.layer_norm.beta'),
]

# XLMRobertaForSequenceClassification's head: its dense layer (+ tanh) is the Gluon model's pooler, its out_proj the
# package's sentence head output.
CLASSIFICATION_DENSE: List[Tuple[str, str]] = [
    ('classifier.dense.weight', 'pooler.weight'),
    ('classifier.dense.bias', 'pooler.bias'),
]

SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.out_proj.weight', 'output.weight'),
    ('classifier.out_proj.bias', 'output.bias'),
]


def _config(hf: Dict[str, Any], path) -> XLMRobertaConfig:
    check_absolute_positions(hf, path)
    if hf.get('type_vocab_size', 1) != 1:
        raise InputError('{}: type_vocab_size {} is not supported (XLM-RoBERTa has one token type)'.format(
            path, hf.get('type_vocab_size')))
    padding_idx = hf.get('pad_token_id', 1)
    max_length = hf['max_position_embeddings'] - padding_idx - 1
    if max_length < 1:
        raise InputError('{}: max_position_embeddings {} leaves no position after the padding index {}'.format(
            path, hf['max_position_embeddings'], padding_idx))
    return XLMRobertaConfig(vocab_size=hf['vocab_size'], num_layers=hf['num_hidden_layers'], units=hf['hidden_size'],
                            hidden_size=hf['intermediate_size'], max_length=max_length,
                            num_heads=hf['num_attention_heads'], activation=checked_activation(hf, path),
                            dropout=hf.get('hidden_dropout_prob', 0.1), layer_norm_eps=hf.get('layer_norm_eps', 1e-5),
                            padding_idx=padding_idx)


def _hf_config(config: XLMRobertaConfig) -> Dict[str, Any]:
    return {'model_type': 'xlm-roberta', 'vocab_size': config.vocab_size, 'hidden_size': config.units,
            'num_hidden_layers': config.num_layers, 'num_attention_heads': config.num_heads,
            'intermediate_size': config.hidden_size, 'hidden_act': config.activation,
            'hidden_dropout_prob': config.dropout, 'attention_probs_dropout_prob': config.dropout,
            'max_position_embeddings': config.max_length + config.position_offset, 'type_vocab_size': 1,
            'initializer_range': 0.02, 'layer_norm_eps': config.layer_norm_eps,
            'position_embedding_type': 'absolute', 'bos_token_id': 0, 'eos_token_id': 2,
            'tie_word_embeddings': True}


def _read_tokenizer(folder):
    from .tokenizer import read_transformers_folder
    return read_transformers_folder(folder)


def _write_tokenizer(tokenizer, folder, max_seq_length):
    from .tokenizer import write_transformers_files
    write_transformers_files(tokenizer, folder, max_seq_length)


MAPPING = TransformersMapping(
    model_type='xlm-roberta', architecture='xlm-roberta', prefix='roberta.',
    classes={'base': 'XLMRobertaModel', 'classification': 'XLMRobertaForSequenceClassification',
             'token_classification': 'XLMRobertaForTokenClassification',
             'question_answering': 'XLMRobertaForQuestionAnswering'},
    config_from_hf=_config, hf_config=_hf_config,
    backbone_map=lambda config: dict(EMBEDDINGS + layer_pairs(ENCODER_LAYER, config.num_layers)),
    pooler=CLASSIFICATION_DENSE, pooler_in_backbone=False,
    lm_head=[], sequence_head=SEQUENCE_HEAD, tied=[], lm_heads={},
    classifier_dropout_key='classifier_dropout', classifier_dropout_fallback=('hidden_dropout_prob', 0.1),
    token_dropout_key='classifier_dropout', token_dropout_fallback=('hidden_dropout_prob', 0.1),
    # RoBERTa's base pooler is created untrained by transformers (fairseq has none): not kept
    ignored=('embeddings.position_ids', 'embeddings.token_type_ids', 'pooler.dense.weight', 'pooler.dense.bias'),
    tokenizer_reader=_read_tokenizer, tokenizer_writer=_write_tokenizer,
    tokenizer_files=('tokenizer.json (SentencePiece BPE, as transformers saves XLMRobertaTokenizer)',),
)
