"""The rules for the plain values users hand the package (counts, rates, seeds, sequence lengths, texts): one rule
and one wording, shared by the settings dataclasses, the public functions and the command line.

A broken rule raises :class:`RuleError`, an ``InputError`` whose message names the values by their place in the
settings or by the parameter of the function (``seed``, ``training.seed``, ``texts[3]``). The command line respells
those names as its options (``--seed``) before printing the line (``cli.run_options.options_named``), so a value
refused by ``finetune(...)`` and by ``kobert-gluon finetune`` is refused by the same code with the same words.
"""
import math
import os
from numbers import Integral, Real
from typing import Callable, Dict, List, Optional, Sequence

from .errors import InputError

__all__ = ['RuleError', 'broken', 'in_section', 'whole', 'number', 'rate', 'seed', 'max_seq_length', 'text', 'texts',
           'path', 'SEED_LIMIT']

# numpy's RandomState (and so MXNet's and the batch order's seeds) takes 0 .. 2**32 - 1
SEED_LIMIT = 2 ** 32 - 1


def _literal(value) -> str:
    """``repr(value)`` made safe to sit in a ``str.format`` template."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + '...'
    return shown.replace('{', '{{').replace('}', '}}')


class RuleError(InputError):
    """A value that breaks one of the package's rules. ``template`` is the message with ``{key}`` where a value's
    name goes; ``names`` maps each key to the name (a settings path such as ``training.seed``, or a parameter)."""

    def __init__(self, template: str, names: Dict[str, str]):
        self.template, self.names = template, dict(names)
        super().__init__(template.format(**self.names))

    def respelled(self, spell: Callable[[str], str]) -> 'RuleError':
        """The same refusal with every name passed through ``spell`` (the command line: ``training.seed`` ->
        ``--seed``)."""
        return RuleError(self.template, {key: spell(name) for key, name in self.names.items()})

    def within(self, section: str) -> 'RuleError':
        """The same refusal named from the enclosing settings (``seed`` -> ``training.seed``)."""
        return self.respelled(lambda name: '{}.{}'.format(section, name))


def broken(name: str, rule: str, value) -> RuleError:
    """``NAME RULE, got VALUE`` as a :class:`RuleError` naming ``name``."""
    return RuleError('{name} ' + rule.replace('{', '{{').replace('}', '}}') + ', got ' + _literal(value),
                     {'name': name})


def in_section(section: str, build: Callable):
    """``build()`` (a nested settings object such as the trainer's), its refusals named from ``section``."""
    try:
        return build()
    except RuleError as err:
        raise err.within(section) from None


def whole(name: str, value, minimum: int = 0, optional: bool = False, maximum: Optional[int] = None) -> None:
    """A whole number (not a bool, not a float, not a string) of at least ``minimum`` (and at most ``maximum``);
    None passes when ``optional``."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum or (
            maximum is not None and value > maximum):
        if maximum is not None:
            rule = 'must be a whole number from {} to {}'.format(minimum, maximum)
        else:
            rule = 'must be a whole number >= {}'.format(minimum)
        raise broken(name, rule, value)


def number(name: str, value, minimum: float = 0.0, above: bool = False, below: Optional[float] = None,
           optional: bool = False, maximum: Optional[float] = None) -> None:
    """A finite real number (an int passes) of at least ``minimum`` (greater than it when ``above``), less than
    ``below`` and at most ``maximum``; None passes when ``optional``."""
    if value is None and optional:
        return
    good = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and (
        value > minimum if above else value >= minimum) and (below is None or value < below) and (
        maximum is None or value <= maximum)
    if not good:
        bounds = ['> {:g}'.format(minimum) if above else '>= {:g}'.format(minimum)]
        if below is not None:
            bounds.append('< {:g}'.format(below))
        if maximum is not None:
            bounds.append('<= {:g}'.format(maximum))
        raise broken(name, 'must be a number ' + ' and '.join(bounds), value)


def rate(name: str, value, optional: bool = False) -> None:
    """A probability such as a dropout rate: in [0, 1)."""
    number(name, value, 0.0, below=1.0, optional=optional)


def seed(name: str, value) -> None:
    """A random seed: what numpy and MXNet accept."""
    whole(name, value, 0, maximum=SEED_LIMIT)


def max_seq_length(name: str, value, pair: bool = False, optional: bool = False) -> None:
    """Tokens per sequence: room for ``[CLS]``, ``[SEP]`` and at least one piece of text (of each text of a pair),
    since a shorter sequence encodes the special tokens alone and drops the text without a word."""
    if value is None and optional:
        return
    least = 5 if pair else 3
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise broken(name, 'must be a whole number >= {} (room for {} and the text{})'.format(
            least, '[CLS], two [SEP]' if pair else '[CLS], [SEP]', 's' if pair else ''), value)


def text(name: str, value) -> str:
    """A text: a ``str`` of characters (an empty one is a text too; None, bytes, numbers and a string holding a lone
    surrogate, which JSON's ``"\\ud800"`` or a bad decode makes and no tokenizer can read, are not)."""
    if not isinstance(value, str):
        raise RuleError('{name} must be a string, got ' + _described(value), {'name': name})
    try:
        value.encode('utf-8')
    except UnicodeEncodeError as err:
        raise RuleError('{name} holds a lone surrogate (U+' + '{:04X}'.format(ord(value[err.start])) +
                        ' at character ' + str(err.start) + '), which is not a character: a UTF-16 pair cut in two',
                        {'name': name}) from None
    return value


def path(name: str, value) -> str:
    """A file or folder path: a ``str`` or ``os.PathLike`` (returned as a ``str``, which settings save as JSON)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise RuleError('{name} must be a path (a string or a pathlib.Path), got ' + _described(value),
                        {'name': name})
    return value


def _described(value) -> str:
    return 'None' if value is None else '{} {}'.format(type(value).__name__, _literal(value))


def texts(name: str, values, width: Optional[int] = None, call: Optional[str] = None) -> List:
    """``values`` as a list of texts: a list (or other iterable, not one string) of strings, or with ``width`` of
    ``(text,)``/``(text_a, text_b)`` tuples of that many strings (a plain string counts as ``(text,)``). ``call``:
    the function's name, for the advice on one bare string."""
    if isinstance(values, (str, bytes)):
        raise RuleError('{name} must be a list of texts, not one string (iterating it would give one result per '
                        'character): wrap it, ' + ('as {}([text])'.format(call) if call else 'as [text]'),
                        {'name': name})
    if values is None or isinstance(values, dict) or not hasattr(values, '__iter__'):
        raise RuleError('{name} must be a list of texts, got ' + _described(values), {'name': name})
    checked = []
    for index, value in enumerate(values):
        where = '{}[{}]'.format(name, index)
        if width is None or isinstance(value, str):
            checked.append(text(where, value) if width is None else (text(where, value),))
            continue
        if isinstance(value, (bytes, dict)) or value is None or not isinstance(value, Sequence):
            text(where, value)  # the message says what it is
        if len(value) != width:
            raise RuleError('{name} has ' + str(len(value)) + ' text(s); this model takes ' + str(width),
                            {'name': where})
        checked.append(tuple(text('{}[{}]'.format(where, i), part) for i, part in enumerate(value)))
    return checked
