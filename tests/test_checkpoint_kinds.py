"""Every checkpoint kind the family's users hold, loaded in one call: masked-LM heads both ways (BertForMaskedLM,
ElectraForMaskedLM generators) against models transformers itself creates, and catalogued hub models fetched,
verified and converted once on first use (a local server plays the hub)."""
import json

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon import get_model
from kobert_gluon.convert.huggingface import export_hf, import_hf

from .family_checks import BERT, ELECTRA, IDS, LENGTHS, MASKED, TOLERANCE, TYPES, max_error, perturbed
from .family_checks import quiet_transformers  # noqa: F401  (autouse)
from .test_hf_hub import fake_hub  # noqa: F401  (the local stand-in hub)
from .conftest import error_line, run_cli

torch = pytest.importorskip('torch', reason='the parity tests need torch (in the test extra)')
transformers = pytest.importorskip('transformers', reason='the parity tests need transformers (in the test extra)')


def _torch_logits(model):
    return BERT.torch_outputs(model).logits.numpy()  # a BERT's or an ELECTRA's: both read token types


@pytest.mark.parametrize('cls', ['BertForMaskedLM', 'ElectraForMaskedLM'])
def test_masked_lm_heads_in_and_out(tmp_path, cls):
    hf, folder = (BERT if cls.startswith('Bert') else ELECTRA).hf_model(cls, tmp_path)
    out = import_hf(folder, tmp_path / 'gluon')
    document = json.loads((out / 'config.json').read_text())
    assert document['converted_from']['architecture'] == cls and document['heads']['use_decoder']
    assert not document['heads']['use_pooler']  # transformers builds a masked LM without a pooler
    model, _ = get_model(str(out))
    outputs = model(mx.nd.array(IDS), mx.nd.array(TYPES), mx.nd.array(LENGTHS), mx.nd.array(MASKED))
    logits = _torch_logits(hf)
    assert max_error(outputs[-1].asnumpy(), logits[np.arange(2)[:, None], MASKED]) < TOLERANCE
    back = export_hf(out, tmp_path / 'back')
    assert json.loads((back / 'config.json').read_text())['architectures'] == [cls]
    again = getattr(transformers, cls).from_pretrained(back).eval()
    assert max_error(_torch_logits(again), logits) < 1e-6


SYLLABLES = '영화정말재밌다배우연기좋았어요최고지루했시간아까운'
WORDPIECE = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + list(SYLLABLES) + ['##' + c for c in SYLLABLES]


