"""The tests every model family passes, written once, as transformers' ``ModelTesterMixin``.

A family's test file declares only what is its own and inherits the rest::

    class TestBert(FamilyTests):
        family = BERT  # a tests.family_checks.Family: transformers classes, tiny config, tokenizer files

and pytest runs every ``test_*`` method below for it: the models transformers itself creates (every tensor random)
imported and computing transformers' outputs on the real tokens, exported back bit for bit; the blocks returning the
outputs their architecture declares; the ONNX export verified and onnxruntime computing MXNet's outputs; a few
fine-tuning steps and predictions from the saved folder. The transformers models and their imports are made once
per class (class-scoped fixtures) and shared by its tests; a family's own tests may use them too.
tests/test_family_tests.py fails for a registered family that has no such class.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import numpy as np
import pytest

from kobert_gluon import FinetuneSettings, FineTunedModel, TrainingConfig, finetune, get_model, load_tokenizer
from kobert_gluon.cli import main
from kobert_gluon.convert.huggingface import export_hf, import_hf
from kobert_gluon.core.outputs import BATCH, SEQUENCE, outputs_of
from kobert_gluon.deploy.runtime import InferenceModel

from .conftest import run_cli
from .family_checks import IDS, LENGTHS, TOLERANCE, Family, max_error, same_params, same_tensors, transformers_quiet, \
    valid

LABELS = {0: 'neg', 1: 'neutral', 2: 'pos'}
REVIEWS = ['영화 정말 재밌다', '시간 아까운 영화', '배우 연기가 너무 좋았어요']


@dataclass(frozen=True)
class Imported:
    """A transformers model, the folder it saved, the Gluon folder import-hf wrote from it, the Gluon model and the
    tokenizer loaded from that folder (once: the tests only run them), and transformers' outputs on the shared
    batch."""
    hf: Any
    hf_folder: Path
    folder: Path
    model: Any
    tokenizer: Any
    expected: Any

    @classmethod
    def of(cls, hf, hf_folder, folder, expected):
        return cls(hf, hf_folder, folder, get_model(str(folder))[0], load_tokenizer(str(folder)), expected)


def first(outputs):
    """The first output of a block (a backbone returns a tuple, a head one array)."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def flat(outputs):
    """A block's outputs as one list (a backbone returning every layer returns them as a list)."""
    result = []
    for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs]):
        result.extend(output if isinstance(output, (list, tuple)) else [output])
    return result


def softmax(logits):
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def predicted_rows(printed):
    """``predict``'s output: its header and its rows, split into cells."""
    lines = [line.split('\t') for line in printed.splitlines()]
    return lines[0], lines[1:]


