"""Every model family, registered: importing this module imports each family folder, and each registers its
architecture, transformers mapping, tokenizer kinds and catalogue entries (:mod:`.family_registry`). A new family is its
folder and its name on the line below. No MXNet is loaded here: the families build their models on first use.
"""
from ..hub.catalogue import register_shipped_models
# the families, in registration order (each registers itself):
from . import bert, distilbert, electra, xlm_roberta  # noqa: F401

register_shipped_models()  # after the families: the published models come first in listings
