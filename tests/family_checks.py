"""What every model family's tests hold against transformers itself, written once.

A family under test is a :class:`Family`: its registered name, transformers class prefix, config class and tiny
shape (KoBERT's vocabulary size, ``[PAD]`` = 1), the tokenizer files its checkpoints bring (kobert-mini's, or
XLM-RoBERTa's as transformers saves them), and whether it reads token types. From it come the models transformers
creates (every tensor random), the batch both frameworks compute on and the comparisons (:func:`max_error` over the
real tokens, tensors bit for bit, parameters bit for bit). The tests every family passes are methods of
tests/family_tests.py's ``FamilyTests``; each family's test file (tests/test_convert.py for BERT,
test_distilbert.py, test_electra.py, test_xlm_roberta.py) subclasses it with its :class:`Family` and adds what is
its own; tests/test_convert_token_heads.py runs the token and span heads over every family in :data:`FAMILIES`.

torch and transformers are imported where they are used: a module that imports these helpers skips itself when
they are missing (``pytest.importorskip``), as every parity test file does.
"""
import atexit
import contextlib
import functools
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
import mxnet as mx
import numpy as np
import pytest

from kobert_gluon.models.zoo import model_folder_of
from kobert_gluon.tokenizers.sentencepiece import load_vocab

TOLERANCE = 1e-5
IDS = np.array([[2, 100, 200, 300, 3, 1, 1], [2, 400, 500, 600, 700, 800, 3]])
TYPES = np.array([[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1]])
LENGTHS = np.array([5, 7])
MASKED = np.array([[1, 2], [3, 5]])


@contextlib.contextmanager
def transformers_quiet():
    """transformers' and torch's notes off."""
    import transformers
    transformers.logging.set_verbosity_error()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


@pytest.fixture(autouse=True)
def quiet_transformers():
    """transformers' and torch's notes off (a module that imports this fixture gets it for every test)."""
    with transformers_quiet():
        yield


def perturbed(model, seed=0):
    """Every tensor random (transformers initialises LayerNorms to 1/0 and biases to 0: a swap would not show)."""
    import torch
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    return model.eval()


def with_tokenizer_files(folder):
    """kobert-mini's SentencePiece model and its vocabulary as vocab.txt, as transformers-side KoBERT ships them."""
    mini = model_folder_of('kobert-mini')
    shutil.copyfile(mini / 'tokenizer.model', folder / 'tokenizer.model')
    vocab = load_vocab(mini / 'vocab.json')
    (folder / 'vocab.txt').write_text(''.join(token + '\n' for token in vocab.idx_to_token), encoding='utf-8')
    return vocab


@functools.lru_cache(maxsize=None)
def xlm_roberta_tokenizer():
    """transformers' XLMRobertaTokenizer over kobert-mini's SentencePiece model and the folder its own
    ``save_pretrained`` wrote (once per session); ``(tokenizer, folder)``."""
    import transformers
    source = Path(tempfile.mkdtemp(prefix='xlmr-tokenizer-'))
    atexit.register(shutil.rmtree, str(source), True)
    shutil.copyfile(model_folder_of('kobert-mini') / 'tokenizer.model', source / 'sentencepiece.bpe.model')
    tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(source))
    tokenizer.save_pretrained(str(source / 'saved'))
    return tokenizer, source / 'saved'


def with_xlm_roberta_tokenizer_files(folder):
    """XLM-RoBERTa's tokenizer files, as transformers saves them (kobert-mini's pieces: 8,002 ids)."""
    _, saved = xlm_roberta_tokenizer()
    for path in saved.iterdir():
        shutil.copyfile(path, folder / path.name)


