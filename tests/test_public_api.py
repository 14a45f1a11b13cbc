"""The names the documentation imports exist: every ``from kobert_gluon... import NAME`` in README.md and docs/
resolves, and every name in ``kobert_gluon.__all__`` loads (they load lazily, so a wrong table entry would only
show when a user first touches it)."""
import importlib
import re

import pytest

import kobert_gluon

from .conftest import REPO

# `from kobert_gluon[.module] import a, b as c` and the parenthesised form over several lines; `>>> ` and `... `
# prompts of doctest-style examples are taken off first
_IMPORT = re.compile(r'^from (kobert_gluon(?:\.\w+)*) import (\([^)]*\)|[^\n#]+)', re.MULTILINE)


def _documented_imports():
    pages = [REPO / 'README.md'] + sorted((REPO / 'docs').rglob('*.md'))
    found = []
    for page in pages:
        if not page.is_file():
            continue
        text = re.sub(r'^\s*(>>>|\.\.\.) ?', '', page.read_text(encoding='utf-8'), flags=re.MULTILINE)
        text = re.sub(r'`', '\n', text)  # inline code: `from kobert_gluon import x` in a sentence or a table
        for module, names in _IMPORT.findall(text):
            for name in names.strip('()').replace('\n', ' ').split(','):
                name = name.split(' as ')[0].strip()
                if name and name != '...' and re.match(r'^\w+$', name):
                    found.append((page.relative_to(REPO).as_posix(), module, name))
    return found


def test_every_name_the_documentation_imports_exists():
    documented = _documented_imports()
    # the scan reads the README and the site's pages (the original API's examples moved to the KoBERT page)
    assert ('README.md', 'kobert_gluon', 'FineTunedModel') in documented
    assert ('docs/coming-from-kobert.md', 'kobert_gluon', 'get_mxnet_kobert_model') in documented
    missing = []
    for page, module, name in documented:
        imported = importlib.import_module(module)
        if not hasattr(imported, name):
            missing.append('{}: from {} import {}'.format(page, module, name))
    assert missing == []


@pytest.mark.parametrize('name', sorted(kobert_gluon.__all__))
def test_every_public_name_loads(name):
    assert getattr(kobert_gluon, name) is not None


def test_load_vocab_and_distill_are_public():
    from kobert_gluon import distill, DistillSettings, load_vocab
    from kobert_gluon.models.zoo import model_folder_of
    from kobert_gluon.pretraining import distill as distill_module
    assert distill is distill_module.distill and DistillSettings is distill_module.DistillSettings
    vocab = load_vocab(model_folder_of('kobert-mini') / 'vocab.json')  # KoBERT's 8,002-token layout, shipped
    assert len(vocab) == 8002
    assert [vocab[t] for t in ('[UNK]', '[PAD]', '[CLS]', '[SEP]', '[MASK]')] == [0, 1, 2, 3, 4]
