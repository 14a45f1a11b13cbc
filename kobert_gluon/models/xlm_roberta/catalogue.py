"""The XLM-RoBERTa family's published models: xlm-roberta-base (Facebook AI), the multilingual baseline of
KoELECTRA's result table; published as a transformers checkpoint, which import-hf converts with its tokenizer."""
from ...hub.catalogue import ModelSpec

__all__ = ['MODELS']

MODELS = (
    ModelSpec(
        name='xlm-roberta-base',
        config={'vocab_size': 250002, 'num_layers': 12, 'units': 768, 'hidden_size': 3072, 'num_heads': 12,
                'max_length': 512, 'dropout': 0.1, 'layer_norm_eps': 1e-5, 'padding_idx': 1},
        description='XLM-RoBERTa-base (Facebook AI): 12 layers, 768 units, 12 heads, 250,002-token SentencePiece '
                    'vocab, 100 languages; published as a transformers checkpoint only',
        default_heads={'use_pooler': True},
        architecture='xlm-roberta',
        tokenizer_kind='xlm-roberta-sentencepiece',
        hf_repo='FacebookAI/xlm-roberta-base',
    ),
)
