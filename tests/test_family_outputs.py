"""Every registered family's declared outputs (its architecture's ``BlockOutputs``) against what its blocks return,
for the backbone and every head, and the ONNX export declaring exactly those."""
import mxnet as mx
import onnx
import pytest

from kobert_gluon import export_onnx
from kobert_gluon.core.outputs import BATCH, MASKED, SEQUENCE, outputs_of
from kobert_gluon.models.family_registry import get_family, model_families
from kobert_gluon.models.building import backbone_heads, initialize_random
from kobert_gluon.tasks import structures  # noqa: F401  (every task kind, multi-label's included)
from kobert_gluon.tasks.kinds import get_task_kind, task_kinds

from .family_tests import flat

FAMILIES = [family.name for family in model_families()]
BATCH_SIZE, LENGTH, MASKED_COUNT = 2, 5, 3  # none of them a fixed size of a tiny model's outputs
TINY = dict(vocab_size=120, num_layers=1, units=16, hidden_size=32, num_heads=2, max_length=40)


def _tiny(name, **heads):
    architecture = get_family(name).architecture
    config = architecture.config_class().replace(**TINY)
    model = architecture.build(config, **architecture.take_heads(dict(heads)))
    initialize_random(model, mx.cpu(), seed=0)
    return model


def _returned_shapes(model, masked):
    ids = mx.nd.full((BATCH_SIZE, LENGTH), 5)
    extra = (mx.nd.array([[1, 2, 3]] * BATCH_SIZE),) if masked else ()
    outputs = model(ids, mx.nd.zeros((BATCH_SIZE, LENGTH)), mx.nd.array([LENGTH, 2]), *extra)
    return [tuple(output.shape) for output in flat(outputs)]


def _expected_shape(output):
    sizes = {BATCH: BATCH_SIZE, SEQUENCE: LENGTH, MASKED: MASKED_COUNT}
    return tuple(sizes.get(axis, axis) for axis in output.axes)


def _every_head(name):
    return {head: True for head in get_family(name).architecture.optional_heads}


@pytest.mark.parametrize('name', FAMILIES)
@pytest.mark.parametrize('heads', ['every head', 'backbone with pooler', 'backbone without pooler'])
def test_a_family_block_returns_the_outputs_its_architecture_declares(name, heads):
    chosen = {'every head': _every_head(name), 'backbone with pooler': backbone_heads(True),
              'backbone without pooler': backbone_heads(False)}[heads]
    model = _tiny(name, **chosen)
    declared = outputs_of(model)
    assert [output.name for output in declared] == list(dict.fromkeys(output.name for output in declared))
    assert declared[0].name == 'sequence_output'
    if heads == 'every head':  # one output per optional head, after the sequence output
        assert len(declared) == 1 + len(get_family(name).architecture.optional_heads)
    masked = any(MASKED in output.axes for output in declared)
    assert _returned_shapes(model, masked) == [_expected_shape(output) for output in declared]


@pytest.mark.parametrize('name', FAMILIES)
def test_every_layer_is_declared_when_a_block_returns_every_encoding(name):
    architecture = get_family(name).architecture
    config = architecture.config_class().replace(**dict(TINY, num_layers=2))
    model = architecture.build(config, output_all_encodings=True, **architecture.take_heads(backbone_heads(True)))
    initialize_random(model, mx.cpu(), seed=0)
    declared = outputs_of(model)
    assert [output.name for output in declared] == ['encoder_layer_1', 'encoder_layer_2', 'pooled_output']
    assert _returned_shapes(model, masked=False) == [_expected_shape(output) for output in declared]


@pytest.mark.parametrize('name', FAMILIES)
@pytest.mark.parametrize('task', task_kinds())
def test_a_task_head_on_every_family_returns_its_declared_output(name, task):
    kind = get_task_kind(task)
    backbone = _tiny(name, **backbone_heads(kind.uses_pooler))
    head = kind.build_head(backbone, ['a', 'b', 'c'], 0.1)
    head.initialize(mx.init.Normal(0.02), force_reinit=False)
    initialize_random(head, mx.cpu(), seed=0)
    (declared,) = outputs_of(head)
    assert declared.name == head.output_name
    assert _returned_shapes(head, masked=False) == [_expected_shape(declared)]


def _declared_in_file(path):
    return [(value.name, tuple(dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim))
            for value in onnx.load(str(path)).graph.output]


@pytest.mark.parametrize('name', FAMILIES)
def test_the_onnx_export_declares_exactly_the_family_outputs(tmp_path, name):
    # every head that needs no input beyond the export's (the masked-LM decoder reads masked positions)
    exportable = {head for head, output in get_family(name).architecture.outputs.heads if output.follows_inputs}
    model = _tiny(name, **{head: head in exportable for head in _every_head(name)})
    path = export_onnx(model, tmp_path / 'model.onnx')
    assert _declared_in_file(path) == [(output.name, output.axes) for output in outputs_of(model)]
    kind = get_task_kind('token_classification')
    head = kind.build_head(_tiny(name, **backbone_heads(kind.uses_pooler)), ['O', 'B-X', 'I-X'], 0.1)
    head.initialize(mx.init.Normal(0.02), force_reinit=False)
    initialize_random(head, mx.cpu(), seed=0)
    path = export_onnx(head, tmp_path / 'head.onnx')
    assert _declared_in_file(path) == [('token_logits', (BATCH, SEQUENCE, 3))]


def test_a_family_that_declares_no_outputs_is_refused():
    architecture = get_family('bert').architecture
    with pytest.raises(TypeError, match="architecture 'made-up' must declare its outputs"):
        type(architecture)('made-up', architecture.config_class, architecture.build, architecture.shape_fields,
                           architecture.optional_heads)
