"""Every model family the package registers has a test class that inherits :class:`tests.family_tests.FamilyTests`,
so a new family cannot land without the tests every family passes."""
import importlib
from pathlib import Path

from kobert_gluon.models.family_registry import model_families

from .family_tests import FamilyTests

TESTS = Path(__file__).resolve().parent


def family_test_classes():
    """The test classes inheriting the mixin in the test files (only files that name it are imported)."""
    for path in sorted(TESTS.glob('test_*.py')):
        if path.name != Path(__file__).name and 'FamilyTests' in path.read_text(encoding='utf-8'):
            importlib.import_module('{}.{}'.format(__package__, path.stem))
    found, pending = [], list(FamilyTests.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def untested(registered, classes):
    """The registered family names no collected class (pytest collects ``Test*`` classes only) declares."""
    declared = {cls.family.name for cls in classes if cls.__name__.startswith('Test') and hasattr(cls, 'family')}
    return [name for name in registered if name not in declared]


def test_every_registered_family_has_a_test_class():
    registered = [family.name for family in model_families()]
    classes = family_test_classes()
    missing = untested(registered, classes)
    assert not missing, ('model famil{} {} {} no test class: add `class Test<Family>(FamilyTests): family = '
                         'Family(...)` (tests/family_tests.py, tests/family_checks.py) to its tests/test_<family>.py'
                         .format('y' if len(missing) == 1 else 'ies', ', '.join(repr(name) for name in missing),
                                 'has' if len(missing) == 1 else 'have'))
    # and no class tests a family the package does not register (a renamed family would go untested)
    assert sorted(cls.family.name for cls in classes) == sorted(registered)


def test_a_family_without_a_test_class_is_named():
    classes = family_test_classes()
    assert untested(['bert', 'made-up'], classes) == ['made-up']
    # a class pytest does not collect (not named Test*) does not count
    bert = next(cls for cls in classes if cls.family.name == 'bert')
    not_collected = type('BertChecks', (), {'family': bert.family})
    assert untested(['bert'], [not_collected]) == ['bert']
