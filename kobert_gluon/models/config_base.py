"""What every architecture's config shares: plain-data round trips, checked field names and positive sizes.

An architecture's config is a frozen dataclass that derives from :class:`EncoderConfig` (the fields every
transformer encoder here has, with KoBERT-base's values) and sets ``family`` (the name its messages use),
``SIZE_FIELDS`` (fields that must be positive integers) and ``DROPOUT_FIELDS`` (rates in [0, 1)); it redeclares
only the fields whose defaults differ and adds its own. :meth:`ArchitectureConfig._check_fields` (called after
construction) also checks what every encoder shares: ``units`` divisible by ``num_heads``, a ``gelu`` or ``relu``
activation.
"""
import dataclasses
from typing import Any, Dict, Tuple

from ..core.errors import InputError

__all__ = ['ArchitectureConfig', 'EncoderConfig']


class ArchitectureConfig:
    family = 'model'
    SIZE_FIELDS: Tuple[str, ...] = ()
    DROPOUT_FIELDS: Tuple[str, ...] = ('dropout',)
    ACTIVATIONS = ('gelu', 'relu')  # what GluonNLP's encoder cells compute

    def _check_fields(self) -> None:
        cls = type(self).__name__
        for name in self.SIZE_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InputError('{}.{} must be a positive integer, got {!r}'.format(cls, name, value))
        if not isinstance(self.activation, str):
            raise InputError('{}.activation must be a name, got {!r}'.format(cls, self.activation))
        if self.units % self.num_heads:
            raise InputError('{}.units ({}) must be divisible by num_heads ({})'.format(cls, self.units,
                                                                                       self.num_heads))
        for name in self.DROPOUT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
                raise InputError('{}.{} must be a number in [0, 1), got {!r}'.format(cls, name, value))
        if self.activation not in self.ACTIVATIONS:
            raise InputError('{}.activation must be {}, got {!r}'.format(
                cls, ' or '.join("'{}'".format(a) for a in self.ACTIVATIONS), self.activation))

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

    def encoder_parameters(self) -> int:
        """Parameters of the ``num_layers`` post-LayerNorm encoder layers every family here shares (GluonNLP's
        BERTEncoderCell): four attention projections, two LayerNorms, the two feed-forward layers."""
        units, hidden = self.units, self.hidden_size
        layer = 4 * (units * units + units) + 2 * 2 * units + (units * hidden + hidden) + (hidden * units + units)
        return self.num_layers * layer

    def _follow(self, changes: Dict[str, Any]) -> Dict[str, Any]:
        """Fields that must change with others (a subclass adds them); ``changes`` as given by default."""
        return changes


@dataclasses.dataclass(frozen=True)
class EncoderConfig(ArchitectureConfig):
    """The fields of a post-LayerNorm transformer encoder and its vocabulary, at KoBERT-base's values; a family's
    config redeclares the ones whose defaults differ (a redeclared field keeps its place in the order)."""
    vocab_size: int = 8002
    num_layers: int = 12
    units: int = 768
    hidden_size: int = 3072
    max_length: int = 512
    num_heads: int = 12
    dropout: float = 0.1
    activation: str = 'gelu'
    layer_norm_eps: float = 1e-12

    def __post_init__(self):
        self._check_fields()
