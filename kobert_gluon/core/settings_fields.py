"""Settings declared once: a settings dataclass's field carries what the command line shows for it.

A run's settings (the trainer's :class:`~kobert_gluon.training.settings.TrainingConfig`, fine-tuning's and
pretraining's settings) are plain dataclasses that check their own values. A field that is also a command-line
option is declared with :func:`setting`: its default (or default factory), its help text, and where the option
differs from the field, its name (``--lr`` for ``learning_rate``), choices, a metavar, the words that stand for
a special default (``{0: 'no limit'}``), the group of options it excludes, or a negated switch (``--no-progress``
for ``progress``). :func:`declared_options` reads those declarations back as :class:`Option` records, with the
type from the field's annotation and the default shown from a given instance (pretraining shows its own schedule),
and the command line (:mod:`kobert_gluon.cli.run_options`) adds them to its parsers and writes what was given to
the field's place in the settings document. So a name, type, default, help text and rule live in one place: the
settings module, which imports no MXNet (``--help`` stays instant).
"""
import dataclasses
import typing
from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = ['setting', 'Option', 'declared_options']

_KEY = 'kobert_gluon.option'


def setting(default: Any = dataclasses.MISSING, *, help: str, default_factory: Any = dataclasses.MISSING,
            option: Optional[str] = None, choices: Optional[Tuple[Any, ...]] = None, metavar: Optional[str] = None,
            shown: Optional[Mapping[Any, str]] = None, exclusive: Optional[str] = None, negated: bool = False,
            group: Optional[str] = None):
    """A dataclass field that is also a command-line option. ``help`` may name ``{default}``: the default shown
    (floats as ``%g``; a value in ``shown`` as its words). ``option``: the option's name where it is not the field's
    (``'lr'``); ``negated``: a switch that turns the field off (``--no-progress``); ``exclusive``: a group name
    whose options exclude one another; ``group``: the heading it is listed under in ``--help`` (by default the one
    the caller gives the whole class)."""
    declaration = dict(help=help, option=option, choices=choices, metavar=metavar, shown=dict(shown or {}),
                       exclusive=exclusive, negated=negated, group=group)
    return dataclasses.field(default=default, default_factory=default_factory, metadata={_KEY: declaration})


@dataclasses.dataclass(frozen=True)
class Option:
    """One declared option: the settings ``field`` it sets, its ``flag`` (``--batch-size``), the argparse ``dest``
    and keyword arguments (every option defaults to None, "not given", so that only what was typed changes a
    settings document; ``dest`` is the option's own name, which messages about the value use), the ``exclusive``
    group it belongs to and the ``group`` it is listed under (None: the caller's)."""
    field: str
    flag: str
    dest: str
    arguments: Dict[str, Any]
    exclusive: Optional[str] = None
    group: Optional[str] = None


def _value_type(annotation) -> type:
    """``int`` of ``int`` or ``Optional[int]``; the first plain type of a union."""
    if typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation if isinstance(annotation, type) else str


def _shown(value: Any, words: Mapping[Any, str]) -> str:
    if value in words and not isinstance(value, bool):
        return words[value]
    return '{:g}'.format(value) if isinstance(value, float) else str(value)


def declared_options(settings_class, defaults: Any = None) -> List[Option]:
    """The options ``settings_class`` declares, in field order; help texts show ``defaults``' values (an instance,
    or a mapping of field -> value over the fields' own defaults: making an instance may check its values against
    registries that import MXNet, which ``--help`` must not)."""
    options = []
    for field in dataclasses.fields(settings_class):
        declaration = field.metadata.get(_KEY)
        if declaration is None:
            continue
        if field.default is not dataclasses.MISSING:
            default = field.default
        else:
            default = field.default_factory() if field.default_factory is not dataclasses.MISSING else None
        if isinstance(defaults, Mapping):
            default = defaults.get(field.name, default)
        elif defaults is not None:
            default = getattr(defaults, field.name)
        name = declaration['option'] or field.name
        help_text = declaration['help'].format(default=_shown(default, declaration['shown']))
        value_type = _value_type(field.type)
        if value_type is bool:
            name = 'no_' + name if declaration['negated'] and not declaration['option'] else name
            arguments = dict(action='store_false' if declaration['negated'] else 'store_true', default=None,
                             help=help_text)
        else:
            arguments = dict(type=value_type, help=help_text)
            for key in ('choices', 'metavar'):
                if declaration[key] is not None:
                    arguments[key] = declaration[key]
        dest = declaration['option'] or field.name
        options.append(Option(field.name, '--' + name.replace('_', '-'), dest, arguments, declaration['exclusive'],
                              declaration['group']))
    return options
