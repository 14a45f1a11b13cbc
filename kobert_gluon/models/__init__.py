"""Model families, architectures, model folders and the one factory that joins them with the hub.

Each family has a folder (:mod:`.bert` for KoBERT's GluonNLP ``BERTModel``, :mod:`.distilbert`, :mod:`.electra`,
:mod:`.xlm_roberta`) holding its config, builder, transformers mapping, catalogue entries and any tokenizer of its
own, and registers itself (:mod:`.family_registry`); :mod:`.all_families` imports them all.
:mod:`.architecture_registry` is the architecture registry (plain data); :mod:`.building` is it complete (every
family registered) with the MXNet helpers a builder's caller uses; :mod:`.folder` saves and loads model folders;
:mod:`.resolution` resolves a model argument once and builds it; :mod:`.zoo` is ``get_model``: a registered name
(catalogue entry) or a folder path in, ``(model, vocab)`` out.
"""
