"""Step 6 of recipes/electra_mini.sh: write electra-mini and electra-mini-nsmc into the package, with model cards.

    python recipes/package_electra_mini.py WORK_DIR --out kobert_gluon/shipped_models

Both models are saved with float16 parameters (loaded back as float32). To ship them, also add their names to
the shipped-model list at the end of kobert_gluon/hub/catalogue.py (the first run was not shipped: see
recipes/electra_mini.sh). Every figure in the model cards is read
from the run folders the recipe wrote (metrics.json, run.json, test_metrics.json, the *.seconds timings) or from
kobert-mini's own shipped model card, never typed in.
"""
import argparse
import json
import re
import sys
from pathlib import Path

from package_mini import fmt_time, read_json, seconds

STANDARD_KEYS = ('format', 'format_version', 'architecture', 'electra', 'heads', 'tokenizer', 'task', 'param_dtype')


def repackage(source, target):
    """Load a model folder and save it again as float16, keeping its extra config sections."""
    from kobert_gluon import load_model, load_tokenizer, save_model
    from kobert_gluon.models.folder import read_config
    config = read_config(source)
    model, vocab = load_model(source)
    extra = {k: v for k, v in config.items() if k not in STANDARD_KEYS}
    return save_model(model, vocab, target, load_tokenizer(source), param_dtype='float16', extra=extra,
                      overwrite=True)


def _kobert_mini_budget(shipped: Path) -> str:
    card = (shipped / 'kobert-mini' / 'MODEL_CARD.md').read_text(encoding='utf-8')
    steps = re.search(r'\| steps \| ([\d,]+) of batch (\d+)', card)
    wall = re.search(r'pretraining (\d+ min \d+ s) \|', card)
    return '{} steps of {} in {}'.format(steps.group(1), steps.group(2), wall.group(1)) if steps and wall else '?'


def pretrain_card(work, config, shipped):
    metrics = read_json(work / 'pretrain' / 'metrics.json')
    run = read_json(work / 'pretrain' / 'run.json')
    best = metrics['best']
    evaluations = metrics.get('evaluations') or []
    dev = next((e for e in evaluations if e.get('step') == best.get('step')), evaluations[-1])['dev']
    electra, generator = config['electra'], run['model']['generator']['electra']
    manifest = read_json(Path(run['data']['folder']) / 'manifest.json')
    settings = run['settings']
    lines = [
        '# electra-mini',
        '',
        'A small Korean ELECTRA discriminator pretrained by kobert-gluon (`pretrain --objective electra`) on the',
        '150,000 review texts of NSMC\'s training file, on a 2-core CPU, with kobert-mini\'s vocabulary and shape.',
        '',
        '| | |', '|---|---|',
        '| architecture | ELECTRA discriminator: {} layers, {} units, {} heads, FFN {}, embeddings {}, max length {} |'
        .format(electra['num_layers'], electra['units'], electra['num_heads'], electra['hidden_size'],
                electra['embed_size'], electra['max_length']),
        '| generator (pretraining only, not shipped) | {} layers, {} units, {} head(s), FFN {}; shares the '
        'embeddings |'.format(generator['num_layers'], generator['units'], generator['num_heads'],
                              generator['hidden_size']),
        '| vocabulary | kobert-mini\'s: {:,} tokens (SentencePiece unigram in KoBERT\'s layout) |'.format(
            electra['vocab_size']),
        '| heads | replaced-token discriminator (a classifier gets a new dense + GELU pre-head, as in transformers) |',
        '| parameters stored | float16 (loaded as float32); {:,} parameters |'.format(run['model']['parameters']),
        '| training data | NSMC `ratings_train.txt` review text only (CC0 1.0); labels and the test file unused |',
        '| pretraining instances | {:,} (max length {}, masked-LM prob {}, dupe factor {}) |'.format(
            manifest['num_instances'], manifest['options']['max_seq_length'],
            manifest['options']['masked_lm_prob'], manifest['options']['dupe_factor']),
        '| objective | generator masked LM + {:g} x replaced-token detection, replacements sampled from the '
        'generator |'.format(settings['rtd_weight']),
        '| steps | {:,} of batch {} (lr {}, warmup {}, linear decay), one thread |'.format(
            metrics.get('total_steps', 0), settings['batch_size'], settings['training']['learning_rate'],
            settings['training']['warmup_ratio']),
        '| wall time | pretraining {} (kobert-mini: {}) |'.format(fmt_time(seconds(work, 'pretrain')),
                                                                  _kobert_mini_budget(shipped)),
        '| held-out dev (best step {}) | RTD accuracy {:.4f}, replaced tokens found {:.4f}, generator MLM accuracy '
        '{:.4f} |'.format(best.get('step'), dev['rtd_accuracy'], dev['rtd_recall'], dev['mlm_accuracy']),
        '',
        'Recipe: `recipes/electra_mini.sh WORK_DIR --package` (steps 1-2 make this model).',
        '',
        'Use it as the starting point for fine-tuning on short Korean texts (`kobert-gluon finetune --model',
        'electra-mini ...`). It has seen only movie reviews. It is not KoELECTRA and its token ids are kobert-mini\'s.',
    ]
    return '\n'.join(lines) + '\n'


