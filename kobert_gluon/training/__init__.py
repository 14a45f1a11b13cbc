"""The training loop and what it needs, independent of any model or task: the trainer (optimiser,
schedule, accumulation, evaluation, best-model keeping), checkpoints and exact resume, run folders (locking, replace
and resume rules), length-bucketed batches of encoded text, and the training plot (matplotlib, loaded on use).
A task (fine-tuning, pretraining) plugs in through the small interface described in :mod:`.trainer`.
"""
