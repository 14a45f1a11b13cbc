"""The BERT family's published models: KoBERT-base (SKT Brain)."""
from ...hub.catalogue import KOBERT_TOKENIZER_FILES, KOBERT_VOCAB_FILE, ModelSpec

__all__ = ['MODELS']

MODELS = (
    ModelSpec(
        name='kobert-base',
        # KoBERT's predefined_args (the architecture's config class fills in the rest with the same defaults)
        config={'vocab_size': 8002, 'num_layers': 12, 'units': 768, 'hidden_size': 3072, 'num_heads': 12,
                'max_length': 512, 'embed_size': 768, 'dropout': 0.1, 'embed_dropout': 0.1},
        description='KoBERT-base (SKT Brain): 12 layers, 768 units, 12 heads, 8,002-token SentencePiece vocab; '
                    'Korean Wikipedia and news',
        # the legacy file KoBERT's own Gluon package downloads, then GluonNLP's model-zoo copy
        params_files=('mxnet_kobert_45b6957552.params', 'bert_12_768_12_kobert_news_wiki_ko_cased-ccf0593e.params'),
        hf_repo='skt/kobert-base-v1',
        vocab_file=KOBERT_VOCAB_FILE,
        tokenizer_files=KOBERT_TOKENIZER_FILES,
    ),
)
