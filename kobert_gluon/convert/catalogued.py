"""Catalogued models published as transformers checkpoints, loaded in one call: the hub snapshot fetched (pinned to
the commit the revision names, every file checked against the hub's checksums), converted once into a model folder
in the cache, and that folder reused afterwards.

The conversion is offered to the layers below through :func:`kobert_gluon.hub.catalogue.set_checkpoint_converter`
(importing ``kobert_gluon`` registers it), so ``get_model('koelectra-small-v3')``, ``load_tokenizer(...)`` and every
command's ``--model NAME`` convert on first use as ``get_mxnet_kobert_model`` always did, while the models layer never
imports this one. This module is light: the converter loads ``convert.huggingface`` (and MXNet) when it runs.

The folder is ``$KOBERT_GLUON_HOME/converted/OWNER--NAME-COMMIT/``: one per commit, made under a lock (two processes
asking at once convert once), checked by its marker's checksums at every use (a damaged or half-written one is moved
aside and converted again), and its config checked against the catalogue entry's shapes.
"""
import logging
from pathlib import Path

from ..core.cache_entries import move_aside
from ..core.errors import InputError, KobertGluonError
from ..core.locks import exclusive_lock
from ..hub import artifact_store
from ..hub.artifact_store import ArtifactNotFoundError
from ..hub.catalogue import ModelSpec, set_checkpoint_converter

__all__ = ['converted_folder', 'CONVERTED_DIR']

log = logging.getLogger(__name__)

CONVERTED_DIR = 'converted'


def _problem(folder: Path):
    """Why the cached conversion ``folder`` cannot be used, or None."""
    from ..core.owned_folders import verify_folder
    from ..models.folder import MODEL_KIND
    if not (folder / 'config.json').is_file():
        return 'it is incomplete' if folder.exists() else 'missing'
    try:
        if verify_folder(folder, MODEL_KIND) is None:
            return 'it has no checksums (an interrupted conversion)'
    except KobertGluonError as err:
        return str(err).split(';')[0]
    return None


def _check_shapes(spec: ModelSpec, folder: Path) -> None:
    """The converted model is the one the entry describes (a repository that changed under its name is not)."""
    from ..models.folder import folder_config, read_config
    from ..models.building import get_architecture
    architecture = get_architecture(spec.architecture)
    expected = architecture.config_from(spec.config) if spec.config is not None else None
    got = folder_config(read_config(folder), folder / 'config.json')
    if expected is None:
        return
    if type(got) is not type(expected):
        raise InputError('{} (from {}) is a {} model, not the {} that {} names'.format(
            folder, spec.hf_repo, got.family, expected.family, spec.name))
    mismatched = [name for name in architecture.shape_fields if getattr(got, name) != getattr(expected, name)]
    if mismatched:
        raise InputError('{} (from {}) is not {}: its {} differ from the catalogue entry'.format(
            folder, spec.hf_repo, spec.name, ', '.join(mismatched)))


def converted_folder(spec: ModelSpec, cachedir=None) -> Path:
    """The model folder of the catalogued transformers checkpoint ``spec`` (see the module docstring). A checkpoint
    whose entry has its own tokenizer files (KoBERT's, DistilKoBERT's) is converted with that tokenizer, so the ids
    are the entry's; otherwise the checkpoint's own tokenizer files are read."""
    from .huggingface import fetch_checkpoint, import_hf
    if not spec.hf_repo:
        raise InputError('{} is not published as a transformers checkpoint'.format(spec.name))
    try:
        snapshot = fetch_checkpoint(spec.hf_repo, spec.hf_revision, cachedir=cachedir)
    except ArtifactNotFoundError as err:
        reason = str(err).split('; download it')[0]  # hf_hub's hint is for import-hf; this one says the whole way
        raise ArtifactNotFoundError(
            '{name} is the transformers checkpoint {repo}, fetched and converted on first use, and {reason}; download '
            'it where a network is available (hf download {repo} --revision {revision} --local-dir DIR), '
            'then run kobert-gluon import-hf DIR --out MODEL_DIR{tokenizer} and load MODEL_DIR'.format(
                name=spec.name, repo=spec.hf_repo, reason=reason, revision=spec.hf_revision,
                tokenizer=' --tokenizer ' + spec.name if (spec.tokenizer_files or spec.vocab_file) else '')) from None
    folder = artifact_store.cache_root(cachedir) / CONVERTED_DIR / '{}-{}'.format(
        spec.hf_repo.replace('/', '--'), snapshot.name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder.with_name(folder.name + '.lock'), 'conversion into {}'.format(folder), remove=True,
                        wait_s=600):
        problem = _problem(folder)
        if problem is not None and folder.exists():
            move_aside(folder, problem, 'converting it again')
        if problem is not None:
            log.info('converting %s (commit %s) into %s', spec.hf_repo, snapshot.name[:10], folder)
            tokenizer = spec.name if (spec.tokenizer_files or spec.vocab_file) else None
            import_hf(snapshot, folder, tokenizer=tokenizer, cachedir=cachedir)
    _check_shapes(spec, folder)
    return folder


set_checkpoint_converter(converted_folder)
