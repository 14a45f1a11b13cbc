"""Train / dev / test parts of one labelled file, chosen by a hash of each example's key (``PATH#train`` etc.).

Some data sets are here only as one file (KLUE-NER's and KorQuAD's dev sets): their readers take ``PATH#part``
and keep the examples whose key (a sentence, an article title) hashes into that part, so the three parts are
disjoint and stable across runs and machines.
"""
import zlib
from pathlib import Path
from typing import Dict, Optional, Tuple

from ..core.errors import InputError

__all__ = ['PARTS', 'parse_part', 'in_part', 'part_paths']

# By a hash of each example's key: train 80 %, dev 10 %, test 10 %.
PARTS = {'train': (0.0, 0.8), 'dev': (0.8, 0.9), 'test': (0.9, 1.0)}


def parse_part(path) -> Tuple[Path, Optional[str]]:
    """``PATH#train`` / ``#dev`` / ``#test`` -> ``(PATH, part)``: that hash part of the file (see :data:`PARTS`);
    a path without such a suffix (or an existing file whose name has one) -> ``(path, None)``."""
    text = str(path)
    base, mark, part = text.rpartition('#')
    if mark and not Path(text).exists():
        if part in PARTS:
            return Path(base), part
        if Path(base).exists():
            raise InputError('{}: no part {!r}; a file\'s parts are {}'.format(text, part, ', '.join(
                '#' + name for name in PARTS)))
    return Path(text), None


def in_part(key: str, part: Optional[str]) -> bool:
    """Whether the example with ``key`` belongs to ``part`` (every example belongs to ``None``, the whole file)."""
    if part is None:
        return True
    low, high = PARTS[part]
    value = zlib.crc32(('part:' + key).encode('utf-8')) / 2 ** 32
    return low <= value < high


def part_paths(path: str) -> Dict[str, str]:
    """``{'train': PATH#train, 'dev': PATH#dev, 'test': PATH#test}``: a task's files when one file is all there is."""
    return {part: '{}#{}'.format(path, part) for part in PARTS}
