"""Parameter names of Hugging Face transformers against this package's Gluon names: the one place that knows both.

Each table is data: ``(transformers name, Gluon name)``, with ``{i}`` standing for a layer index. transformers'
``nn.Linear`` and Gluon's ``Dense`` both store weights as ``(out, in)``, so no tensor is transposed; LayerNorm's
``weight``/``bias`` are Gluon's ``gamma``/``beta``. transformers' names are given without the ``bert.`` prefix that
its task models (``BertForPreTraining``, ``BertForSequenceClassification``, ``BertForTokenClassification``,
``BertForQuestionAnswering``) put before the encoder's; Gluon's task heads likewise keep the backbone under ``bert.``.
"""
from typing import Dict, List, Tuple

__all__ = ['BERT_EMBEDDINGS', 'BERT_LAYER', 'BERT_POOLER', 'BERT_PRETRAINING_HEADS', 'BERT_SEQUENCE_HEAD',
           'BERT_TIED', 'bert_backbone_map', 'DISTILBERT_EMBEDDINGS', 'DISTILBERT_LAYER', 'DISTILBERT_PRE_CLASSIFIER',
           'DISTILBERT_MLM_HEAD', 'DISTILBERT_TIED', 'distilbert_backbone_map', 'ELECTRA_EMBEDDINGS',
           'ELECTRA_PROJECTION', 'ELECTRA_CLASSIFICATION_DENSE', 'ELECTRA_SEQUENCE_HEAD', 'ELECTRA_DISCRIMINATOR_HEAD',
           'electra_backbone_map', 'TOKEN_CLASSIFIER_HEAD', 'QUESTION_ANSWERING_HEAD']

BERT_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.position_weight'),
    ('embeddings.token_type_embeddings.weight', 'token_type_embed.0.weight'),
    ('embeddings.LayerNorm.weight', 'encoder.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.layer_norm.beta'),
]

BERT_LAYER: List[Tuple[str, str]] = [
    ('encoder.layer.{i}.attention.self.query.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_query.weight'),
    ('encoder.layer.{i}.attention.self.query.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_query.bias'),
    ('encoder.layer.{i}.attention.self.key.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_key.weight'),
    ('encoder.layer.{i}.attention.self.key.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_key.bias'),
    ('encoder.layer.{i}.attention.self.value.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_value.weight'),
    ('encoder.layer.{i}.attention.self.value.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_value.bias'),
    ('encoder.layer.{i}.attention.output.dense.weight', 'encoder.transformer_cells.{i}.proj.weight'),
    ('encoder.layer.{i}.attention.output.dense.bias', 'encoder.transformer_cells.{i}.proj.bias'),
    ('encoder.layer.{i}.attention.output.LayerNorm.weight', 'encoder.transformer_cells.{i}.layer_norm.gamma'),
    ('encoder.layer.{i}.attention.output.LayerNorm.bias', 'encoder.transformer_cells.{i}.layer_norm.beta'),
    ('encoder.layer.{i}.intermediate.dense.weight', 'encoder.transformer_cells.{i}.ffn.ffn_1.weight'),
    ('encoder.layer.{i}.intermediate.dense.bias', 'encoder.transformer_cells.{i}.ffn.ffn_1.bias'),
    ('encoder.layer.{i}.output.dense.weight', 'encoder.transformer_cells.{i}.ffn.ffn_2.weight'),
    ('encoder.layer.{i}.output.dense.bias', 'encoder.transformer_cells.{i}.ffn.ffn_2.bias'),
    ('encoder.layer.{i}.output.LayerNorm.weight', 'encoder.transformer_cells.{i}.ffn.layer_norm.gamma'),
    ('encoder.layer.{i}.output.LayerNorm.bias', 'encoder.transformer_cells.{i}.ffn.layer_norm.beta'),
]

BERT_POOLER: List[Tuple[str, str]] = [
    ('pooler.dense.weight', 'pooler.weight'),
    ('pooler.dense.bias', 'pooler.bias'),
]

# BertForPreTraining's heads (names as transformers writes them, no prefix) -> the BERTModel's own heads.
BERT_PRETRAINING_HEADS: List[Tuple[str, str]] = [
    ('cls.predictions.transform.dense.weight', 'decoder.0.weight'),
    ('cls.predictions.transform.dense.bias', 'decoder.0.bias'),
    ('cls.predictions.transform.LayerNorm.weight', 'decoder.2.gamma'),
    ('cls.predictions.transform.LayerNorm.bias', 'decoder.2.beta'),
    ('cls.predictions.bias', 'decoder.3.bias'),
    ('cls.seq_relationship.weight', 'classifier.weight'),
    ('cls.seq_relationship.bias', 'classifier.bias'),
]

