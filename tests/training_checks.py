"""What the training tests compare: two runs of the same training (Horovod ranks, several devices), a run stopped and
resumed against one that was not."""
import json
from pathlib import Path

import numpy as np


def checkpoint_params(folder):
    import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
    import mxnet as mx
    return {name: value.asnumpy() for name, value in mx.nd.load(str(Path(folder) / 'checkpoint' /
                                                                     'params.params')).items()}


def assert_same_training(one, two, atol=1e-4, median=1e-7, rtol=1e-5):
    """Adam divides every gradient by its own running scale, so a component whose gradient is almost 0 turns the
    rounding of a sum in another order into a visible difference: most weights agree to ``median``, all to
    ``atol``; the step losses to ``rtol`` and the gradient norms to ten times that. Returns both metrics.json."""
    a, b = checkpoint_params(one), checkpoint_params(two)
    assert a.keys() == b.keys()
    differences = np.concatenate([np.abs(a[k] - b[k]).ravel() for k in a])
    assert np.median(differences) < median
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=atol, rtol=0, err_msg=name)
    metrics_a = json.loads((Path(one) / 'metrics.json').read_text())
    metrics_b = json.loads((Path(two) / 'metrics.json').read_text())
    assert len(metrics_a['steps']) == len(metrics_b['steps']) > 0
    np.testing.assert_allclose([s[1] for s in metrics_a['steps']], [s[1] for s in metrics_b['steps']], rtol=rtol)
    np.testing.assert_allclose([s[3] for s in metrics_a['steps']], [s[3] for s in metrics_b['steps']], rtol=10 * rtol)
    return metrics_a, metrics_b


def assert_resumed_exactly(full, resumed, steps):
    """A run stopped and resumed (``resumed``: its result) took the uninterrupted run's (``full``) step losses
    (``steps``: its history's) and ended with its model."""
    import kobert_gluon  # noqa: F401  (first: it imports mxnet with mxnet's import warnings silenced)
    import mxnet as mx
    import pytest
    assert [s[1] for s in resumed.history['steps']] == pytest.approx([s[1] for s in steps], rel=1e-5)
    first = mx.nd.load(str(full.model_dir / 'model.params'))
    second = mx.nd.load(str(resumed.model_dir / 'model.params'))
    for name in first:
        np.testing.assert_allclose(first[name].asnumpy(), second[name].asnumpy(), rtol=1e-5, atol=1e-6)
