"""The ELECTRA family's published models: the KoELECTRA v3 discriminators (monologg), WordPiece vocabulary of 35,000
tokens (Mecab-split Korean text), published as transformers checkpoints only; import-hf converts them with their
vocab.txt."""
from ...hub.catalogue import ModelSpec

__all__ = ['MODELS']

MODELS = (
    ModelSpec(
        name='koelectra-small-v3',
        config={'vocab_size': 35000, 'num_layers': 12, 'units': 256, 'hidden_size': 1024, 'num_heads': 4,
                'embed_size': 128, 'max_length': 512, 'dropout': 0.1},
        description='KoELECTRA-Small-v3 discriminator (monologg): 12 layers, 256 units, 128-unit embeddings, 4 '
                    'heads, 35,000-token WordPiece vocab; published as a transformers checkpoint only',
        default_heads={'use_pooler': True, 'use_discriminator': False, 'use_decoder': False},
        architecture='electra',
        tokenizer_kind='wordpiece',
        hf_repo='monologg/koelectra-small-v3-discriminator',
    ),
    ModelSpec(
        name='koelectra-base-v3',
        config={'vocab_size': 35000, 'num_layers': 12, 'units': 768, 'hidden_size': 3072, 'num_heads': 12,
                'embed_size': 768, 'max_length': 512, 'dropout': 0.1},
        description='KoELECTRA-Base-v3 discriminator (monologg): 12 layers, 768 units, 12 heads, 35,000-token '
                    'WordPiece vocab; published as a transformers checkpoint only',
        default_heads={'use_pooler': True, 'use_discriminator': False, 'use_decoder': False},
        architecture='electra',
        tokenizer_kind='wordpiece',
        hf_repo='monologg/koelectra-base-v3-discriminator',
    ),
)
