"""Tiny token classifier and question answerer model folders, trained here in seconds.

A one-layer encoder over kobert-mini's tokenizer, trained by a plain Gluon loop (no run folder, evaluation or plots:
what ``finetune`` adds costs half a minute on a busy machine) on the synthetic sentences of
:mod:`tests.test_cli_tasks`, then saved as ``finetune`` saves its best model (a ``finetuning`` section), so
``FineTunedModel.load``, ``predict`` and ``serve`` read it as any fine-tuned folder. The data are regular enough
that the models learn them: answers that merely look right would not come from an untrained head.
"""
import random

import mxnet as mx

from kobert_gluon import load_tokenizer
from kobert_gluon.models.folder import save_model
from kobert_gluon.tasks.datasets import TaskSpec
from kobert_gluon.tasks.extractive_qa import QABatches, QAData, QAExample
from kobert_gluon.tasks.finetuning import FineTunedModel, build_task_model
from kobert_gluon.tasks.tagging import Entity, TaggedBatches, TaggedText, bio_labels

from .test_cli_tasks import FILLER, _klue_sentence

ENCODER = dict(num_layers=1, units=64, hidden_size=128, num_heads=2)
QUESTION = '비밀 번호는 몇 번인가?'


def tagged_texts(count: int, seed: int = 0):
    """'<name>씨는 <place>에 <verb>.' with the name PS and the place LC (test_cli_tasks' sentences)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        text, tags = _klue_sentence(rng)
        entities = []
        for i, tag in enumerate(tags):
            if tag.startswith('B-'):
                entities.append([i, i + 1, tag[2:]])
            elif tag.startswith('I-'):
                entities[-1][1] = i + 1
        texts.append(TaggedText(text, [Entity(*entity) for entity in entities]))
    return texts


def qa_context(rng, number: str, decoy: str) -> str:
    """Filler sentences with '<decoy>번 버스가 왔다.' and '비밀 번호는 <number>번이다.' in random places: the model
    must find the number after 번호는, not any number (the decoy is the same number half of the time)."""
    sentences = [rng.choice(FILLER) for _ in range(rng.randint(1, 4))]
    sentences.insert(rng.randint(0, len(sentences)), '{}번 버스가 왔다.'.format(decoy))
    sentences.insert(rng.randint(0, len(sentences)), '비밀 번호는 {}번이다.'.format(number))
    return ' '.join(sentences)


def qa_examples(count: int, seed: int = 1):
    rng = random.Random(seed)
    examples = []
    for i in range(count):
        number = str(rng.randint(100, 999))
        decoy = number if rng.random() < 0.5 else str(rng.randint(100, 999))
        context = qa_context(rng, number, decoy)
        examples.append(QAExample(qid=str(i), question=QUESTION, context=context,
                                  answers=[(number, context.index('번호는 ') + len('번호는 '))]))
    return examples


def _train(kind, labels, make_batches, max_seq_length, folder, steps):
    spec = TaskSpec(name='tiny', kind=kind, metric='entity_f1' if labels else 'f1', table=None,
                    data_format='klue' if labels else 'squad')
    model, vocab = build_task_model(spec, labels or [], model='kobert-mini', from_scratch=True,
                                    model_overrides=ENCODER, dropout=0.0, seed=3)
    tokenizer = load_tokenizer('kobert-mini')
    batches = make_batches(tokenizer)
    model.hybridize(static_alloc=True)
    trainer = mx.gluon.Trainer(model.collect_params(), 'adam', {'learning_rate': 3e-3})
    done, epoch = 0, 0
    while done < steps:
        for batch in batches.batches(epoch):
            # the DataLoader's arrays live in shared memory; the hybridized graph wants them on the model's device
            input_ids, valid_length, token_types, label = [x.as_in_context(mx.cpu()) for x in batch]
            with mx.autograd.record():
                loss = spec.task_kind.loss(model(input_ids, token_types, valid_length), label)
            loss.backward()
            trainer.step(1)
            done += 1
            if done == steps:
                break
        epoch += 1
    folder = save_model(model, vocab, folder, tokenizer, extra={'finetuning': {
        'task': spec.to_dict(), 'labels': labels, 'max_seq_length': max_seq_length, 'trained_on': None}})
    return FineTunedModel.load(folder)


def tiny_ner_model(folder, steps: int = 120) -> FineTunedModel:
    labels = bio_labels(['LC', 'PS'])
    texts = tagged_texts(200)
    return _train('token_classification', labels,
                  lambda tokenizer: TaggedBatches(texts, tokenizer, 32, labels, 16, shuffle=True),
                  32, folder, steps)


def tiny_qa_model(folder, steps: int = 200) -> FineTunedModel:
    data = QAData(qa_examples(200), path='tiny')
    # 64 pieces: most contexts fit one window (learned in fewer steps than across windows)
    return _train('extractive_qa', None, lambda tokenizer: QABatches(data, tokenizer, 64, 16, shuffle=True),
                  64, folder, steps)
