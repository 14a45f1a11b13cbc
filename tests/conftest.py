"""Shared fixtures. Tests run offline: the artifact mirror points at ../shared/data/kobert, the cache at a
temporary folder, and official URLs are never tried."""
import os
from pathlib import Path

import pytest

pytest.register_assert_rewrite('tests.family_checks', 'tests.family_tests')  # their checks assert as a test does

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


# ----- tiny runs: what the run-folder, output-file and data-check tests train and then misuse -------------------------
TINY_RUN = ['--model', 'kobert-mini', '--from-scratch', '--num-layers', '1', '--units', '32', '--hidden-size', '64',
            '--num-heads', '2', '--max-seq-length', '32', '--no-progress', '--batch-size', '8']
README_REVIEWS = ['이 영화 정말 재밌어요', '최악의 영화']
LONG_REVIEW = '정말 재밌는 영화였어요 배우들의 연기가 좋았고 ' * 20 + '그런데 결말은 최악이었어요'
POSITIVE = ['정말 재밌어요', '최고의 영화', '배우 연기가 좋다', '또 보고 싶다', '감동적인 이야기']
NEGATIVE = ['너무 지루하다', '최악의 영화', '시간이 아깝다', '연기가 별로', '다시는 안 본다']


def write_reviews(path: Path, rows: int = 40, offset: int = 0) -> Path:
    lines = ['text\tlabel']
    for i in range(offset, offset + rows):
        words = POSITIVE if i % 2 == 0 else NEGATIVE
        lines.append('{} {}\t{}'.format(words[i % 5], i, 'pos' if i % 2 == 0 else 'neg'))
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path


def finetune_args(train, out, *extra):
    return ['finetune', '--train', str(train), '--text-column', 'text', '--label-column', 'label',
            '--dev-fraction', '0.2', '--epochs', '1', '--out', str(out)] + TINY_RUN + [str(e) for e in extra]


def tree(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: a snapshot to compare."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    """A finished tiny fine-tuning run (its snapshot is compared after the misuses of a test module)."""
    from kobert_gluon.cli import main
    folder = tmp_path_factory.mktemp('finished')
    train = write_reviews(folder / 'train.tsv')
    out = folder / 'run'
    assert main(finetune_args(train, out)) == 0
    return train, out


def copy_run(source: Path, target: Path) -> Path:
    import shutil
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope='module')
def mini_pretraining_data(tmp_path_factory):
    """Pretraining shards of 60 reviews in kobert-mini's vocabulary."""
    from kobert_gluon import InstanceOptions, TextSource, create_pretraining_data, load_tokenizer
    folder = tmp_path_factory.mktemp('mini-pretraining')
    reviews = write_reviews(folder / 'reviews.tsv', rows=60)
    return create_pretraining_data(TextSource([reviews], column='text'), folder / 'data', load_tokenizer('kobert-mini'),
                                   input_format='lines', options=InstanceOptions(max_seq_length=32, dupe_factor=1))
