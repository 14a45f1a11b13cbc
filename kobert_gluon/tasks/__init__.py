"""Supervised tasks on labeled tables: reading tables and the catalogue of ready-made tasks
(``datasets``), metrics, the registry of task kinds (:mod:`.kinds`: classification and regression now) and
fine-tuning / evaluating / predicting (``finetuning``).
"""
