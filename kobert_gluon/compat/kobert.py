"""The original KoBERT Gluon API, unchanged but for the import line.

``from kobert import get_mxnet_kobert_model`` becomes ``from kobert_gluon import get_mxnet_kobert_model``;
everything else (arguments, return values, ``model(input_ids, token_type_ids[, valid_length])``) behaves as
it did.
"""
from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import mxnet as mx

from ..hub import artifact_store
from ..models.bert import KOBERT_BASE_CONFIG, build_bert
from ..models.zoo import get_model
from ..tokenizers.sentencepiece import load_vocab

__all__ = ['get_mxnet_kobert_model', 'get_kobert_model', 'get_pytorch_kobert_model', 'download']


def get_mxnet_kobert_model(use_pooler=True, use_decoder=True, use_classifier=True, ctx=mx.cpu(0), cachedir=None,
                           pretrained=True):
    """KoBERT-base as a GluonNLP ``BERTModel`` and its 8,002-token ``BERTVocab``: ``(model, vocab)``.

    Weights are fetched into ``cachedir`` (else ``$KOBERT_GLUON_HOME``, else ``~/.cache/kobert_gluon``) and
    verified. ``pretrained=False`` returns a randomly initialised model instead.
    """
    return get_model('kobert-base', pretrained=pretrained, ctx=ctx, use_pooler=use_pooler, use_decoder=use_decoder,
                     use_classifier=use_classifier, cachedir=cachedir)


def get_pytorch_kobert_model(ctx='cpu', cachedir=None, pretrained=True):
    """The original PyTorch entry point: KoBERT-base as a transformers ``BertModel`` (``return_dict=False``, as the
    original returned it) and its 8,002-token vocabulary, ``(model, vocab)``, built from the same verified weights
    as :func:`get_mxnet_kobert_model`. Needs torch and transformers: ``pip install "kobert-gluon[pytorch]"``.
    """
    from ..convert.huggingface import to_transformers_bert_model
    bert, vocab = get_mxnet_kobert_model(use_pooler=True, use_decoder=False, use_classifier=False,
                                         cachedir=cachedir, pretrained=pretrained)
    model = to_transformers_bert_model(bert, vocab)
    model.config.return_dict = False
    return model.to(ctx), vocab


def get_kobert_model(model_file, vocab_file, use_pooler=True, use_decoder=True, use_classifier=True,
                     ctx=mx.cpu(0)):
    """Build KoBERT-base from explicit files, as the original function of this name did.

    ``vocab_file`` is the KoBERT vocab JSON, or a SentencePiece model (then, as originally, the vocab is built
    from the model's pieces with ``[PAD]`` as padding token).
    """
    vocab = load_vocab(vocab_file)
    model = build_bert(KOBERT_BASE_CONFIG.replace(vocab_size=len(vocab)), use_pooler=use_pooler,
                       use_decoder=use_decoder, use_classifier=use_classifier)
    model.load_parameters(str(model_file), ctx=ctx, ignore_extra=True)
    return model, vocab


def download(url, filename=None, chksum=None, cachedir=None):
    """Fetch ``url`` into the cache (mirror first, by file name) and verify its md5 prefix; returns the path.

    Files in the manifest need no ``chksum``; any other file must give one.
    """
    return str(artifact_store.download_url(url, filename=filename, chksum=chksum, cachedir=cachedir))