def nsmc_card(work, shipped):
    rows = []
    for run, label in (('nsmc', 'electra-mini-nsmc (this model)'),
                       ('nsmc-scratch', 'same architecture and vocab, random initial weights')):
        if (work / run / 'test_metrics.json').is_file():
            rows.append((label, read_json(work / run / 'metrics.json')['best']['value'],
                         read_json(work / run / 'test_metrics.json')['accuracy'], fmt_time(seconds(work, run))))
    if (work / 'kobert-mini-nsmc.test_metrics.json').is_file():
        rows.append(('kobert-mini-nsmc (masked LM + NSP, the same budget; shipped)', float('nan'),
                     read_json(work / 'kobert-mini-nsmc.test_metrics.json')['accuracy'], 'see its card'))
    run = read_json(work / 'nsmc' / 'run.json')
    settings = run['settings']
    lines = [
        '# electra-mini-nsmc',
        '',
        'electra-mini fine-tuned for NSMC movie-review sentiment (labels `negative`, `positive`).',
        '',
        '    kobert-gluon predict --model electra-mini-nsmc "이 영화 정말 재밌어요" "최악의 영화"',
        '',
        '| model | dev accuracy | test accuracy (49,997 reviews) | fine-tuning wall time |',
        '|---|---|---|---|',
    ]
    lines += ['| {} | {} | {:.4f} | {} |'.format(name, '{:.4f}'.format(dev) if dev == dev else '-', test, time)
              for name, dev, test, time in rows]
    lines += [
        '',
        'Published NSMC test accuracy for reference: FastText 85.5, DistilKoBERT 87.7-88.6, KoELECTRA-Small-v3 89.4,',
        'KoBERT 89.6-90.1.',
        '',
        '| | |', '|---|---|',
        '| training data | NSMC train, {:,} reviews; dev = the other 5 % of the train file (picks the epoch) |'.format(
            run['data']['train']['examples']),
        '| test data | NSMC `ratings_test.txt`, used once for the figures above |',
        '| recipe | {} epochs, batch {}, max length {}, lr {}, warmup {}, seed {} (kobert-mini-nsmc\'s) |'.format(
            settings['training'].get('epochs'), settings.get('batch_size'), settings.get('max_seq_length'),
            settings['training'].get('learning_rate'), settings['training'].get('warmup_ratio'),
            settings['training'].get('seed')),
        '| parameters stored | float16 (loaded as float32) |',
        '',
        'Recipe: `recipes/electra_mini.sh WORK_DIR --package` (steps 3-5). The model reads movie reviews; on other',
        'kinds of text its sentiment calls are less reliable.',
    ]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work', type=Path, help='the WORK_DIR of recipes/electra_mini.sh')
    parser.add_argument('--out', type=Path, required=True, help='kobert_gluon/shipped_models')
    args = parser.parse_args(argv)
    for needed in ('pretrain/best/config.json', 'nsmc/best/config.json', 'nsmc/test_metrics.json'):
        if not (args.work / needed).is_file():
            parser.error('{} is missing: run the recipe first'.format(args.work / needed))
    mini = repackage(args.work / 'pretrain' / 'best', args.out / 'electra-mini')
    (mini / 'MODEL_CARD.md').write_text(pretrain_card(args.work, read_json(mini / 'config.json'), args.out),
                                        encoding='utf-8')
    nsmc = repackage(args.work / 'nsmc' / 'best', args.out / 'electra-mini-nsmc')
    (nsmc / 'MODEL_CARD.md').write_text(nsmc_card(args.work, args.out), encoding='utf-8')
    from kobert_gluon.core.owned_folders import record_checksums
    for folder in (mini, nsmc):  # the cards are part of the folders: their checksums go in the markers too
        record_checksums(folder, 'model')
    total = sum(p.stat().st_size for folder in args.out.iterdir() if folder.is_dir() for p in folder.iterdir())
    print('wrote {} and {}; every shipped model together: {:.2f} MB'.format(mini, nsmc, total / 1e6))
    return 0


if __name__ == '__main__':
    sys.exit(main())
