"""Every task structure, registered: importing this module fills :data:`~.kinds.PIPELINES` and adds the task kinds
the structures bring (multi-label classification), so the two registries are complete. A new structure is its own
module (its pipeline, and its task kinds where it brings some) and its name on the import line below.
"""
from . import extractive_qa, multi_label, sentences, tagging  # noqa: F401  (each registers its structure, kinds)
from .kinds import PIPELINES, get_task_kind, metric_choices, task_kinds  # noqa: F401  (complete from here)

__all__ = ['PIPELINES', 'get_task_kind', 'metric_choices', 'task_kinds']
