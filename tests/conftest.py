"""Shared fixtures. Tests run offline: the artifact mirror points at ../shared/data/kobert, the cache at a
temporary folder, and official URLs are never tried."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# KOBERT_GLUON_TEST_SHARED_DATA points elsewhere; at a missing folder it runs the suite as on a user's fresh
# clone, where only what ships in the package and what the tests write is there (CI runs it both ways).
SHARED_DATA = Path(os.environ.get('KOBERT_GLUON_TEST_SHARED_DATA', REPO.parent / 'shared' / 'data'))
KOBERT_FILES = SHARED_DATA / 'kobert'


def require_shared(*parts):
    """Skip (with the reason) unless ../shared/data/<parts> exists."""
    __tracebackhide__ = True  # `pytest -rs` names the test's line, not this one
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip('needs the real data at {} (absent on this machine)'.format(path))
    return path


@pytest.fixture(scope='session', autouse=True)
def offline_session(tmp_path_factory):
    """The same offline settings for module- and session-scoped fixtures, which run before ``offline_store``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('KOBERT_GLUON_HOME', str(tmp_path_factory.mktemp('session-cache')))
        patch.setenv('KOBERT_GLUON_OFFLINE', '1')
        patch.setenv('KOBERT_GLUON_MIRROR', str(KOBERT_FILES))
        yield


@pytest.fixture(autouse=True)
def offline_store(tmp_path_factory, monkeypatch):
    """Every test gets an empty cache, the shared KoBERT files as mirror, and no network."""
    monkeypatch.setenv('KOBERT_GLUON_HOME', str(tmp_path_factory.mktemp('cache')))
    monkeypatch.setenv('KOBERT_GLUON_OFFLINE', '1')
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(KOBERT_FILES))


@pytest.fixture
def kobert_files():
    """The real KoBERT tokenizer files; skips when ../shared/data/kobert is absent."""
    return require_shared('kobert')


@pytest.fixture
def kobert_store(tmp_path_factory, monkeypatch):
    """A folder with KoBERT's tokenizer files under their manifest names, set as the mirror: the real files where
    ../shared/data/kobert is there; elsewhere (a fresh clone) stand-ins, kobert-mini's tokenizer.model and
    vocab.json (the same 8,002-token layout and special ids), registered for this test with their own checksums.
    For tests of the store and of the KoBERT API's plumbing; tests of KoBERT's own pieces and ids use
    ``kobert_files``."""
    if KOBERT_FILES.is_dir():
        return KOBERT_FILES
    import dataclasses
    import hashlib
    from kobert_gluon.hub import artifact_store
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    from kobert_gluon.tokenizers.sentencepiece import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE
    shipped = Path(resolve_tokenizer_files('kobert-mini')[0]).parent
    folder = tmp_path_factory.mktemp('kobert-stand-ins')
    for name, source in ((KOBERT_TOKENIZER_FILES[1], 'tokenizer.model'), (KOBERT_VOCAB_FILE, 'vocab.json')):
        data = (shipped / source).read_bytes()
        (folder / name).write_bytes(data)
        official = artifact_store.MANIFEST[name]
        monkeypatch.setitem(artifact_store.MANIFEST, name,
                            dataclasses.replace(official, checksum=hashlib.md5(data).hexdigest()))
    monkeypatch.setenv('KOBERT_GLUON_MIRROR', str(folder))
    return folder


# KoBERT-base's shape. With random weights, a model of this shape needs no downloaded file: kobert-mini (shipped
# in the package) has the same 8,002-token vocabulary size and layout, so its folder builds it.
KOBERT_BASE_SHAPE = dict(num_layers=12, units=768, hidden_size=3072, num_heads=12, max_length=512, embed_size=768)


def random_kobert(**overrides):
    """``(model, vocab)``: what ``get_model('kobert-base', pretrained=False, **overrides)`` builds (same
    architecture and heads, random weights), made from what ships in the package instead of KoBERT's files."""
    from kobert_gluon import get_model
    shape = dict(KOBERT_BASE_SHAPE, embed_size=overrides.get('units', KOBERT_BASE_SHAPE['units']))
    return get_model('kobert-mini', pretrained=False, **{**shape, **overrides})


def shipped_tokenizer_path():
    """A real 8,000-piece SentencePiece model that ships in the package (kobert-mini's)."""
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    return resolve_tokenizer_files('kobert-mini')[0]


def run_cli(capsys, *args):
    """``(exit code, stdout, stderr)`` of ``kobert-gluon ARGS`` run in this process, as a user would run it."""
    from kobert_gluon.cli import main
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str, command: str) -> str:
    """The one ``kobert-gluon COMMAND: error: ...`` line of ``err``; fails unless there is exactly one and no
    traceback."""
    lines = [line for line in err.splitlines() if line.startswith('kobert-gluon {}: error:'.format(command))]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]