# Tensors transformers may also write that are tied to one above: (tied name, the name it must equal).
BERT_TIED: List[Tuple[str, str]] = [
    ('cls.predictions.decoder.weight', 'bert.embeddings.word_embeddings.weight'),
    ('cls.predictions.decoder.bias', 'cls.predictions.bias'),
]

# BertForSequenceClassification's head -> kobert_gluon's SequenceClassifier / SequenceRegressor (``output``).
BERT_SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.weight', 'output.weight'),
    ('classifier.bias', 'output.bias'),
]


def bert_backbone_map(num_layers: int, pooler: bool = True) -> Dict[str, str]:
    """transformers name -> Gluon name for every backbone tensor of a ``num_layers`` BERT."""
    pairs = list(BERT_EMBEDDINGS)
    for i in range(num_layers):
        pairs += [(hf.format(i=i), gluon.format(i=i)) for hf, gluon in BERT_LAYER]
    if pooler:
        pairs += BERT_POOLER
    return dict(pairs)


# ----- DistilBERT: the same Gluon encoder, transformers' DistilBert* names -----------------------------------------
DISTILBERT_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.position_weight'),
    ('embeddings.LayerNorm.weight', 'encoder.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.layer_norm.beta'),
]

DISTILBERT_LAYER: List[Tuple[str, str]] = [
    ('transformer.layer.{i}.attention.q_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_query.weight'),
    ('transformer.layer.{i}.attention.q_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_query.bias'),
    ('transformer.layer.{i}.attention.k_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_key.weight'),
    ('transformer.layer.{i}.attention.k_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_key.bias'),
    ('transformer.layer.{i}.attention.v_lin.weight', 'encoder.transformer_cells.{i}.attention_cell.proj_value.weight'),
    ('transformer.layer.{i}.attention.v_lin.bias', 'encoder.transformer_cells.{i}.attention_cell.proj_value.bias'),
    ('transformer.layer.{i}.attention.out_lin.weight', 'encoder.transformer_cells.{i}.proj.weight'),
    ('transformer.layer.{i}.attention.out_lin.bias', 'encoder.transformer_cells.{i}.proj.bias'),
    ('transformer.layer.{i}.sa_layer_norm.weight', 'encoder.transformer_cells.{i}.layer_norm.gamma'),
    ('transformer.layer.{i}.sa_layer_norm.bias', 'encoder.transformer_cells.{i}.layer_norm.beta'),
    ('transformer.layer.{i}.ffn.lin1.weight', 'encoder.transformer_cells.{i}.ffn.ffn_1.weight'),
    ('transformer.layer.{i}.ffn.lin1.bias', 'encoder.transformer_cells.{i}.ffn.ffn_1.bias'),
    ('transformer.layer.{i}.ffn.lin2.weight', 'encoder.transformer_cells.{i}.ffn.ffn_2.weight'),
    ('transformer.layer.{i}.ffn.lin2.bias', 'encoder.transformer_cells.{i}.ffn.ffn_2.bias'),
    ('transformer.layer.{i}.output_layer_norm.weight', 'encoder.transformer_cells.{i}.ffn.layer_norm.gamma'),
    ('transformer.layer.{i}.output_layer_norm.bias', 'encoder.transformer_cells.{i}.ffn.layer_norm.beta'),
]

# DistilBertForSequenceClassification's pre-classifier (no prefix in transformers) is the Gluon DistilBERT's pooler.
DISTILBERT_PRE_CLASSIFIER: List[Tuple[str, str]] = [
    ('pre_classifier.weight', 'pooler.weight'),
    ('pre_classifier.bias', 'pooler.bias'),
]

# DistilBertForMaskedLM's head -> the Gluon DistilBERT's decoder (GluonNLP's BERT decoder layout).
DISTILBERT_MLM_HEAD: List[Tuple[str, str]] = [
    ('vocab_transform.weight', 'decoder.0.weight'),
    ('vocab_transform.bias', 'decoder.0.bias'),
    ('vocab_layer_norm.weight', 'decoder.2.gamma'),
    ('vocab_layer_norm.bias', 'decoder.2.beta'),
    ('vocab_projector.bias', 'decoder.3.bias'),
]

