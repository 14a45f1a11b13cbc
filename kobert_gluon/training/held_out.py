"""The one check that a run's dev data is apart from its training data (fine-tuning's ``dev``, pretraining's and
distillation's ``dev_data``): a model selected on rows it trained on is the one that memorised best, and its dev
figure says nothing about new text.

* the same file or folder (the same path, a symbolic or hard link to it; ``FILE#part`` names a hash part of
  ``FILE``, so two different parts of one file are apart): refused;
* every dev row also a training row (a copy of the file, or of a part of it): refused;
* some dev rows also training rows: a warning with the count (real data repeat short texts).

What a row is belongs to the caller (a table's texts, a tagged sentence's text, a question with its context, a
pretraining shard's SHA-256); this module only compares them. A dev set held out of the training file by the
package (``dev_fraction``, ``dev_chunks``) is apart by construction and is not checked here.
"""
import logging
import os
from typing import Dict, Hashable, Iterable, Optional, Tuple

from ..core.checks import RuleError

__all__ = ['check_dev_apart']

logger = logging.getLogger(__name__)


def _identity(path) -> Optional[Tuple[int, int, str]]:
    """``(device, inode, hash part)`` of an existing file or folder (``FILE#part``: of ``FILE``), else None."""
    path = os.fspath(path)
    part = ''
    if not os.path.exists(path) and '#' in path:
        path, part = path.rsplit('#', 1)
    try:
        status = os.stat(path)  # follows links: a link to the training file is the training file
    except OSError:
        return None
    return status.st_dev, status.st_ino, part


def check_dev_apart(train_path, dev_path, train_rows: Iterable[Hashable], dev_rows: Iterable[Hashable],
                    names: Dict[str, str], unit: str = 'rows', weights: Optional[Iterable[int]] = None) -> None:
    """Refuse or warn as the module docstring says. ``names``: ``{'train': ..., 'dev': ...}``, the settings that
    name the two (``train``/``dev``; ``data``/``dev_data``), respelled as options on the command line.
    ``weights``: how many of ``unit`` each dev row stands for (a shard's instances; default 1 each)."""
    template_names = {'train': names['train'], 'dev': names['dev']}
    shown = {key: str(value).replace('{', '{{').replace('}', '}}') for key, value in
             (('train_path', train_path), ('dev_path', dev_path))}
    same = _identity(train_path)
    if same is not None and same == _identity(dev_path):
        raise RuleError('{dev} ' + shown['dev_path'] + ' is the training data itself ({train} ' + shown['train_path']
                        + '): the best model would be picked on what it trained on; give dev data apart from it',
                        template_names)
    seen = set(train_rows)
    dev_rows = list(dev_rows)
    weights = list(weights) if weights is not None else [1] * len(dev_rows)
    total = sum(weights)
    inside = sum(weight for row, weight in zip(dev_rows, weights) if row in seen)
    if not dev_rows or not inside:
        return
    if inside == total:
        raise RuleError('every one of the {:,} {} of {{dev}} '.format(total, unit) + shown['dev_path'] +
                        ' is also in {train} ' + shown['train_path'] + ': the best model would be picked on what it '
                        'trained on; give dev data apart from it', template_names)
    logger.warning('%s of the %s dev %s (%s) are also in the training data (%s): their dev scores flatter the '
                   'model', format(inside, ','), format(total, ','), unit, dev_path, train_path)
