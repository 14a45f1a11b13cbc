"""``kobert.pytorch_kobert`` of the original KoBERT package (v0.1, where its README imported it from), so code
written for it runs with only ``kobert`` changed to ``kobert_gluon``:

    >>> from kobert_gluon.pytorch_kobert import get_pytorch_kobert_model
    >>> model, vocab = get_pytorch_kobert_model()
    >>> all_encoder_layers, pooled_output = model(input_ids, token_type_ids, input_mask)

``get_pytorch_kobert_model`` here is v0.1's: the ``pytorch_pretrained_bert`` interface, every layer's output. The
package's top-level ``kobert_gluon.get_pytorch_kobert_model`` is v0.1.2's and later's (``from kobert import ...``:
a transformers ``BertModel``). Each refuses a call in the other's argument order.
"""
from .compat.kobert import get_pretrained_bert_kobert_model as get_pytorch_kobert_model

__all__ = ['get_pytorch_kobert_model']
