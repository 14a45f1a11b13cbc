"""Architectures, model folders and the one factory that joins them with the hub.

:mod:`.registry` maps an architecture name (``config.json``'s ``architecture``; ``bert`` for folders written
before it existed) to its config class and builder; :mod:`.bert` is KoBERT's (GluonNLP ``BERTModel``);
:mod:`.folder` saves and loads model folders; :mod:`.zoo` is ``get_model``: a registered name (catalogue entry)
or a folder path in, ``(model, vocab)`` out.
"""