@dataclass(frozen=True)
class Family:
    """A family as its tests see it (see the module docstring). ``name``: its name in the package's family registry
    (tests/test_family_tests.py checks that every registered one has a test class); ``tokenizer_files`` writes the
    tokenizer files its transformers checkpoints bring into a folder; ``buffers``: tensors transformers saves and
    rebuilds itself, which export-hf does not write; ``base_export_subset``: export-hf of an imported base model may
    leave tensors out (an untrained pooler no Gluon block holds)."""
    name: str
    prefix: str  # transformers' class prefix: Bert, DistilBert, Electra, XLMRoberta
    config_class: str
    small: Dict[str, Any] = field(default_factory=dict)
    token_types: bool = True  # DistilBERT and XLM-RoBERTa have none (their Gluon models read zeros)
    tokenizer_files: Callable[[Path], Any] = with_tokenizer_files
    buffers: Tuple[str, ...] = ()
    base_export_subset: bool = False

    @property
    def export_rules(self):
        """:func:`same_tensors`' rules for the export of an imported classifier or regressor."""
        return dict(ignored=self.buffers)

    @property
    def base_export_rules(self):
        """:func:`same_tensors`' rules for the export of an imported base model."""
        return dict(ignored=self.buffers, subset=self.base_export_subset)

    def hf_model(self, architecture: str, tmp_path, seed=0, **config):
        """A transformers ``architecture`` (a class name) of the tiny shape with ``config`` changes, every tensor
        random, saved with kobert-mini's tokenizer files; ``(model, folder)``."""
        import transformers
        hf_config = getattr(transformers, self.config_class)(**{**self.small, **config})
        model = perturbed(getattr(transformers, architecture)(hf_config), seed)
        folder = tmp_path / architecture
        model.save_pretrained(folder)
        self.tokenizer_files(folder)
        return model, folder

    def torch_outputs(self, model):
        """The transformers model's outputs on :data:`IDS` (token types where the family reads them)."""
        import torch
        mask = (np.arange(IDS.shape[1])[None] < LENGTHS[:, None]).astype('int64')
        inputs = dict(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(mask))
        if self.token_types:
            inputs['token_type_ids'] = torch.tensor(TYPES)
        with torch.no_grad():
            return model(**inputs)

    def check_export(self, hf_folder, gluon_folder, architecture: str, tmp_path, expected, output: str = 'logits',
                     **tensor_rules):
        """export-hf of ``gluon_folder`` (imported from ``hf_folder``) writes transformers' tensors back bit for bit
        (``tensor_rules``: :func:`same_tensors`' ``ignored``, ``subset``), and the ``architecture`` transformers loads
        from it computes ``expected`` (``output`` of its outputs) again; returns ``(exported folder, that model)``."""
        import transformers
        from kobert_gluon.convert.huggingface import export_hf
        back = export_hf(gluon_folder, tmp_path / 'back')
        assert same_tensors(hf_folder, back, **tensor_rules)
        again = getattr(transformers, architecture).from_pretrained(back).eval()
        assert max_error(getattr(self.torch_outputs(again), output).numpy(), expected) < 1e-6  # torch's thread order
        return back, again

    def check_base_model(self, tmp_path, capsys, **config):
        """A transformers ``<Family>Model`` imported by the command line: the Gluon backbone computes its last hidden
        states on the real tokens. Returns ``(transformers folder, Gluon folder, transformers' hidden states)``."""
        from kobert_gluon import get_model
        from .conftest import run_cli
        hf, folder = self.hf_model(self.prefix + 'Model', tmp_path, **config)
        code, _, err = run_cli(capsys, 'import-hf', folder, '--out', tmp_path / 'gluon')
        assert code == 0, err
        model, _ = get_model(str(tmp_path / 'gluon'))
        sequence = model(*self.gluon_inputs())
        expected = self.torch_outputs(hf).last_hidden_state.numpy()
        assert max_error(valid(sequence.asnumpy()), valid(expected)) < TOLERANCE
        return folder, tmp_path / 'gluon', expected

    def types(self):
        """The token types of :data:`IDS` this family reads (zeros where it reads none)."""
        return TYPES if self.token_types else np.zeros_like(TYPES)

    def gluon_inputs(self):
        """The same batch as the Gluon model takes it: ids, token types, valid lengths."""
        return mx.nd.array(IDS), mx.nd.array(self.types()), mx.nd.array(LENGTHS)


# The families every parity test covers, in a tiny shape; ELECTRA's embeddings narrower than its encoder, so the
# projection is converted too; XLM-RoBERTa's 66 positions are 64 after its padding index
BERT = Family('bert', 'Bert', 'BertConfig', dict(vocab_size=8002, hidden_size=48, num_hidden_layers=2,
                                                 num_attention_heads=4, intermediate_size=96,
                                                 max_position_embeddings=64, pad_token_id=1))
DISTILBERT = Family('distilbert', 'DistilBert', 'DistilBertConfig',
                    dict(vocab_size=8002, dim=48, n_layers=2, n_heads=4, hidden_dim=96, max_position_embeddings=64,
                         pad_token_id=1),
                    token_types=False)
ELECTRA = Family('electra', 'Electra', 'ElectraConfig', dict(vocab_size=8002, embedding_size=24, hidden_size=48,
                                                             num_hidden_layers=2, num_attention_heads=4,
                                                             intermediate_size=96, max_position_embeddings=64,
                                                             pad_token_id=1))
XLM_ROBERTA = Family('xlm-roberta', 'XLMRoberta', 'XLMRobertaConfig',
                     dict(vocab_size=8002, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=96, max_position_embeddings=66, pad_token_id=1, bos_token_id=0,
                          eos_token_id=2, type_vocab_size=1),
                     token_types=False, tokenizer_files=with_xlm_roberta_tokenizer_files,
                     buffers=('roberta.embeddings.position_ids', 'roberta.embeddings.token_type_ids'),
                     base_export_subset=True)
FAMILIES = {family.name: family for family in (BERT, DISTILBERT, ELECTRA)}  # the token and span heads' families


def valid(sequence, lengths=LENGTHS):
    """The rows of real tokens (padding rows are not compared: neither framework defines them)."""
    return np.concatenate([sequence[i, :n] for i, n in enumerate(lengths)])


def max_error(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def params(folder):
    """A model folder's parameters as numpy arrays by name."""
    return {name: value.asnumpy() for name, value in mx.nd.load(str(folder / 'model.params')).items()}


def same_params(first_folder, second_folder) -> bool:
    first, second = params(first_folder), params(second_folder)
    return first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


def same_tensors(original, exported, ignored=(), subset=False) -> bool:
    """Every tensor export-hf wrote is bit-identical to the one transformers saved under that name, and the names are
    transformers' (less ``ignored``, buffers transformers saves and rebuilds; ``subset``: some may be left out)."""
    from safetensors.numpy import load_file
    first, second = load_file(str(original / 'model.safetensors')), load_file(str(exported / 'model.safetensors'))
    expected = set(first) - set(ignored)
    names_ok = set(second) <= expected if subset else set(second) == expected
    return names_ok and all(np.array_equal(first[name], second[name]) for name in second)