def test_a_catalogued_hub_model_loads_in_one_call(tmp_path, capsys, fake_hub, monkeypatch):
    """get_model, load_tokenizer and --model NAME fetch the entry's checkpoint (verified against the hub's
    checksums), convert it once into the cache and reuse it, offline too; the repo is what transformers itself
    writes (an ElectraForPreTraining and its ElectraTokenizer), under koelectra-small-v3's name with a small shape."""
    import dataclasses
    from kobert_gluon import load_tokenizer
    from kobert_gluon.hub import artifact_store, catalogue
    tokenizer = transformers.ElectraTokenizer(vocab={t: i for i, t in enumerate(WORDPIECE)}, do_lower_case=False)
    config = transformers.ElectraConfig(**{**ELECTRA.small, 'vocab_size': len(WORDPIECE)})
    hf = perturbed(transformers.ElectraForPreTraining(config))
    repo = tmp_path / 'repo'
    hf.save_pretrained(repo)
    tokenizer.save_pretrained(repo)
    commit = fake_hub.add('monologg/koelectra-small-v3-discriminator', repo)
    monkeypatch.setattr(catalogue, '_REGISTRY', catalogue._REGISTRY.copy())
    spec = catalogue.get_model_spec('koelectra-small-v3')
    small = dict(vocab_size=len(WORDPIECE), num_layers=2, units=48, hidden_size=96, num_heads=4, embed_size=24,
                 max_length=64)
    catalogue._REGISTRY.replace(spec.name, dataclasses.replace(spec, config=small))

    model, vocab = get_model('koelectra-small-v3')  # one call: fetched, verified, converted
    converted = artifact_store.cache_root() / 'converted' / 'monologg--koelectra-small-v3-discriminator-{}'.format(
        commit)
    assert (converted / 'config.json').is_file() and len(vocab) == len(WORDPIECE)
    ours = load_tokenizer('koelectra-small-v3')
    text = '영화 정말 재밌다'
    ids = np.array([ours.encode(text, max_seq_length=16, pad=False).input_ids])
    assert ids.tolist() == [tokenizer(text)['input_ids']]
    with torch.no_grad():
        expected = hf(input_ids=torch.tensor(ids)).logits.numpy()
    outputs = model(mx.nd.array(ids), mx.nd.zeros(ids.shape), mx.nd.array([ids.shape[1]]))
    assert max_error(outputs[-1].asnumpy(), expected) < TOLERANCE  # the discriminator, as transformers runs it

    # the command line takes the name the same way; fine-tuning puts a new pooler on the converted backbone
    train = tmp_path / 'train.tsv'
    train.write_text('text\tlabel\n' + '영화 정말 재밌다\t1\n시간 아까운 영화\t0\n' * 8, encoding='utf-8')
    code, _, err = run_cli(capsys, 'finetune', '--train', train, '--text-column', 'text', '--label-column', 'label',
                           '--dev-fraction', '0.25', '--max-steps', '2', '--batch-size', '4', '--max-seq-length', '16',
                           '--no-progress', '--model', 'koelectra-small-v3', '--out', tmp_path / 'run')
    assert code == 0, err
    # converted once: later calls reuse the folder, offline as well
    stamp = (converted / 'model.params').stat().st_mtime_ns
    monkeypatch.setenv('KOBERT_GLUON_OFFLINE', '1')
    again, _ = get_model('koelectra-small-v3')
    assert (converted / 'model.params').stat().st_mtime_ns == stamp
    assert max_error(again(mx.nd.array(ids), mx.nd.zeros(ids.shape), mx.nd.array([ids.shape[1]]))[-1].asnumpy(),
                     expected) < TOLERANCE
    # a random build of the same entry needs no weights
    random_model, _ = get_model('koelectra-small-v3', pretrained=False)
    assert random_model.kobert_config.units == 48
    # every command that takes the name takes it the same way: fetch (for offline use later) and export-hf
    code, out, err = run_cli(capsys, 'fetch', 'koelectra-small-v3')
    assert code == 0 and out.strip() == 'converted {}'.format(converted), err
    code, out, err = run_cli(capsys, 'export-hf', 'koelectra-small-v3', '--out', tmp_path / 'hf')
    assert code == 0, err
    again = transformers.ElectraForPreTraining.from_pretrained(str(tmp_path / 'hf')).eval()
    with torch.no_grad():
        assert max_error(again(input_ids=torch.tensor(ids)).logits.numpy(), expected) < 1e-6
    code, _, err = run_cli(capsys, 'fetch', 'koelectra-smal-v3')
    assert code == 2 and 'koelectra-small-v3' in error_line(err, 'fetch')  # the hub models are listed


def test_every_koelectra_discriminator_and_generator_is_catalogued():
    from kobert_gluon.hub.catalogue import get_model_spec, list_models
    names = list_models('koelectra-*')
    assert len(names) == 12
    for version, vocab_size in (('v1', 32200), ('v2', 32200), ('v3', 35000)):
        for size in ('small', 'base'):
            discriminator = get_model_spec('koelectra-{}-{}'.format(size, version))
            generator = get_model_spec('koelectra-{}-{}-generator'.format(size, version))
            infix = '' if version == 'v1' else '-' + version
            assert discriminator.hf_repo == 'monologg/koelectra-{}{}-discriminator'.format(size, infix)
            assert generator.hf_repo == 'monologg/koelectra-{}{}-generator'.format(size, infix)
            assert discriminator.config['vocab_size'] == generator.config['vocab_size'] == vocab_size
            assert generator.config['embed_size'] == discriminator.config['embed_size']  # embeddings shared
    from kobert_gluon.models.building import get_architecture
    spec = get_model_spec('koelectra-base-v3-generator')
    config = get_architecture(spec.architecture).config_from(spec.config)
    assert (config.units, config.num_heads, config.embed_size) == (256, 4, 768)
    assert spec.default_heads == {'use_pooler': False, 'use_discriminator': False, 'use_decoder': True}
