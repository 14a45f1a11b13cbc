"""Small slices of real NSMC reviews and a vocabulary built on them, shared by the pretraining-data tests.

Import the fixtures into a test module (``from nsmc_fixtures import nsmc_train_slice, ...``). Everything is
built once per test session; everything skips when ../shared/data/nsmc is absent.
"""
import pytest

from .conftest import require_shared

TRAIN_REVIEWS = 2000
TEST_REVIEWS = 1000
VOCAB_SIZE = 2000  # Korean needs ~1,200 single characters at 0.9995 coverage even on 2,000 reviews


def _head(source, target, lines):
    with open(source, encoding='utf-8') as src, open(target, 'w', encoding='utf-8') as dst:
        for _ in range(lines + 1):  # + the header line
            dst.write(src.readline())
    return target


@pytest.fixture(scope='session')
def nsmc_train_slice(tmp_path_factory):
    """The first 2,000 NSMC training reviews (``id\\tdocument\\tlabel`` with the header)."""
    source = require_shared('nsmc', 'ratings_train.txt')
    return _head(source, tmp_path_factory.mktemp('nsmc') / 'train_head.txt', TRAIN_REVIEWS)


@pytest.fixture(scope='session')
def nsmc_test_slice(tmp_path_factory):
    """The first 1,000 NSMC test reviews: text the vocabulary was not built on."""
    source = require_shared('nsmc', 'ratings_test.txt')
    return _head(source, tmp_path_factory.mktemp('nsmc') / 'test_head.txt', TEST_REVIEWS)


@pytest.fixture(scope='session')
def nsmc_vocab(nsmc_train_slice, tmp_path_factory):
    """A 2,000-piece vocabulary built on the training slice."""
    import kobert_gluon
    return kobert_gluon.build_vocab([nsmc_train_slice], VOCAB_SIZE, tmp_path_factory.mktemp('vocab') / 'nsmc',
                                    column='document', num_threads=1)
