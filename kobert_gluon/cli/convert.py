"""``import-hf`` and ``export-hf``: Hugging Face transformers checkpoints in and out; ``import-tf``: TensorFlow's."""
from .run_options import add_progress_arg

# The commands of this module and their one-line help (what `kobert-gluon --help` lists without loading them).
COMMANDS = {
    'import-hf': 'convert a transformers BERT, DistilBERT, ELECTRA or XLM-RoBERTa checkpoint (folder or hub repo '
                 'id) into a model folder',
    'export-hf': 'write a model folder as a transformers checkpoint (config.json, model.safetensors, tokenizer)',
    'import-tf': 'convert a TensorFlow checkpoint of Google\'s BERT code or the original ELECTRA code into a model '
                 'folder (no TensorFlow needed)',
}


def register(subparsers):
    imp = subparsers.add_parser(
        'import-hf', help=COMMANDS['import-hf'],
        description='Convert a transformers checkpoint (BertModel, BertForPreTraining, BertForMaskedLM, '
                    'BertForSequenceClassification, BertForTokenClassification or BertForQuestionAnswering, and '
                    'their DistilBert, Electra and XLMRoberta counterparts; model.safetensors, or pytorch_model.bin '
                    'with torch '
                    'installed) into a kobert-gluon model folder that get_model, finetune --model, predict, evaluate '
                    'and export-onnx take (a task head as a fine-tuned model: its id2label, or --labels, are its '
                    'labels; multi-label classifiers are refused). SRC is '
                    'a local folder or a hub repo id, fetched into the cache and verified against the hub\'s '
                    'published checksums (offline: only a snapshot fetched before). Its tokenizer comes from the '
                    'folder (a SentencePiece model and vocab.txt, or vocab.txt alone) or from --tokenizer; none is '
                    'guessed from the vocabulary\'s size.')
    imp.add_argument('src', help='transformers checkpoint folder, or hub repo id (skt/kobert-base-v1)')
    imp.add_argument('--revision', default='main', help='hub branch, tag or commit (default: %(default)s)')
    imp.add_argument('--out', required=True, help='model folder to write')
    imp.add_argument('--tokenizer', metavar='PATH',
                     help='tokenizer to use when SRC has none: a kobert-gluon model or build-vocab folder, a folder '
                          'with a SentencePiece model and vocab.txt, a vocab.txt or .model file, or a registered '
                          'model name (kobert-base)')
    imp.add_argument('--labels', metavar='A,B,...',
                     help='comma-separated label names of a sequence or token classifier in id order, for a '
                          'checkpoint whose id2label is transformers\' default (LABEL_0, LABEL_1, ...): a token '
                          'classifier needs its tags (O,B-PER,I-PER,...); a sequence classifier without them keeps '
                          'the LABEL_<i> names. A config that names its labels must agree')
    imp.add_argument('--overwrite', action='store_true', help='replace --out (a model folder) if it exists')
    imp.add_argument('--cachedir', help='cache folder (hub snapshots, KoBERT\'s tokenizer files)')
    add_progress_arg(imp)
    imp.set_defaults(func=run_import_hf)

    exp = subparsers.add_parser(
        'export-hf', help=COMMANDS['export-hf'],
        description='Write a model folder as a transformers checkpoint: a fine-tuned classifier or regressor as '
                    'BertForSequenceClassification, a token classifier as BertForTokenClassification (its labels as '
                    'id2label), a question-answering model as BertForQuestionAnswering, a model with MLM and NSP '
                    'heads as BertForPreTraining, anything else as BertModel (DistilBert... and Electra... for those '
                    'families), loadable with from_pretrained(OUT). No torch needed to write it.')
    exp.add_argument('model', help='model folder, run folder\'s best/, or a shipped model name (kobert-mini-nsmc)')
    exp.add_argument('--out', required=True, help='folder to write')
    exp.add_argument('--overwrite', action='store_true', help='replace --out (an earlier export) if it exists')
    add_progress_arg(exp)
    exp.set_defaults(func=run_export_hf)

    tf = subparsers.add_parser(
        'import-tf', help=COMMANDS['import-tf'],
        description='Convert a TensorFlow checkpoint (model.ckpt.index + model.ckpt.data-*) into a model folder, '
                    'read without TensorFlow: Google\'s BERT code (run_pretraining.py: the encoder with its MLM and '
                    'NSP heads, as BertForPreTraining) or the original ELECTRA code (the discriminator, or with '
                    '--part generator its generator). The optimizer\'s slots and global_step are left out.')
    tf.add_argument('checkpoint', help='checkpoint prefix (PATH/model.ckpt), its .index file, or the folder with '
                                       'TensorFlow\'s "checkpoint" file')
    tf.add_argument('--config', required=True,
                    help='the model\'s hyper-parameters: bert_config.json as Google\'s code writes it, or a '
                         'transformers config.json (model_type electra for ELECTRA)')
    tf.add_argument('--vocab', required=True, metavar='TOKENIZER',
                    help='the vocabulary it was trained with: a WordPiece vocab.txt, a SentencePiece .model, a model '
                         'or build-vocab folder, or a registered model name')
    tf.add_argument('--part', help='which model of a checkpoint holding two (ELECTRA: discriminator, the default, or '
                                   'generator)')
    tf.add_argument('--out', required=True, help='model folder to write')
    tf.add_argument('--overwrite', action='store_true', help='replace --out (a model folder) if it exists')
    add_progress_arg(tf)
    tf.set_defaults(func=run_import_tf)


def run_import_hf(args):
    from ..convert.huggingface import import_hf
    labels = None if args.labels is None else [label.strip() for label in args.labels.split(',')]
    if labels is not None and not all(labels):
        from ..core.errors import InputError
        raise InputError('--labels {!r}: give every label a name, separated by commas (O,B-PER,I-PER)'
                         .format(args.labels))
    folder = import_hf(args.src, args.out, tokenizer=args.tokenizer, overwrite=args.overwrite,
                       cachedir=args.cachedir, revision=args.revision, labels=labels)
    print('model folder: {}'.format(folder))
    return 0


def run_export_hf(args):
    from ..convert.huggingface import export_hf
    folder = export_hf(args.model, args.out, overwrite=args.overwrite)
    print('transformers checkpoint: {}'.format(folder))
    return 0


def run_import_tf(args):
    from ..convert.tensorflow import import_tf
    folder = import_tf(args.checkpoint, args.config, args.out, args.vocab, part=args.part, overwrite=args.overwrite)
    print('model folder: {}'.format(folder))
    return 0
