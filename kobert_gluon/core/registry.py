"""The one register/look-up pattern every registry of the package follows (model names, architectures, tokenizer
kinds, head kinds, task kinds, conversion families, pretraining objectives, deploy runtimes).

A :class:`Registry` keeps entries by name in registration order; registering a name twice is a bug (ValueError);
looking up an unknown name is a user's error (:class:`~.errors.InputError`) that names the known ones and, for
names read from a saved file, says that a newer release may have written it.
"""
from typing import Dict, Generic, Iterator, List, Optional, Tuple, TypeVar

from .errors import InputError

__all__ = ['Registry']

T = TypeVar('T')


class Registry(Generic[T]):
    """``what`` names one entry in messages (``'tokenizer kind'``); ``hint`` is appended to the unknown-name error
    (``'a model folder written by a newer release may need an upgrade'``)."""

    def __init__(self, what: str, hint: Optional[str] = None):
        self.what = what
        self.hint = hint
        self._entries: Dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError('a {} named {!r} is already registered'.format(self.what, name))
        self._entries[name] = entry
        return entry

    def replace(self, name: str, entry: T) -> T:
        """Put ``entry`` in place of the one registered as ``name`` (a test's stand-in, say)."""
        self.get(name)
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> None:
        self.get(name)
        del self._entries[name]

    def copy(self) -> 'Registry[T]':
        """A registry with the same entries, to change without touching this one (tests)."""
        other = Registry(self.what, self.hint)
        other._entries = dict(self._entries)
        return other

    def get(self, name) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):  # TypeError: an unhashable value read from a damaged file
            raise InputError('unknown {} {!r}; known: {}{}'.format(
                self.what, name, ', '.join(self._entries), '; ' + self.hint if self.hint else '')) from None

    def names(self) -> List[str]:
        """The registered names, in registration order."""
        return list(self._entries)

    def items(self) -> List[Tuple[str, T]]:
        return list(self._entries.items())

    def values(self) -> List[T]:
        return list(self._entries.values())

    def __contains__(self, name) -> bool:
        try:
            return name in self._entries
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
