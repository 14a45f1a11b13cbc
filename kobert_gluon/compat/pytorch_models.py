"""KoBERT in PyTorch as the original package's two PyTorch entry points returned it (needs torch and transformers;
imported only by the functions that build these models).

KoBERT's README changed the PyTorch call between releases, and both are in use:

* v0.1 (``from kobert.pytorch_kobert import get_pytorch_kobert_model``) returned a ``pytorch_pretrained_bert``
  ``BertModel``: ``model(input_ids, token_type_ids, input_mask)`` -> ``(all_encoder_layers, pooled_output)``, a list
  of every layer's output. :class:`PretrainedBertKoBERT` is that model.
* v0.1.2 and later (``from kobert import get_pytorch_kobert_model``) return a transformers ``BertModel``:
  ``model(input_ids, input_mask, token_type_ids)`` -> ``(sequence_output, pooled_output)``. :class:`KoBERTBertModel`
  is a transformers ``BertModel``.

The same positional call means the other thing to the other model (the mask read as token types and the types as
the mask), so both check the order on every call: the first position is ``[CLS]``, always attended and always
segment 0, so an ``attention_mask`` whose first column is 0 or ``token_type_ids`` whose first column is not 0 were
swapped, and the call is refused naming the order this model takes.
"""
import torch
import transformers

from ..core.errors import InputError

__all__ = ['PretrainedBertKoBERT', 'KoBERTBertModel', 'check_argument_order']


def check_argument_order(token_type_ids, attention_mask, order: str) -> None:
    """Refuse inputs that can only be a mask and token types passed in the other order (see the module)."""
    swapped = ((token_type_ids is not None and bool((torch.as_tensor(token_type_ids)[:, :1] != 0).any()))
               or (attention_mask is not None and bool((torch.as_tensor(attention_mask)[:, :1] == 0).any())))
    if swapped:
        raise InputError('the token types start with 1 or the attention mask with 0 at [CLS]: the mask and the token '
                         'types were passed in the other order. This model takes {}; pass them by keyword '
                         '(token_type_ids=..., attention_mask=...)'.format(order))


class PretrainedBertKoBERT(torch.nn.Module):
    """KoBERT with the interface of ``pytorch_pretrained_bert.BertModel`` (what KoBERT v0.1 returned):
    ``forward(input_ids, token_type_ids=None, attention_mask=None, output_all_encoded_layers=True)`` ->
    ``(encoded_layers, pooled_output)``, ``encoded_layers`` the list of the 12 layers' outputs (or the last one
    alone with ``output_all_encoded_layers=False``). ``bert`` is the transformers ``BertModel`` computing it."""

    ORDER = 'model(input_ids, token_type_ids, attention_mask), as KoBERT v0.1 (pytorch_pretrained_bert)'

    def __init__(self, bert: transformers.BertModel):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, output_all_encoded_layers=True):
        check_argument_order(token_type_ids, attention_mask, self.ORDER)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                        output_hidden_states=True, return_dict=True)
        layers = list(out.hidden_states[1:])  # hidden_states[0] is the embeddings
        return (layers if output_all_encoded_layers else layers[-1]), out.pooler_output


class KoBERTBertModel(transformers.BertModel):
    """A transformers ``BertModel`` (``return_dict=False``, as KoBERT v0.1.2 and later return it) that refuses a
    call whose mask and token types are in the other order (v0.1's)."""

    ORDER = 'model(input_ids, attention_mask, token_type_ids), as transformers (KoBERT v0.1.2 and later)'

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, *args, **kwargs):
        check_argument_order(token_type_ids, attention_mask, self.ORDER)
        return super().forward(input_ids, attention_mask, token_type_ids, *args, **kwargs)
