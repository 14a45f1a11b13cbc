"""``build-vocab``: preparing a corpus for pretraining."""
import time

from . import UsageError


def _add_corpus_args(parser, files_flag, files_help):
    parser.add_argument(files_flag, nargs='+', required=True, metavar='FILE', help=files_help)
    parser.add_argument('--column', metavar='COL',
                        help='read one column of tab-separated files: a header name (then the first line is a '
                             'header) or a 0-based index; e.g. --column document for NSMC')
    parser.add_argument('--skip-header', action='store_true',
                        help='the first line of every file is a header (implied by a named --column)')


def register(subparsers):
    vocab = subparsers.add_parser(
        'build-vocab', help='train a SentencePiece unigram model and its KoBERT-layout BERTVocab on a corpus')
    _add_corpus_args(vocab, '--corpus', 'corpus files, one text per line')
    vocab.add_argument('--size', type=int, required=True,
                       help='SentencePiece pieces (KoBERT: 8000); the BERT vocab gets SIZE + 2 tokens')
    vocab.add_argument('--out', required=True, metavar='DIR', help='folder for tokenizer.model and vocab.json')
    vocab.add_argument('--character-coverage', type=float, default=0.9995,
                       help='share of characters the pieces must cover (default 0.9995, as KoBERT)')
    vocab.add_argument('--input-sentence-size', type=int, default=1_000_000,
                       help='train on a uniform sample of at most this many lines (default 1,000,000)')
    vocab.add_argument('--seed', type=int, default=0, help='seed of that sample (default 0)')
    vocab.add_argument('--threads', type=int, help='SentencePiece training threads (default: CPU count); '
                       'the result depends on it')
    vocab.add_argument('--no-pretokenize', action='store_true',
                       help='train on raw lines instead of text split like BERTSPTokenizer splits it')
    vocab.add_argument('--overwrite', action='store_true', help='replace a non-empty --out folder')
    vocab.set_defaults(func=run_build_vocab)


def _header(args):
    return True if args.skip_header else None


def run_build_vocab(args):
    from ..vocab_builder import build_vocab
    start = time.time()
    folder = build_vocab(args.corpus, args.size, args.out, column=args.column, header=_header(args),
                         character_coverage=args.character_coverage, input_sentence_size=args.input_sentence_size,
                         seed=args.seed, num_threads=args.threads, pretokenize=not args.no_pretokenize,
                         overwrite=args.overwrite)
    info = folder.build_info()
    print('trained on {:,} of {:,} lines in {:.1f} s'.format(info['training_lines'], info['corpus_lines'],
                                                              time.time() - start))
    print('vocabulary: {:,} tokens ([UNK] [PAD] [CLS] [SEP] [MASK] + {:,} pieces); [UNK] rate {:.4%}'.format(
        info['bert_vocab_size'], info['bert_vocab_size'] - 5, info['unk_rate_on_training_sample']))
    print('wrote {} and {}'.format(folder.tokenizer_path, folder.vocab_path))
    return 0
