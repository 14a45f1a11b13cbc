"""Step 7 of recipes/kobert_mini.sh: write kobert-mini and kobert-mini-nsmc into the package, with model cards.

    python recipes/package_mini.py WORK_DIR --out kobert_gluon/shipped_models

Both models are saved with float16 parameters (loaded back as float32) so that together they stay under
15 MB. Every figure in the model cards is read from the run folders the recipe wrote (metrics.json,
test_metrics.json, the *.seconds timings), never typed in.
"""
import argparse
import json
import sys
from pathlib import Path

STANDARD_KEYS = ('format', 'format_version', 'bert', 'heads', 'task', 'param_dtype')


def read_json(path):
    return json.loads(Path(path).read_text(encoding='utf-8'))


def seconds(work, name):
    path = work / (name + '.seconds')
    return int(path.read_text().strip()) if path.is_file() else None


def fmt_time(value):
    if value is None:
        return 'not recorded'
    return '{} min {} s'.format(value // 60, value % 60) if value >= 60 else '{} s'.format(value)


def repackage(source, target, extra_keys=True):
    """Load a model folder and save it again as float16, keeping its extra config sections."""
    from kobert_gluon import load_model, save_model
    from kobert_gluon.models.folder import TOKENIZER_FILE, read_config
    config = read_config(source)
    model, vocab = load_model(source)
    extra = {k: v for k, v in config.items() if k not in STANDARD_KEYS} if extra_keys else None
    return save_model(model, vocab, target, str(Path(source) / TOKENIZER_FILE), param_dtype='float16',
                      extra=extra, overwrite=True)


def pretrain_card(work, config):
    metrics = read_json(work / 'pretrain' / 'metrics.json')
    run = read_json(work / 'pretrain' / 'run.json')
    best = metrics['best']
    evaluations = metrics.get('evaluations') or []
    best_eval = next((e for e in evaluations if e.get('step') == best.get('step')), evaluations[-1] if evaluations
                     else {})
    dev = best_eval.get('dev', best_eval)
    bert = config['bert']
    manifest = read_json(work / 'pretrain-data' / 'manifest.json')
    settings = run['settings']
    lines = [
        '# kobert-mini',
        '',
        'A small Korean BERT pretrained by kobert-gluon\'s own pipeline (build-vocab, create-pretraining-data,',
        'pretrain) on the 150,000 review texts of NSMC\'s training file, on a 2-core CPU.',
        '',
        '| | |', '|---|---|',
        '| architecture | {} layers, {} units, {} heads, FFN {}, max length {}, GELU |'.format(
            bert['num_layers'], bert['units'], bert['num_heads'], bert['hidden_size'], bert['max_length']),
        '| vocabulary | {:,} tokens (SentencePiece unigram, 8,000 pieces + [UNK] [PAD] [CLS] [SEP] [MASK] '
        'in KoBERT\'s layout) |'.format(bert['vocab_size']),
        '| heads | pooler, masked-LM decoder, next-sentence classifier |',
        '| parameters stored | float16 (loaded as float32) |',
        '| training data | NSMC `ratings_train.txt` review text only (CC0 1.0); labels and the test file unused |',
        '| pretraining instances | {:,} (max length {}, masked-LM prob {}, dupe factor {}) |'.format(
            manifest['num_instances'],
            manifest['options']['max_seq_length'], manifest['options']['masked_lm_prob'],
            manifest['options']['dupe_factor']),
        '| steps | {:,} of batch {} (lr {}, warmup {}, linear decay) |'.format(
            metrics.get('total_steps', 0), settings.get('batch_size'), settings['training'].get('learning_rate'),
            settings['training'].get('warmup_ratio')),
        '| wall time | vocabulary {}, pretraining data {}, pretraining {} |'.format(
            fmt_time(seconds(work, 'vocab')), fmt_time(seconds(work, 'pretrain-data')),
            fmt_time(seconds(work, 'pretrain'))),
        '| held-out dev (best step {}) | masked-LM accuracy {:.4f}, NSP accuracy {:.4f}, MLM perplexity {:.1f} |'.format(
            best.get('step'), dev.get('mlm_accuracy', float('nan')), dev.get('nsp_accuracy', float('nan')),
            dev.get('mlm_perplexity', float('nan'))),
        '',
        'Recipe: `recipes/kobert_mini.sh WORK_DIR --package` (steps 1-3 make this model).',
        '',
        'Use it as the starting point for fine-tuning on short Korean texts (`kobert-gluon finetune --model',
        'kobert-mini ...`). It has seen only movie reviews: expect it to know informal review language well',
        'and formal or technical Korean poorly. It is not KoBERT-base and its token ids are not KoBERT\'s.',
    ]
    return '\n'.join(lines) + '\n'


def nsmc_card(work):
    tuned, scratch = work / 'nsmc', work / 'nsmc-scratch'
    metrics = read_json(tuned / 'metrics.json')
    test = read_json(tuned / 'test_metrics.json')
    run = read_json(tuned / 'run.json')
    rows = [('kobert-mini-nsmc (pretrained, this model)', metrics['best']['value'], test['accuracy'],
             fmt_time(seconds(work, 'nsmc')))]
    if (scratch / 'test_metrics.json').is_file():
        rows.append(('same architecture and vocab, random initial weights',
                     read_json(scratch / 'metrics.json')['best']['value'],
                     read_json(scratch / 'test_metrics.json')['accuracy'], fmt_time(seconds(work, 'nsmc-scratch'))))
    settings = run['settings']
    lines = [
        '# kobert-mini-nsmc',
        '',
        'kobert-mini fine-tuned for NSMC movie-review sentiment (labels `negative`, `positive`).',
        '',
        '    kobert-gluon predict --model kobert-mini-nsmc "이 영화 정말 재밌어요" "최악의 영화"',
        '',
        '| model | dev accuracy | test accuracy (49,997 reviews) | fine-tuning wall time |',
        '|---|---|---|---|',
    ]
    lines += ['| {} | {:.4f} | {:.4f} | {} |'.format(*row) for row in rows]
    lines += [
        '',
        'Published NSMC test accuracy for reference: FastText 85.5, DistilKoBERT 87.7-88.6, KoBERT 89.6-90.1.',
        '',
        '| | |', '|---|---|',
        '| training data | NSMC train, {:,} reviews; dev = the other 5 % of the train file (picks the epoch) |'.format(
            run['data']['train']['examples']),
        '| test data | NSMC `ratings_test.txt`, used once for the figures above |',
        '| recipe | {} epochs, batch {}, max length {}, lr {}, warmup {}, seed {} |'.format(
            settings['training'].get('epochs'), settings.get('batch_size'), settings.get('max_seq_length'),
            settings['training'].get('learning_rate'), settings['training'].get('warmup_ratio'),
            settings['training'].get('seed')),
        '| parameters stored | float16 (loaded as float32) |',
        '',
        'Recipe: `recipes/kobert_mini.sh WORK_DIR --package` (steps 4-6). The model reads movie reviews; on other',
        'kinds of text its sentiment calls are less reliable.',
    ]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work', type=Path, help='the WORK_DIR of recipes/kobert_mini.sh')
    parser.add_argument('--out', type=Path, required=True, help='kobert_gluon/shipped_models')
    args = parser.parse_args(argv)
    for needed in ('pretrain/best/config.json', 'nsmc/best/config.json', 'nsmc/test_metrics.json'):
        if not (args.work / needed).is_file():
            parser.error('{} is missing: run the recipe first'.format(args.work / needed))
    mini = repackage(args.work / 'pretrain' / 'best', args.out / 'kobert-mini')
    (mini / 'MODEL_CARD.md').write_text(pretrain_card(args.work, read_json(mini / 'config.json')), encoding='utf-8')
    nsmc = repackage(args.work / 'nsmc' / 'best', args.out / 'kobert-mini-nsmc')
    (nsmc / 'MODEL_CARD.md').write_text(nsmc_card(args.work), encoding='utf-8')
    from kobert_gluon.core.owned_folders import record_checksums
    for folder in (mini, nsmc):  # the cards are part of the folders: their checksums go in the markers too
        record_checksums(folder, 'model')
    total = sum(p.stat().st_size for folder in (mini, nsmc) for p in folder.iterdir())
    print('wrote {} and {}: {:.2f} MB together'.format(mini, nsmc, total / 1e6))
    return 0


if __name__ == '__main__':
    sys.exit(main())
