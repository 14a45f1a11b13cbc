"""The ``distilkobert`` package of DistilKoBERT's README (``pip install distilkobert``), so its snippets run with
only the import line changed:

    >>> from kobert_gluon.distilkobert import get_distilkobert_model, get_tokenizer
    >>> model = get_distilkobert_model(no_cuda=True)
    >>> last_layer_hidden_state, _ = model(input_ids, attention_mask)
    >>> tokenizer = get_tokenizer()
    >>> tokenizer.tokenize("[CLS] 한국어 모델을 공유합니다. [SEP]")
    ['[CLS]', '▁한국', '어', '▁모델', '을', '▁공유', '합니다', '.', '[SEP]']

The model is transformers' ``DistilBertModel`` of ``monologg/distilkobert`` (fetched as a verified hub snapshot);
the tokenizer is KoBERT's SentencePiece with the transformers-side convention DistilKoBERT was trained with.
"""
from .compat.distilkobert import get_distilkobert_model, get_tokenizer

__all__ = ['get_distilkobert_model', 'get_tokenizer']
