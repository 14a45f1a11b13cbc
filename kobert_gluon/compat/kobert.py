"""The original KoBERT Gluon API, unchanged but for the import line.

``from kobert import get_mxnet_kobert_model`` becomes ``from kobert_gluon import get_mxnet_kobert_model``;
everything else (arguments, return values, ``model(input_ids, token_type_ids[, valid_length])``) behaves as
it did.
"""
import logging

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..core.owned_folders import read_marker
from ..hub import artifact_store
from ..hub.artifact_store import ArtifactNotFoundError
from ..hub.catalogue import get_model_spec
from ..models.bert import KOBERT_BASE_CONFIG, build_bert
from ..models.zoo import get_model
from ..tokenizers.sentencepiece import load_vocab

__all__ = ['get_mxnet_kobert_model', 'get_kobert_model', 'get_pytorch_kobert_model', 'get_pretrained_bert_kobert_model',
           'get_onnx_kobert_model', 'download']

log = logging.getLogger(__name__)


def get_mxnet_kobert_model(use_pooler=True, use_decoder=True, use_classifier=True, ctx=mx.cpu(0), cachedir=None,
                           pretrained=True):
    """KoBERT-base as a GluonNLP ``BERTModel`` and its 8,002-token ``BERTVocab``: ``(model, vocab)``.

    Weights are fetched into ``cachedir`` (else ``$KOBERT_GLUON_HOME``, else ``~/.cache/kobert_gluon``) and
    verified: the legacy MXNet params file, else GluonNLP's model-zoo copy, else the transformers checkpoint of
    ``skt/kobert-base-v1`` (converted once into a model folder in the cache; it has no MLM/NSP heads, so then
    ``use_decoder=False, use_classifier=False``). ``pretrained=False`` returns a randomly initialised model instead.
    """
    heads = dict(use_pooler=use_pooler, use_decoder=use_decoder, use_classifier=use_classifier)
    try:
        return get_model('kobert-base', pretrained=pretrained, ctx=ctx, cachedir=cachedir, **heads)
    except ArtifactNotFoundError as no_params:
        if not pretrained:
            raise
        folder = _kobert_from_transformers(cachedir, no_params)
    return get_model(folder, ctx=ctx, **heads)


def _kobert_from_transformers(cachedir, no_params: ArtifactNotFoundError):
    """The model folder converted from KoBERT's transformers checkpoint (:func:`convert.catalogued.converted_folder`:
    fetched and verified, converted once per commit with KoBERT's own ids, checked against KoBERT-base's shape)."""
    from ..convert.catalogued import converted_folder
    try:
        return converted_folder(get_model_spec('kobert-base'), cachedir=cachedir)
    except ArtifactNotFoundError as no_checkpoint:
        raise ArtifactNotFoundError('{}\nnor could the transformers checkpoint be had instead:\n{}'
                                    .format(no_params, no_checkpoint)) from None


def _pytorch_models():
    try:
        from . import pytorch_models
    except ImportError as err:
        raise InputError('a PyTorch KoBERT needs torch and transformers ({}); run: pip install '
                         '"kobert-gluon[pytorch]"'.format(err)) from None
    return pytorch_models


def _transformers_kobert(cachedir, pretrained, model_class=None):
    from ..convert.huggingface import to_transformers_bert_model
    bert, vocab = get_mxnet_kobert_model(use_pooler=True, use_decoder=False, use_classifier=False,
                                         cachedir=cachedir, pretrained=pretrained)
    return to_transformers_bert_model(bert, vocab, model_class=model_class), vocab


def get_pytorch_kobert_model(ctx='cpu', cachedir=None, pretrained=True):
    """KoBERT's PyTorch entry point since v0.1.2 (``from kobert import get_pytorch_kobert_model``): KoBERT-base as a
    transformers ``BertModel`` (``return_dict=False``, eval mode) and its 8,002-token vocabulary, ``(model, vocab)``,
    built from the same verified weights as :func:`get_mxnet_kobert_model`. Called as the README calls it,
    ``model(input_ids, input_mask, token_type_ids)`` -> ``(sequence_output, pooled_output)``; a call in v0.1's
    order is refused (:mod:`.pytorch_models`). Needs torch and transformers: ``pip install "kobert-gluon[pytorch]"``.
    """
    model, vocab = _transformers_kobert(cachedir, pretrained, _pytorch_models().KoBERTBertModel)
    model.config.return_dict = False
    return model.to(ctx).eval(), vocab


