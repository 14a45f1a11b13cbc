"""BERT pretraining (masked LM + next sentence): documents from text, instances, sharded pretraining
data folders, batches, and the pretraining task for the trainer.
"""
