"""DistilKoBERT's own entry points (the ``distilkobert`` and ``kobert-transformers`` packages of its README):
transformers models and the transformers-side KoBERT tokenizer, as those packages returned them."""
from ..models.family_registry import get_family
from ..hub.catalogue import get_model_spec
from ..models.building import get_architecture
from ..tokenizers.sentencepiece import TransformersKoBERTTokenizer
from .kobert import _pytorch_models, get_pytorch_kobert_model

__all__ = ['get_distilkobert_model', 'get_kobert_model', 'get_tokenizer']


def get_distilkobert_model(no_cuda=False, cachedir=None, pretrained=True):
    """DistilKoBERT as transformers' ``DistilBertModel`` in eval mode, on the GPU when there is one and ``no_cuda``
    is off (as ``distilkobert.get_distilkobert_model`` did). Called as DistilKoBERT's README calls it,
    ``last_layer_hidden_state, _ = model(input_ids, attention_mask)`` (the last layer, then every layer's
    output). The weights are ``monologg/distilkobert``, fetched as a hub snapshot verified by the hub's checksums;
    ``pretrained=False`` gives DistilKoBERT's shape with random weights."""
    _pytorch_models()  # a one-line error without torch and transformers
    import torch
    import transformers
    spec = get_model_spec('distilkobert')
    options = dict(output_hidden_states=True, return_dict=False)
    if pretrained:
        from ..convert.huggingface import fetch_checkpoint
        folder = fetch_checkpoint(spec.hf_repo, spec.hf_revision, cachedir=cachedir)
        model = transformers.DistilBertModel.from_pretrained(str(folder), **options)
    else:
        config = get_architecture(spec.architecture).config_from(spec.config)
        hf_config = get_family('distilbert').transformers.hf_config(config)
        model = transformers.DistilBertModel(transformers.DistilBertConfig(**hf_config, pad_token_id=1, **options))
    device = 'cuda' if torch.cuda.is_available() and not no_cuda else 'cpu'
    return model.to(device).eval()


def get_kobert_model(cachedir=None, pretrained=True):
    """KoBERT-base as ``kobert_transformers.get_kobert_model()`` returned it: a transformers ``BertModel``,
    ``model(input_ids, attention_mask, token_type_ids)`` -> ``(sequence_output, pooled_output)``."""
    return get_pytorch_kobert_model(cachedir=cachedir, pretrained=pretrained)[0]


def get_tokenizer(cachedir=None) -> TransformersKoBERTTokenizer:
    """KoBERT's tokenizer as DistilKoBERT's README uses it (transformers' ``KoBertTokenizer``: SentencePiece over the
    whole text, special tokens kept whole): ``tokenize`` and ``convert_tokens_to_ids`` give the README's pieces
    and ids."""
    return TransformersKoBERTTokenizer.from_pretrained('kobert-base', cachedir=cachedir)
