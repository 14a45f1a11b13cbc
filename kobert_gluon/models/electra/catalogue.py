"""The ELECTRA family's published models: KoELECTRA (monologg) v1, v2 and v3, small and base, each discriminator and
its generator. All are transformers checkpoints on the hub, fetched, verified and converted once on first use
(:mod:`kobert_gluon.convert.catalogued`), each with its own WordPiece ``vocab.txt`` (v1 and v2: 32,200 tokens; v3:
35,000, Mecab-split text). Shapes as KoELECTRA's README gives them (a generator: 256 units and 4 heads over the
discriminator's embeddings); the conversion checks them against the downloaded ``config.json``.
"""
from ...hub.catalogue import ModelSpec

__all__ = ['MODELS']

_VOCAB_SIZES = {'v1': 32200, 'v2': 32200, 'v3': 35000}
_COMMON = {'num_layers': 12, 'max_length': 512, 'dropout': 0.1}
_SHAPES = {
    ('small', 'discriminator'): dict(units=256, hidden_size=1024, num_heads=4, embed_size=128),
    ('small', 'generator'): dict(units=256, hidden_size=1024, num_heads=4, embed_size=128),
    ('base', 'discriminator'): dict(units=768, hidden_size=3072, num_heads=12, embed_size=768),
    ('base', 'generator'): dict(units=256, hidden_size=1024, num_heads=4, embed_size=768),
}
_HEADS = {'discriminator': {'use_pooler': True, 'use_discriminator': False, 'use_decoder': False},
          'generator': {'use_pooler': False, 'use_discriminator': False, 'use_decoder': True}}


def _repo(size: str, version: str, role: str) -> str:
    # v1 was published without a version in its name
    return 'monologg/koelectra-{}{}-{}'.format(size, '' if version == 'v1' else '-' + version, role)


def _spec(size: str, version: str, role: str) -> ModelSpec:
    shape = _SHAPES[size, role]
    name = 'koelectra-{}-{}{}'.format(size, version, '-generator' if role == 'generator' else '')
    what = ('the replaced-token discriminator (what is fine-tuned)' if role == 'discriminator'
            else 'its masked-LM generator')
    return ModelSpec(
        name=name,
        config={'vocab_size': _VOCAB_SIZES[version], **_COMMON, **shape},
        description='KoELECTRA-{}-{} {} (monologg): 12 layers, {} units, {}-unit embeddings, {} heads, {:,}-token '
                    'WordPiece vocab; a transformers checkpoint, converted on first use'.format(
                        size.capitalize(), version, what, shape['units'], shape['embed_size'], shape['num_heads'],
                        _VOCAB_SIZES[version]),
        default_heads=dict(_HEADS[role]),
        architecture='electra',
        tokenizer_kind='wordpiece',
        hf_repo=_repo(size, version, role),
    )


MODELS = tuple(_spec(size, version, role) for version in ('v3', 'v2', 'v1') for size in ('small', 'base')
               for role in ('discriminator', 'generator'))
