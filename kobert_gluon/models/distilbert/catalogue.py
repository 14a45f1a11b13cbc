"""The DistilBERT family's published models: DistilKoBERT (monologg)."""
from ...hub.catalogue import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE, ModelSpec

__all__ = ['MODELS']

MODELS = (
    ModelSpec(
        name='distilkobert',
        config={'vocab_size': 8002, 'num_layers': 3, 'units': 768, 'hidden_size': 3072, 'num_heads': 12,
                'max_length': 512, 'dropout': 0.1},
        description='DistilKoBERT: KoBERT distilled to 3 layers (768 units, 12 heads, KoBERT\'s vocabulary); '
                    'published as a transformers checkpoint only',
        vocab_file=KOBERT_VOCAB_FILE,
        tokenizer_files=KOBERT_TOKENIZER_FILES,
        tokenizer_kind='sentencepiece-transformers',  # trained and fine-tuned with transformers' KoBertTokenizer
        default_heads={'use_pooler': True, 'use_decoder': False},
        architecture='distilbert',
        hf_repo='monologg/distilkobert',
    ),
)
