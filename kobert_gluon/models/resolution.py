"""A model argument resolved once: :func:`resolve_model` reads what a name or folder stands for (the catalogue entry,
or the model folder's checked ``config.json``), and the :class:`ResolvedModel` it returns is what fine-tuning,
pretraining, prediction, export and conversion pass along: its architecture and config, the heads its weights hold,
its tokenizer (loaded once), and :meth:`ResolvedModel.build`, the one builder that picks heads, applies overrides
and loads the weights for registered models and model folders alike.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

from ..core.errors import InputError
from ..core.mxnet_stack import mx
from ..heads.registry import build_head
from ..hub import artifact_store
from ..hub.catalogue import ModelSpec, checkpoint_folder, is_checkpoint_only, lookup
from ..hub.model_paths import MODEL, check_model_path
from ..tokenizers.registry import get_tokenizer_kind
from . import folder as model_folder
from .building import Architecture, as_context, get_architecture, initialize_random

__all__ = ['ResolvedModel', 'resolve_model', 'load_model']


@dataclass
class ResolvedModel:
    """What one model argument names. ``folder`` and ``document`` (the checked ``config.json``) for a model folder
    (shipped models and run folders resolve to theirs), ``spec`` for a catalogue entry built from downloaded weights.
    """
    given: Any
    architecture: Architecture
    config: Any
    saved_heads: Dict[str, bool]
    folder: Optional[Path] = None
    document: Optional[Dict[str, Any]] = None
    spec: Optional[ModelSpec] = None
    cachedir: Any = None
    _tokenizer: Any = field(default=None, repr=False)
    _converted_model: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return str(self.folder) if self.folder is not None else self.spec.name

    @property
    def task(self) -> Optional[Dict[str, Any]]:
        """The task head a fine-tuned folder holds (its ``task`` section), else None."""
        return (self.document or {}).get('task')

    @property
    def tokenizer(self):
        """The model's tokenizer (of its recorded kind), loaded on first use and then kept."""
        if self._tokenizer is None:
            if self.folder is not None:
                self._tokenizer = model_folder.load_folder_tokenizer(self.folder, self.document)
            elif self._checkpoint_only and not (self.spec.tokenizer_files or self.spec.vocab_file):
                self._tokenizer = self._converted().tokenizer  # its tokenizer files come with the checkpoint
            else:
                self._tokenizer = get_tokenizer_kind(self.spec.tokenizer_kind).from_pretrained(
                    self.spec.name, cachedir=self.cachedir)
        return self._tokenizer

    @property
    def _checkpoint_only(self) -> bool:
        return self.spec is not None and is_checkpoint_only(self.spec)

    def _converted(self) -> 'ResolvedModel':
        """The model folder a catalogued transformers checkpoint converts into (fetched and converted on first use,
        :func:`~kobert_gluon.hub.catalogue.checkpoint_folder`), resolved."""
        if self._converted_model is None:
            self._converted_model = resolve_model(checkpoint_folder(self.spec, cachedir=self.cachedir),
                                                  cachedir=self.cachedir)
        return self._converted_model

    @property
    def vocab(self):
        return self.tokenizer.vocab

    def build(self, pretrained: bool = True, ctx=None, new_heads=(), **options):
        """``(model, vocab)``: the architecture with the heads asked for (``use_pooler=...``; left out or None, the
        ones its weights hold, or the entry's defaults), config overrides (``dropout``; shapes only with
        ``pretrained=False``), and the verified weights (or random ones). A head the weights lack is an error,
        unless named in ``new_heads``: then it starts from random weights, as fine-tuning does for a DistilBERT's
        pre-classifier."""
        if pretrained and self._checkpoint_only:  # the weights are the converted checkpoint's, with its heads
            return self._converted().build(pretrained=True, ctx=ctx, new_heads=new_heads, **options)
        wanted = self.architecture.take_heads(options)
        config = self.config
        if options:
            changed = self.architecture.changed_shapes(config, options)
            if changed and pretrained:
                raise InputError('cannot change {} of {}: its weights have fixed shapes (use pretrained=False to '
                                 'train such a model from scratch)'.format(', '.join(changed), self._described()))
            config = config.replace(**options)
        heads, fresh = {}, []
        for head in self.architecture.optional_heads:
            value = wanted.get(head)
            if value is None:
                value = bool(self.saved_heads.get(head, False))
            elif value and not self.saved_heads.get(head, False) and pretrained and self.folder is not None:
                if head not in new_heads:
                    raise InputError('{} was saved without the {} head, so {}=True cannot be loaded; pass {}=False'
                                     .format(self.folder, head[4:], head, head))
                fresh.append(head[4:])  # the block attribute: pooler, decoder, classifier
            heads[head] = value
        vocab = self.vocab
        if len(vocab) != config.vocab_size:
            raise InputError('model {} expects {} tokens but its vocabulary has {}'.format(
                self.name, config.vocab_size, len(vocab)))
        backbone = self.architecture.build(config, **heads)
        model = build_head(backbone, self.task) if self.task else backbone
        ctx = as_context(ctx)
        # random weights: all of them, or the new heads' (the saved weights are then loaded over the rest)
        if not pretrained or fresh:
            initialize_random(model, ctx)
        if pretrained and self.folder is not None:
            self._load_folder_weights(model, fresh, ctx)
        elif pretrained:
            self._load_catalogue_weights(model, ctx)
        return model, vocab

    def _described(self) -> str:
        return 'the saved model {}'.format(self.folder) if self.folder is not None else 'pretrained {!r}'.format(
            self.spec.name)

    def _load_folder_weights(self, model, fresh, ctx) -> None:
        model_folder.verify_model_folder(self.folder)
        params = self.folder / model_folder.PARAMS_FILE
        if fresh:  # initialised already: every other parameter must be in the file
            model_folder.check_only_fresh_missing(model, params, fresh)
        try:
            model.load_parameters(str(params), ctx=ctx, ignore_extra=True, cast_dtype=True,
                                  dtype_source='current', allow_missing=bool(fresh))
        except AssertionError as err:  # mxnet reports missing/mismatched parameters with bare asserts
            raise InputError('the weights in {} do not fit the model described by its config: {}'
                             .format(params, err)) from err
        except mx.base.MXNetError as err:  # truncated, empty or not an MXNet parameter file at all
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            reason = lines[-1] if lines else type(err).__name__  # MXNet's C++ trace ends with the actual check
            raise InputError('cannot read the weights in {}: the file is damaged or not an MXNet parameter file ({}); '
                             'restore it from a copy of the model folder'.format(params, reason[:200])) from None
        model.kobert_folder = str(self.folder)

    def _load_catalogue_weights(self, model, ctx) -> None:
        spec = self.spec
        params_path = artifact_store.fetch_first(spec.params_files, cachedir=self.cachedir)
        try:
            model.load_parameters(str(params_path), ctx=ctx, ignore_extra=True)
        except AssertionError as err:
            raise InputError('{} does not hold every weight the requested model needs ({}); try use_decoder=False '
                             'or use_classifier=False'.format(params_path, err)) from err


