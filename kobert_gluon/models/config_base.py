"""What every architecture's config shares: plain-data round trips, checked field names and positive sizes.

An architecture's config is a frozen dataclass that derives from :class:`ArchitectureConfig` and sets
``family`` (the name its messages use) and ``SIZE_FIELDS`` (fields that must be positive integers).
"""
import dataclasses
from typing import Any, Dict, Tuple

from ..core.errors import InputError

__all__ = ['ArchitectureConfig']


class ArchitectureConfig:
    family = 'model'
    SIZE_FIELDS: Tuple[str, ...] = ()

    def _check_sizes(self) -> None:
        for name in self.SIZE_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InputError('{}.{} must be a positive integer, got {!r}'.format(type(self).__name__, name,
                                                                                     value))

    @classmethod
    def _known(cls):
        return {f.name for f in dataclasses.fields(cls)}

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        unknown = sorted(set(values) - cls._known())
        if unknown:
            raise InputError('unknown {} config field(s) {}; known fields: {}'
                             .format(cls.family, ', '.join(unknown), ', '.join(sorted(cls._known()))))
        return cls(**values)

    def replace(self, **changes):
        unknown = sorted(set(changes) - self._known())
        if unknown:
            raise TypeError('unknown model option(s) {}; valid options: {}'
                            .format(', '.join(unknown), ', '.join(sorted(self._known()))))
        return dataclasses.replace(self, **self._follow(changes))

    def _follow(self, changes: Dict[str, Any]) -> Dict[str, Any]:
        """Fields that must change with others (a subclass adds them); ``changes`` as given by default."""
        return changes
