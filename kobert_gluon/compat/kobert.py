"""The original KoBERT Gluon API, unchanged but for the import line.

``from kobert import get_mxnet_kobert_model`` becomes ``from kobert_gluon import get_mxnet_kobert_model``;
everything else (arguments, return values, ``model(input_ids, token_type_ids[, valid_length])``) behaves as
it did.
"""
from ..core import environment  # noqa: F401  (first: numpy check, mxnet without onnx, the gluonnlp fix)
import logging
from typing import Optional

import mxnet as mx

from ..core.cache_entries import move_aside
from ..core.errors import KobertGluonError
from ..core.locks import exclusive_lock
from ..core.owned_folders import verify_folder
from ..hub import artifact_store
from ..hub.artifact_store import ArtifactNotFoundError
from ..hub.catalogue import get_model_spec
from ..models.bert import KOBERT_BASE_CONFIG, build_bert
from ..models.folder import MODEL_KIND, folder_config, read_config
from ..models.zoo import get_model
from ..tokenizers.sentencepiece import load_vocab

__all__ = ['get_mxnet_kobert_model', 'get_kobert_model', 'get_pytorch_kobert_model', 'download']

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


def _converted_problem(folder) -> Optional[str]:
    """Why the cached conversion ``folder`` cannot be used (missing, or a file differs from its SHA-256), or None."""
    if not (folder / 'config.json').is_file():
        return 'it is incomplete' if folder.exists() else 'missing'
    try:
        if verify_folder(folder, MODEL_KIND) is None:
            return 'it has no checksums (an interrupted conversion)'
    except KobertGluonError as err:
        return str(err).split(';')[0]
    return None


def _kobert_from_transformers(cachedir, no_params: ArtifactNotFoundError):
    """The model folder converted from KoBERT's transformers checkpoint (fetched and verified), made once per commit.
    """
    from ..convert.huggingface import fetch_checkpoint, import_hf
    spec = get_model_spec('kobert-base')
    try:
        snapshot = fetch_checkpoint(spec.hf_repo, spec.hf_revision, cachedir=cachedir)
    except ArtifactNotFoundError as no_checkpoint:
        raise ArtifactNotFoundError('{}\nnor could the transformers checkpoint be had instead:\n{}'
                                    .format(no_params, no_checkpoint)) from None
    root = artifact_store.cache_root(cachedir)
    folder = root / 'converted' / '{}-{}'.format(spec.hf_repo.replace('/', '--'), snapshot.name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder.with_name(folder.name + '.lock'), 'conversion into {}'.format(folder), remove=True,
                        wait_s=600):
        problem = _converted_problem(folder)
        if problem is not None and folder.exists():
            move_aside(folder, problem, 'converting it again')
        if problem is not None:
            log.info('converting %s (commit %s) into %s', spec.hf_repo, snapshot.name[:10], folder)
            import_hf(snapshot, folder, tokenizer='kobert-base', cachedir=cachedir)  # KoBERT's own ids
    expected = KOBERT_BASE_CONFIG.replace(**spec.config)
    got = folder_config(read_config(folder), folder / 'config.json')
    mismatched = [name for name in ('vocab_size', 'num_layers', 'units', 'hidden_size', 'num_heads', 'max_length')
                  if getattr(got, name) != getattr(expected, name)]
    if mismatched:
        raise ArtifactNotFoundError('{} (from {}) is not KoBERT-base: its {} differ'
                                    .format(folder, spec.hf_repo, ', '.join(mismatched)))
    return folder


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