def get_pretrained_bert_kobert_model(ctx='cpu', cachedir=None, pretrained=True):
    """KoBERT v0.1's PyTorch entry point (``from kobert.pytorch_kobert import get_pytorch_kobert_model``, which
    returned a ``pytorch_pretrained_bert`` ``BertModel``): ``model(input_ids, token_type_ids, input_mask)`` ->
    ``(all_encoder_layers, pooled_output)``, eval mode, ``(model, vocab)``; a call in transformers' order is refused.
    ``kobert_gluon.pytorch_kobert.get_pytorch_kobert_model`` is this function."""
    model, vocab = _transformers_kobert(cachedir, pretrained)
    return _pytorch_models().PretrainedBertKoBERT(model).to(ctx).eval(), vocab


def get_onnx_kobert_model(cachedir=None, model=None, pretrained: bool = True, seed: int = 0, **overrides) -> str:
    """Path of a KoBERT ONNX file with the original signature, exported once and reused afterwards.

    Use it as the original KoBERT README did::

        sess = onnxruntime.InferenceSession(get_onnx_kobert_model())
        outputs = sess.run(None, {'input_ids': ids, 'token_type_ids': types, 'input_mask': mask,
                                  'position_ids': np.array(range(L))})
        sequence_output = outputs[-2]

    The file is a verified cache entry (``artifact_store.cache_root(cachedir)``, its SHA-256 checked at every use)
    keyed by a checksum of the weights, so other weights give another file. By default the weights are the
    pretrained KoBERT-base parameters, from the same sources and with the same fallback as
    :func:`get_mxnet_kobert_model` (the params files, else ``skt/kobert-base-v1`` converted once). ``model=``
    exports the given BERTModel (with pooler) instead; ``pretrained=False`` uses randomly initialised KoBERT-base
    weights drawn with ``seed`` (for trying the pipeline and for tests; this reseeds MXNet's global random
    generator), and then ``overrides`` may change the shape as in :func:`~kobert_gluon.get_model`.
    """
    from ..core.cache_entries import cached_file
    from ..export.onnx_export import export_onnx, finish_initialisation, weights_checksum
    if overrides and (model is not None or pretrained):
        raise InputError('model options ({}) apply only to pretrained=False without model='
                         .format(', '.join(sorted(overrides))))
    heads = dict(use_pooler=True, use_decoder=False, use_classifier=False)
    if model is None and pretrained:
        spec = get_model_spec('kobert-base')
        try:  # keyed by the weights file's checksum: no model is built when the export is cached
            found = artifact_store.fetch_first(spec.params_files, cachedir=cachedir)
            key = artifact_store.MANIFEST[found.name].checksum[:10]
            source = 'kobert-base'
        except ArtifactNotFoundError as no_params:
            source = _kobert_from_transformers(cachedir, no_params)
            key = (read_marker(source) or {}).get('sha256', {}).get('model.params', '')[:10] or source.parent.name

        def load():
            return get_model(source, cachedir=cachedir, **heads)[0]
    else:
        if model is None:
            # get_model draws the weights from MXNet's global generator (the deferred ones at the first
            # forward pass): seeding it makes the same seed give the same weights, and so the same file.
            mx.random.seed(seed)
            model, _ = get_model('kobert-base', pretrained=False, cachedir=cachedir, **heads, **overrides)
            finish_initialisation(model)
        key = weights_checksum(model)[:10]
        given = model

        def load():
            return given
    path = artifact_store.cache_root(cachedir) / 'onnx_kobert_{}.onnx'.format(key)
    return str(cached_file(path, lambda target: export_onnx(load(), target, signature='kobert-original'),
                           'ONNX export into {}'.format(path)))


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
