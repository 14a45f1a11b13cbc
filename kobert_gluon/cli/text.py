"""``tokenize`` and ``encode``: the tokenizer and the encoder on text from the command line."""
from . import UsageError
from .run_options import add_device_args, add_max_seq_length_arg

# The pooling choices (kept equal to models.sentence_vectors.POOLINGS, which a test checks): the parser is built
# without loading mxnet, which that module needs.
POOLINGS = ('pooler', 'cls', 'mean')


def _add_model_args(parser):
    parser.add_argument('--model', default='kobert-base', help='registered model name or saved model folder '
                        '(default: kobert-base)')
    parser.add_argument('--cachedir', help='cache folder')


# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'tokenize': 'SentencePiece pieces and vocabulary ids of TEXT',
    'encode': 'run the encoder on TEXT and show its sentence vector (--pooling pooler|cls|mean)',
}


def register(subparsers):
    tokenize = subparsers.add_parser('tokenize', help=COMMANDS['tokenize'])
    tokenize.add_argument('text', nargs='+', help='text to tokenize (several arguments are joined by spaces)')
    add_max_seq_length_arg(tokenize, 'model', 128, 'length of the [CLS] ... [SEP] ids (truncating; default 128, or the '
                           'model\'s positions if fewer)')
    _add_model_args(tokenize)
    tokenize.set_defaults(func=run_tokenize)

    encode = subparsers.add_parser('encode', help=COMMANDS['encode'])
    encode.add_argument('text', nargs='+', help='text to encode (several arguments are joined by spaces)')
    add_max_seq_length_arg(encode, 'model', 128)
    encode.add_argument('--pooling', choices=POOLINGS,
                        help='how the sentence vector is made: pooler (the model\'s pooled output), cls (the first '
                             'row of the last layer) or mean (the mean over the text\'s positions); default: the '
                             'pooler where the model\'s weights hold one, else mean')
    encode.add_argument('--random-weights', action='store_true',
                        help='use a randomly initialised model (no weights needed; for trying the pipeline)')
    _add_model_args(encode)
    add_device_args(encode, splits_batches=False)
    encode.set_defaults(func=run_encode)


def _tokenizer(args):
    from ..models.zoo import load_tokenizer  # any kind: SentencePiece, WordPiece
    return load_tokenizer(args.model, cachedir=args.cachedir)


def run_tokenize(args):
    tokenizer = _tokenizer(args)
    text = ' '.join(args.text)
    pieces = tokenizer.tokenize(text)
    ids, valid_length, _ = tokenizer.encode(text, max_seq_length=args.max_seq_length, pad=False)
    print('pieces: ' + ' '.join(pieces))
    print('ids: ' + ' '.join(str(int(i)) for i in ids[:int(valid_length)]))
    return 0


def run_encode(args):
    from ..models.sentence_vectors import SentenceEncoder  # first: it prepares mxnet (core.mxnet_stack)
    import numpy as np
    encoder = SentenceEncoder(args.model, pooling=args.pooling, max_seq_length=args.max_seq_length,
                              pretrained=not args.random_weights, device=args.device, cachedir=args.cachedir)
    vectors, sequence, lengths = encoder.encode_batch([' '.join(args.text)])
    values = vectors[0]
    print('tokens: {}'.format(int(lengths[0])))
    print('sequence output: {}'.format(tuple(sequence.shape)))
    print('sentence vector ({}): {}'.format(encoder.pooling, tuple(vectors.shape)))
    print('first values: ' + ' '.join('{:+.4f}'.format(v) for v in values[:8]))
    if not np.all(np.isfinite(values)):
        raise UsageError('the model produced non-finite values')
    return 0
