"""Shared fixtures. Tests run offline: the artifact mirror points at ../shared/data/kobert, the cache at a
temporary folder, and official URLs are never tried."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / 'shared' / 'data'
KOBERT_FILES = SHARED_DATA / 'kobert'


def require_shared(*parts):
    """Skip (with the reason) unless ../shared/data/<parts> exists."""
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