DISTILBERT_TIED: List[Tuple[str, str]] = [
    ('vocab_projector.weight', 'distilbert.embeddings.word_embeddings.weight'),
]


def distilbert_backbone_map(num_layers: int) -> Dict[str, str]:
    """transformers name -> Gluon name for every DistilBERT backbone tensor (the pre-classifier, which transformers
    keeps in the classification head, is :data:`DISTILBERT_PRE_CLASSIFIER`)."""
    pairs = list(DISTILBERT_EMBEDDINGS)
    for i in range(num_layers):
        pairs += [(hf.format(i=i), gluon.format(i=i)) for hf, gluon in DISTILBERT_LAYER]
    return dict(pairs)


# ----- ELECTRA: BERT's layer names under electra., embeddings of their own width and a projection ------------------
ELECTRA_EMBEDDINGS: List[Tuple[str, str]] = [
    ('embeddings.word_embeddings.weight', 'word_embed.0.weight'),
    ('embeddings.position_embeddings.weight', 'encoder.embedding.position_weight'),
    ('embeddings.token_type_embeddings.weight', 'token_type_embed.0.weight'),
    ('embeddings.LayerNorm.weight', 'encoder.embedding.layer_norm.gamma'),
    ('embeddings.LayerNorm.bias', 'encoder.embedding.layer_norm.beta'),
]

# Only when the embedding width differs from the encoder's (KoELECTRA-Small: 128 -> 256).
ELECTRA_PROJECTION: List[Tuple[str, str]] = [
    ('embeddings_project.weight', 'encoder.embed_proj.weight'),
    ('embeddings_project.bias', 'encoder.embed_proj.bias'),
]

# ElectraForSequenceClassification's head: its dense layer (+ GELU) is the Gluon ELECTRA's pooler, its out_proj
# the package's sentence head output.
ELECTRA_CLASSIFICATION_DENSE: List[Tuple[str, str]] = [
    ('classifier.dense.weight', 'pooler.0.weight'),
    ('classifier.dense.bias', 'pooler.0.bias'),
]

ELECTRA_SEQUENCE_HEAD: List[Tuple[str, str]] = [
    ('classifier.out_proj.weight', 'output.weight'),
    ('classifier.out_proj.bias', 'output.bias'),
]

# ElectraForPreTraining's replaced-token detector.
ELECTRA_DISCRIMINATOR_HEAD: List[Tuple[str, str]] = [
    ('discriminator_predictions.dense.weight', 'discriminator.0.weight'),
    ('discriminator_predictions.dense.bias', 'discriminator.0.bias'),
    ('discriminator_predictions.dense_prediction.weight', 'discriminator_output.weight'),
    ('discriminator_predictions.dense_prediction.bias', 'discriminator_output.bias'),
]


def electra_backbone_map(num_layers: int, projection: bool) -> Dict[str, str]:
    """transformers name -> Gluon name for every ELECTRA backbone tensor (``projection``: the embedding width
    differs from the encoder's)."""
    pairs = list(ELECTRA_EMBEDDINGS) + (list(ELECTRA_PROJECTION) if projection else [])
    for i in range(num_layers):
        pairs += [(hf.format(i=i), gluon.format(i=i)) for hf, gluon in BERT_LAYER]
    return dict(pairs)


# ----- heads over every position: the same names in all three families ----------------------------------------
# ``*ForTokenClassification``'s ``classifier`` (a plain Linear, also in ELECTRA's, unlike its sentence head) ->
# kobert_gluon's TokenClassifier ``output``.
TOKEN_CLASSIFIER_HEAD: List[Tuple[str, str]] = [
    ('classifier.weight', 'output.weight'),
    ('classifier.bias', 'output.bias'),
]

# ``*ForQuestionAnswering``'s ``qa_outputs`` (Linear(hidden, 2); transformers splits its logits into start = [..., 0]
# and end = [..., 1]) -> kobert_gluon's SpanExtractor ``output``, whose [..., 0] / [..., 1] are start / end too.
QUESTION_ANSWERING_HEAD: List[Tuple[str, str]] = [
    ('qa_outputs.weight', 'output.weight'),
    ('qa_outputs.bias', 'output.bias'),
]
