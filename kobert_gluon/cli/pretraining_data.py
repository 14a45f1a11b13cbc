"""``build-vocab`` and ``create-pretraining-data``: preparing a corpus for pretraining."""
import time
from pathlib import Path

from . import UsageError
from .run_options import add_max_seq_length_arg, add_progress_arg


def _add_corpus_args(parser, files_flag, files_help):
    parser.add_argument(files_flag, nargs='+', required=True, metavar='FILE', help=files_help)
    parser.add_argument('--column', metavar='COL',
                        help='read one column of tab-separated files: a header name (then the first line is a '
                             'header) or a 0-based index; e.g. --column document for NSMC')
    parser.add_argument('--skip-header', action='store_true',
                        help='the first line of every file is a header (implied by a named --column)')
    parser.add_argument('--encoding', default='utf-8',
                        help='text encoding of the files (default utf-8, byte-order mark accepted), e.g. cp949; '
                             'a byte that does not decode is an error naming the file, line and offset')


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'build-vocab': 'train a vocabulary on a corpus: SentencePiece unigram in KoBERT\'s layout, or WordPiece '
                   '(KoELECTRA\'s kind)',
    'create-pretraining-data': 'masked-LM and next-sentence instances from a corpus, as .npz shards',
}


def register(subparsers):
    from ..pretraining.instances import InstanceOptions  # plain Python: no mxnet for --help
    vocab = subparsers.add_parser(
        'build-vocab', help=COMMANDS['build-vocab'])
    _add_corpus_args(vocab, '--corpus', 'corpus files, one text per line')
    vocab.add_argument('--kind', choices=('sentencepiece', 'wordpiece', 'mecab+wordpiece'), default='sentencepiece',
                       help='sentencepiece: tokenizer.model + vocab.json (KoBERT); wordpiece: vocab.txt with ## '
                            'continuations (KoELECTRA); mecab+wordpiece: that vocabulary trained on Mecab morphemes '
                            'and fed Mecab morphemes at use too (the BERT walk-through\'s models; the [mecab] extra) '
                            '(default: sentencepiece)')
    vocab.add_argument('--size', type=int, required=True,
                       help='sentencepiece: pieces (KoBERT: 8000), the BERT vocab gets SIZE + 2 tokens; wordpiece: '
                            'tokens with the 5 special ones (KoELECTRA: 32000), then --unused-tokens more')
    vocab.add_argument('--out', required=True, metavar='DIR', help='folder for the vocabulary files')
    vocab.add_argument('--character-coverage', type=float, default=0.9995,
                       help='share of characters the pieces must cover (default 0.9995, as KoBERT)')
    vocab.add_argument('--input-sentence-size', type=int, default=1_000_000,
                       help='train on a uniform sample of at most this many lines (default 1,000,000)')
    vocab.add_argument('--seed', type=int, default=0, help='seed of that sample (default 0)')
    vocab.add_argument('--threads', type=int, help='SentencePiece training threads (default: CPU count); '
                       'the result depends on it')
    vocab.add_argument('--no-pretokenize', action='store_true',
                       help='sentencepiece: train on raw lines instead of text split like BERTSPTokenizer splits it')
    vocab.add_argument('--pre-tokenize', choices=('none', 'mecab'), default='none',
                       help='wordpiece: split the training text into Mecab morphemes first, as KoELECTRA did (needs '
                            'the [mecab] extra); text is tokenized without Mecab at use (default: none)')
    vocab.add_argument('--unused-tokens', type=int, default=200,
                       help='wordpiece: [unused0] ... tokens appended, as KoELECTRA\'s 200 (default 200)')
    vocab.add_argument('--min-frequency', type=int, default=2,
                       help='wordpiece: a piece must occur this often (default 2)')
    vocab.add_argument('--overwrite', action='store_true', help='replace a non-empty --out folder')
    add_progress_arg(vocab)
    vocab.set_defaults(func=run_build_vocab)

    data = subparsers.add_parser(
        'create-pretraining-data', help=COMMANDS['create-pretraining-data'])
    _add_corpus_args(data, '--input', 'corpus files')
    data.add_argument('--input-format', choices=('documents', 'lines'), default='documents',
                      help="documents: one sentence per line, blank line between documents (BERT's format); "
                           'lines: one short document per line or cell, e.g. a review (default: documents)')
    data.add_argument('--keep-single-sentences', action='store_true',
                      help='lines format: do not cut one-sentence texts into two halves')
    data.add_argument('--vocab', required=True, metavar='DIR_OR_MODEL',
                      help='a build-vocab folder, a saved model folder or a registered model (kobert-base)')
    data.add_argument('--out', required=True, metavar='DIR', help='folder for the shards and manifest.json')
    add_max_seq_length_arg(data, 'vocab', 128)
    data.add_argument('--max-predictions-per-seq', type=int, default=20)
    data.add_argument('--masked-lm-prob', type=float, default=0.15)
    data.add_argument('--short-seq-prob', type=float, default=0.1)
    data.add_argument('--dupe-factor', type=int, default=InstanceOptions.dupe_factor,
                      help='passes over the corpus with other masks and pairs (default {}, as BERT\'s script)'
                      .format(InstanceOptions.dupe_factor))
    data.add_argument('--do-whole-word-mask', action='store_true',
                      help='mask every piece of a word together (a piece starting with ▁ starts a word)')
    data.add_argument('--random-seed', type=int, default=12345)
    data.add_argument('--workers', type=int, default=1, help='processes (output is the same for any number)')
    data.add_argument('--chunk-documents', type=int, default=5000,
                      help='documents per chunk: the memory bound and the pool for random-next text '
                           '(default 5000)')
    data.add_argument('--instances-per-shard', type=int, default=50000)
    data.add_argument('--overwrite', action='store_true', help='replace a non-empty --out folder')
    data.add_argument('--cachedir', help='cache folder (for a registered --vocab model)')
    add_progress_arg(data)
    data.set_defaults(func=run_create_pretraining_data)


