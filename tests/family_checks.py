"""What every model family's tests hold against transformers itself, written once.

A family under test is a :class:`Family`: its transformers class prefix, config class and tiny shape (KoBERT's
vocabulary, ``[PAD]`` = 1, so kobert-mini's tokenizer files go along), and whether it reads token types. From it
come the models transformers creates (every tensor random), the batch both frameworks compute on and the
comparisons (:func:`max_error` over the real tokens, tensors bit for bit, parameters bit for bit). The family test
files (tests/test_convert.py for BERT, test_distilbert.py, test_electra.py, test_xlm_roberta.py) declare only what
is their own; tests/test_convert_token_heads.py runs the token and span heads over every family in
:data:`FAMILIES`.

torch and transformers are imported where they are used: a module that imports these helpers skips itself when
they are missing (``pytest.importorskip``), as every parity test file does.
"""
import shutil
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict

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


@pytest.fixture(autouse=True)
def quiet_transformers():
    """transformers' and torch's notes off (a module that imports this fixture gets it for every test)."""
    import transformers
    transformers.logging.set_verbosity_error()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
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


@dataclass(frozen=True)
class Family:
    """A family as its parity tests see it (see the module docstring)."""
    prefix: str  # transformers' class prefix: Bert, DistilBert, Electra
    config_class: str
    small: Dict[str, Any] = field(default_factory=dict)
    token_types: bool = True  # DistilBERT has none (its Gluon model reads zeros)

    def hf_model(self, architecture: str, tmp_path, seed=0, **config):
        """A transformers ``architecture`` (a class name) of the tiny shape with ``config`` changes, every tensor
        random, saved with kobert-mini's tokenizer files; ``(model, folder)``."""
        import transformers
        hf_config = getattr(transformers, self.config_class)(**{**self.small, **config})
        model = perturbed(getattr(transformers, architecture)(hf_config), seed)
        folder = tmp_path / architecture
        model.save_pretrained(folder)
        with_tokenizer_files(folder)
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

    def gluon_inputs(self):
        """The same batch as the Gluon model takes it: ids, token types, valid lengths."""
        return mx.nd.array(IDS), mx.nd.array(TYPES if self.token_types else np.zeros_like(TYPES)), mx.nd.array(LENGTHS)


# The families every parity test covers, in a tiny shape; ELECTRA's embeddings narrower than its encoder, so the
# projection is converted too
BERT = Family('Bert', 'BertConfig', dict(vocab_size=8002, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                                         intermediate_size=96, max_position_embeddings=64, pad_token_id=1))
DISTILBERT = Family('DistilBert', 'DistilBertConfig', dict(vocab_size=8002, dim=48, n_layers=2, n_heads=4,
                                                           hidden_dim=96, max_position_embeddings=64, pad_token_id=1),
                    token_types=False)
ELECTRA = Family('Electra', 'ElectraConfig', dict(vocab_size=8002, embedding_size=24, hidden_size=48,
                                                  num_hidden_layers=2, num_attention_heads=4, intermediate_size=96,
                                                  max_position_embeddings=64, pad_token_id=1))
FAMILIES = {'bert': BERT, 'distilbert': DISTILBERT, 'electra': ELECTRA}


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
