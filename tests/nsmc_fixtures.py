"""Small slices of real NSMC reviews and a vocabulary built on them, shared by the pretraining-data tests.

Import the fixtures into a test module (``from nsmc_fixtures import nsmc_train_slice, ...``). Everything is
built once per test session. Without ../shared/data/nsmc (a user's fresh clone) the slices are review-like
texts made from the pieces of kobert-mini's SentencePiece model, which ships in the package and was trained
on NSMC: the same file format, the same alphabet, seeded so that every run makes the same files.
"""
import random

import pytest

from .conftest import SHARED_DATA

TRAIN_REVIEWS = 2000
TEST_REVIEWS = 1000
VOCAB_SIZE = 2000  # Korean needs ~1,200 single characters at 0.9995 coverage even on 2,000 reviews
COMMON_PIECES = 2500


def _made_up_reviews(target, lines, seed):
    """``lines`` reviews of 2-4 sentences of 2-8 of kobert-mini's pieces each, in NSMC's format."""
    from kobert_gluon.models.zoo import resolve_tokenizer_files
    _, vocab = resolve_tokenizer_files('kobert-mini')
    # the model's most frequent pieces (SentencePiece orders them by score): an alphabet about NSMC's own size
    pieces = [t for t in vocab.idx_to_token[5:] if not t.startswith('<') and t.strip('▁')][:COMMON_PIECES]
    rng = random.Random(seed)
    with open(target, 'w', encoding='utf-8') as out:
        out.write('id\tdocument\tlabel\n')
        for i in range(lines):
            sentences = [''.join(rng.choice(pieces) for _ in range(rng.randint(2, 8))).replace('▁', ' ').strip()
                         + rng.choice('.!?') for _ in range(rng.randint(2, 4))]
            out.write('{}\t{}\t{}\n'.format(9000000 + i, ' '.join(sentences), rng.randint(0, 1)))
    return target


def _slice(name, target, lines, seed):
    source = SHARED_DATA / 'nsmc' / name
    if source.is_file():
        return _head(source, target, lines)
    return _made_up_reviews(target, lines, seed)


def _head(source, target, lines):
    with open(source, encoding='utf-8') as src, open(target, 'w', encoding='utf-8') as dst:
        for _ in range(lines + 1):  # + the header line
            dst.write(src.readline())
    return target


@pytest.fixture(scope='session')
def nsmc_train_slice(tmp_path_factory):
    """The first 2,000 NSMC training reviews (``id\\tdocument\\tlabel`` with the header)."""
    return _slice('ratings_train.txt', tmp_path_factory.mktemp('nsmc') / 'train_head.txt', TRAIN_REVIEWS, seed=1)


@pytest.fixture(scope='session')
def nsmc_test_slice(tmp_path_factory):
    """The first 1,000 NSMC test reviews: text the vocabulary was not built on."""
    return _slice('ratings_test.txt', tmp_path_factory.mktemp('nsmc') / 'test_head.txt', TEST_REVIEWS, seed=2)


@pytest.fixture(scope='session')
def nsmc_vocab(nsmc_train_slice, tmp_path_factory):
    """A 2,000-piece vocabulary built on the training slice."""
    import kobert_gluon
    return kobert_gluon.build_vocab([nsmc_train_slice], VOCAB_SIZE, tmp_path_factory.mktemp('vocab') / 'nsmc',
                                    column='document', num_threads=1)