def _header(args):
    return True if args.skip_header else None


def run_build_vocab(args):
    start = time.time()
    if args.kind in ('wordpiece', 'mecab+wordpiece'):
        from ..tokenizers.wordpiece_vocab import build_wordpiece_vocab
        if args.no_pretokenize or args.threads is not None:
            raise UsageError('--no-pretokenize and --threads are SentencePiece options; --kind wordpiece has '
                             '--pre-tokenize')
        folder = build_wordpiece_vocab(args.corpus, args.size, args.out, column=args.column, header=_header(args),
                                       pre_tokenize=args.pre_tokenize, unused_tokens=args.unused_tokens,
                                       min_frequency=args.min_frequency, character_coverage=args.character_coverage,
                                       input_sentence_size=args.input_sentence_size, seed=args.seed,
                                       overwrite=args.overwrite, encoding=args.encoding, kind=args.kind)
    else:
        from ..tokenizers.vocab_builder import build_vocab
        if args.pre_tokenize != 'none':
            raise UsageError('--pre-tokenize is a WordPiece option (--kind wordpiece)')
        folder = build_vocab(args.corpus, args.size, args.out, column=args.column, header=_header(args),
                             character_coverage=args.character_coverage, input_sentence_size=args.input_sentence_size,
                             seed=args.seed, num_threads=args.threads, pretokenize=not args.no_pretokenize,
                             overwrite=args.overwrite, encoding=args.encoding)
    info = folder.build_info()
    print('trained on {:,} of {:,} lines in {:.1f} s'.format(info['training_lines'], info['corpus_lines'],
                                                              time.time() - start))
    print('vocabulary: {:,} tokens ([UNK] [PAD] [CLS] [SEP] [MASK] + {:,} others); [UNK] rate {:.4%}'.format(
        info['bert_vocab_size'], info['bert_vocab_size'] - 5, info['unk_rate_on_training_sample']))
    print('wrote {}'.format(' and '.join(str(p) for p in ((folder.vocab_path,) if folder.kind != 'sentencepiece'
                                                          else (folder.tokenizer_path, folder.vocab_path)))))
    return 0


def _tokenizer(args):
    from ..models.zoo import load_tokenizer
    folder = Path(args.vocab)
    if not folder.exists() and ('/' in args.vocab or '\\' in args.vocab):
        raise UsageError('--vocab {}: no such folder (give a build-vocab folder, a saved model folder or a '
                         'registered model name)'.format(args.vocab))
    return load_tokenizer(args.vocab, cachedir=args.cachedir)


def run_create_pretraining_data(args):
    from ..core.progress import steps
    from ..pretraining.data import create_pretraining_data
    from ..pretraining.instances import InstanceOptions
    if args.keep_single_sentences and args.input_format != 'lines':
        raise UsageError('--keep-single-sentences only applies to --input-format lines')
    options = InstanceOptions(max_seq_length=args.max_seq_length, masked_lm_prob=args.masked_lm_prob,
                              max_predictions_per_seq=args.max_predictions_per_seq,
                              short_seq_prob=args.short_seq_prob, dupe_factor=args.dupe_factor,
                              do_whole_word_mask=args.do_whole_word_mask)
    tokenizer = _tokenizer(args)
    start = time.time()
    with steps(desc='making instances', unit='documents') as bar:  # shown as cli.main says (--no-progress)
        done = [0]

        def progress(documents, instances):
            bar.set_postfix({'instances': '{:,}'.format(instances)})
            bar.update(documents - done[0])
            done[0] = documents

        data = create_pretraining_data(
            args.input, args.out, tokenizer, column=args.column, header=_header(args),
            input_format=args.input_format, options=options, random_seed=args.random_seed, workers=args.workers,
            chunk_documents=args.chunk_documents, instances_per_shard=args.instances_per_shard,
            halve_single_sentences=not args.keep_single_sentences, overwrite=args.overwrite, progress=progress,
            tokenizer_source=args.vocab, encoding=args.encoding)
    manifest = data.manifest
    stats = manifest['stats']
    blank = manifest.get('blank_lines_skipped') or 0
    print('{:,} documents{} -> {:,} instances in {} shards ({:.1f} s)'.format(
        manifest['num_documents'], ' ({:,} blank lines skipped)'.format(blank) if blank else '',
        manifest['num_instances'], len(manifest['shards']), time.time() - start))
    print('tokens {:,}; masked {:.2%}; random next {:.2%}'.format(
        stats['tokens'], stats['masked_tokens'] / stats['tokens'], stats['random_next'] / manifest['num_instances']))
    print('wrote {}'.format(data.folder))
    return 0