class FamilyTests:
    """Inherit it and set ``family``; see the module docstring."""
    family: Family

    @pytest.fixture(autouse=True)
    def _transformers_quiet(self):
        with transformers_quiet():
            yield

    # ----- what every test shares: transformers models, created and imported once per class ---------------------
    @pytest.fixture(scope='class')
    @classmethod
    def base(cls, tmp_path_factory):
        """transformers' ``<Family>Model``, imported by the command line."""
        tmp = tmp_path_factory.mktemp(cls.family.name + '-base')
        hf, hf_folder = cls.family.hf_model(cls.family.prefix + 'Model', tmp)
        assert main(['import-hf', str(hf_folder), '--out', str(tmp / 'gluon')]) == 0
        return Imported.of(hf, hf_folder, tmp / 'gluon', cls.family.torch_outputs(hf).last_hidden_state.numpy())

    @pytest.fixture(scope='class')
    @classmethod
    def classifier(cls, tmp_path_factory):
        """transformers' ``<Family>ForSequenceClassification`` with three labels, imported by the API."""
        tmp = tmp_path_factory.mktemp(cls.family.name + '-classifier')
        hf, hf_folder = cls.family.hf_model(cls.family.prefix + 'ForSequenceClassification', tmp, num_labels=3,
                                            id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
        folder = import_hf(hf_folder, tmp / 'gluon')
        return Imported.of(hf, hf_folder, folder, cls.family.torch_outputs(hf).logits.numpy())

    def transformers_class(self, head=''):
        import transformers
        return getattr(transformers, self.family.prefix + head)

    def transformers_logits(self, hf, tokenizer, texts):
        """transformers' logits for ``texts`` as the package's tokenizer encodes them."""
        import torch
        encoded = [tokenizer.encode(text, max_seq_length=32) for text in texts]
        ids = np.stack([e[0] for e in encoded]).astype('int64')
        lengths = np.array([int(e[1]) for e in encoded])
        mask = (np.arange(ids.shape[1])[None] < lengths[:, None]).astype('int64')
        with torch.no_grad():
            return hf.eval()(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()

    # ----- 1. transformers parity, both ways --------------------------------------------------------------------
    def test_base_model_computes_transformers_hidden_states(self, base):
        sequence = first(base.model(*self.family.gluon_inputs())).asnumpy()
        assert sequence.shape == base.expected.shape
        assert max_error(valid(sequence), valid(base.expected)) < TOLERANCE
        config = json.loads((base.folder / 'config.json').read_text())
        assert config.get('architecture', 'bert') == self.family.name
        assert config['converted_from']['architecture'] == self.family.prefix + 'Model'

    def test_base_model_exports_back_to_transformers(self, base, tmp_path, capsys):
        back = tmp_path / 'back'
        code, _, err = run_cli(capsys, 'export-hf', base.folder, '--out', back)
        assert code == 0, err
        assert same_tensors(base.hf_folder, back, **self.family.base_export_rules)
        again = self.transformers_class('Model').from_pretrained(back).eval()
        got = self.family.torch_outputs(again).last_hidden_state.numpy()
        assert max_error(valid(got), valid(base.expected)) < 1e-6  # torch's thread order
        import_hf(back, tmp_path / 'again')
        assert same_params(base.folder, tmp_path / 'again')

    def test_sequence_classifier_computes_transformers_logits(self, classifier):
        got = classifier.model(*self.family.gluon_inputs()).asnumpy()
        assert got.shape == classifier.expected.shape == (len(IDS), 3)
        assert max_error(got, classifier.expected) < TOLERANCE

    def test_sequence_classifier_exports_back_to_transformers(self, classifier, tmp_path):
        back = export_hf(classifier.folder, tmp_path / 'back')
        assert same_tensors(classifier.hf_folder, back, **self.family.export_rules)
        config = json.loads((back / 'config.json').read_text())
        assert config['architectures'] == [self.family.prefix + 'ForSequenceClassification']
        assert config['id2label'] == {str(i): label for i, label in LABELS.items()}
        again = self.transformers_class('ForSequenceClassification').from_pretrained(back).eval()
        assert max_error(self.family.torch_outputs(again).logits.numpy(), classifier.expected) < 1e-6

    def test_imported_classifier_predicts_transformers_probabilities(self, classifier, capsys):
        code, printed, err = run_cli(capsys, 'predict', '--model', classifier.folder, *REVIEWS)
        assert code == 0, err
        header, rows = predicted_rows(printed)
        assert header == ['text', 'label', 'p_neg', 'p_neutral', 'p_pos'] and len(rows) == len(REVIEWS)
        expected = softmax(self.transformers_logits(classifier.hf, classifier.tokenizer, REVIEWS))
        assert [row[0] for row in rows] == REVIEWS
        assert [row[1] for row in rows] == [LABELS[int(i)] for i in expected.argmax(1)]
        np.testing.assert_allclose([[float(p) for p in row[2:]] for row in rows], expected, atol=1e-3)

    def test_regressor_in_and_out(self, tmp_path, capsys):
        hf, hf_folder = self.family.hf_model(self.family.prefix + 'ForSequenceClassification', tmp_path, num_labels=1,
                                             problem_type='regression')
        folder = import_hf(hf_folder, tmp_path / 'gluon')
        model, _ = get_model(str(folder))
        scores = model(*self.family.gluon_inputs()).asnumpy()
        expected = self.family.torch_outputs(hf).logits.numpy()[:, 0]
        assert scores.shape == (len(IDS),) and max_error(scores, expected) < TOLERANCE
        code, printed, err = run_cli(capsys, 'predict', '--model', folder, REVIEWS[0])
        assert code == 0, err
        header, rows = predicted_rows(printed)
        expected_score = self.transformers_logits(hf, load_tokenizer(str(folder)), REVIEWS[:1])[0, 0]
        assert header == ['text', 'score'] and float(rows[0][1]) == pytest.approx(float(expected_score), abs=1e-3)
        back = export_hf(folder, tmp_path / 'back')
        assert same_tensors(hf_folder, back, **self.family.export_rules)
        again = self.transformers_class('ForSequenceClassification').from_pretrained(back).eval()
        assert again.config.num_labels == 1
        assert max_error(self.family.torch_outputs(again).logits.numpy()[:, 0], expected) < 1e-6

    # ----- 2. the blocks return what the family declares ---------------------------------------------------------
    def test_imported_blocks_return_the_outputs_they_declare(self, base, classifier):
        sizes = {BATCH: IDS.shape[0], SEQUENCE: IDS.shape[1]}
        hidden = base.expected.shape[-1]  # transformers' hidden size
        for model, first_output in ((base.model, ('sequence_output', (BATCH, SEQUENCE, hidden))),
                                    (classifier.model, ('logits', (BATCH, 3)))):
            declared = outputs_of(model)
            assert (declared[0].name, declared[0].axes) == first_output
            assert len({output.name for output in declared}) == len(declared)
            returned = flat(model(*self.family.gluon_inputs()))
            assert [tuple(output.shape) for output in returned] == \
                [tuple(sizes.get(axis, axis) for axis in output.axes) for output in declared]

    # ----- 3. ONNX ----------------------------------------------------------------------------------------------
    def test_onnx_export_verifies_and_onnxruntime_computes_mxnet_outputs(self, classifier, tmp_path, capsys):
        path = tmp_path / 'classifier.onnx'
        code, printed, err = run_cli(capsys, 'export-onnx', '--model', classifier.folder, '--out', path, '--verify')
        assert code == 0, err
        assert 'outputs: logits(batch, 3)' in printed and 'all within' in printed
        outputs = InferenceModel(path, threads=1)(IDS, self.family.types(), LENGTHS)
        assert list(outputs) == [output.name for output in outputs_of(classifier.model)] == ['logits']
        assert max_error(outputs['logits'], classifier.model(*self.family.gluon_inputs()).asnumpy()) < TOLERANCE
        assert max_error(outputs['logits'], classifier.expected) < TOLERANCE

    # ----- 4. fine-tuning and predicting ------------------------------------------------------------------------
    def test_fine_tunes_and_predicts_with_the_saved_folder(self, base, tmp_path, capsys):
        from .test_finetune import write_reviews
        train, dev = write_reviews(tmp_path / 'train.tsv'), write_reviews(tmp_path / 'dev.tsv', rows=8, held_out=True)
        settings = FinetuneSettings(task='nsmc', train=str(train), dev=str(dev), model=str(base.folder),
                                    max_seq_length=24, batch_size=8,
                                    training=TrainingConfig(max_steps=3, learning_rate=2e-3, progress=False))
        result = finetune(settings, tmp_path / 'run')
        metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
        assert len(metrics['steps']) == 3 and all(np.isfinite(step[1]) for step in metrics['steps'])
        assert 0.0 <= result.best['value'] <= 1.0  # dev accuracy

        finetuned = FineTunedModel.load(tmp_path / 'run')
        assert finetuned.label_names == ['negative', 'positive']  # nsmc's labels 0 and 1
        probabilities = finetuned.predict(REVIEWS)
        assert probabilities.shape == (len(REVIEWS), 2)
        np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
        code, printed, err = run_cli(capsys, 'predict', '--model', tmp_path / 'run', '--runtime', 'onnxruntime',
                                     *REVIEWS)
        assert code == 0, err
        header, rows = predicted_rows(printed)
        assert header == ['text', 'label', 'p_negative', 'p_positive'] and [row[0] for row in rows] == REVIEWS
        by_onnx = np.array([[float(p) for p in row[2:]] for row in rows])
        np.testing.assert_allclose(by_onnx, probabilities, atol=1e-4)  # the exported graph computes MXNet's
        assert [row[1] for row in rows] == [finetuned.label_names[i] for i in probabilities.argmax(1)]
        # the fine-tuned model exports as transformers' classifier, which computes the same probabilities
        back = export_hf(tmp_path / 'run' / 'best', tmp_path / 'back')
        again = self.transformers_class('ForSequenceClassification').from_pretrained(back)
        np.testing.assert_allclose(softmax(self.transformers_logits(again, finetuned.tokenizer, REVIEWS)),
                                   probabilities, atol=1e-5)