def resolve_model(name_or_folder, cachedir=None) -> ResolvedModel:
    """What ``name_or_folder`` (a registered name, a model folder, a run folder meaning its ``best/``) stands for,
    read once: the folder's ``config.json`` checked against its SHA-256, or the catalogue entry."""
    entry = lookup(name_or_folder)
    if isinstance(entry, Path):
        check_model_path(entry, kinds=(MODEL,))  # a vocabulary folder, a file ...: what it is and what to do
        document = model_folder.read_config(entry)
        return ResolvedModel(name_or_folder, model_folder.folder_architecture(document),
                             model_folder.folder_config(document, entry / model_folder.CONFIG_FILE),
                             dict(document['heads']), folder=entry, document=document, cachedir=cachedir)
    architecture = get_architecture(entry.architecture)
    defaults = {head: bool(entry.default_heads.get(head, False)) for head in architecture.optional_heads}
    return ResolvedModel(name_or_folder, architecture, architecture.config_from(entry.config), defaults, spec=entry,
                         cachedir=cachedir)


def load_model(folder, ctx=None, pretrained=True, new_heads=(), **options):
    """Rebuild the model saved in ``folder``; returns ``(model, vocab)`` (see :meth:`ResolvedModel.build`)."""
    folder = Path(folder)
    if not model_folder.is_model_folder(folder):
        raise FileNotFoundError('{} is not a kobert-gluon model folder: it has no {}'
                                .format(folder, model_folder.CONFIG_FILE))
    return resolve_model(folder).build(pretrained=pretrained, ctx=ctx, new_heads=new_heads, **options)
