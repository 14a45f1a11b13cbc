"""Graph surgery on the ONNX model that MXNet's exporter writes: the ``onnx`` protobuf API only, no MXNet.

MXNet 1.9.1's exporter (``mx.onnx.export_model``) produces a correct graph, but not a tidy one:

* every weight is listed twice, as an initializer and as a graph input. Since IR version 4 initializers need
  not be inputs; listing them makes every weight an overridable input, which hides the real inputs from users
  and stops onnxruntime from constant-folding them;
* some converters (LayerNorm, SequenceMask) add constant initializers that no node reads;
* graph inputs and outputs carry MXNet's internal names (``bertmodel0_pooler_tanh_fwd``) and anonymous
  dynamic dimensions;
* integer inputs take a round trip through float (MXNet's embeddings take float indices: int64 -> float32 ->
  int64 -> Gather). Exact in float32, but a runtime computing in bf16 rounds token ids above 256 to their
  neighbours' (OpenVINO at bf16 then looks up the wrong embeddings).

The functions here fix that, each one step, so :mod:`onnx_export` can say in order what it does to a graph.
"""
from typing import Dict, Iterable, Iterator, List, Sequence

from onnx import AttributeProto, GraphProto, TensorProto, ValueInfoProto, helper

__all__ = ['drop_initializer_inputs', 'prune_unused_initializers', 'skip_integer_round_trips', 'rename_values',
           'name_dimensions', 'declare_dimensions', 'reorder_outputs', 'add_graph_input', 'graph_input_names', 'graph_output_names']


def _subgraphs(graph: GraphProto) -> Iterator[GraphProto]:
    """``graph`` and every graph nested in node attributes (If/Loop/Scan bodies), depth first."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == AttributeProto.GRAPH:
                yield from _subgraphs(attribute.g)
            elif attribute.type == AttributeProto.GRAPHS:
                for sub in attribute.graphs:
                    yield from _subgraphs(sub)


def graph_input_names(graph: GraphProto) -> List[str]:
    return [value.name for value in graph.input]


def graph_output_names(graph: GraphProto) -> List[str]:
    return [value.name for value in graph.output]


def drop_initializer_inputs(graph: GraphProto) -> int:
    """Remove graph inputs that are initializers (weights); returns how many were removed."""
    weights = {tensor.name for tensor in graph.initializer}
    real_inputs = [copy_of(value) for value in graph.input if value.name not in weights]
    removed = len(graph.input) - len(real_inputs)
    _refill(graph.input, real_inputs)
    return removed


def prune_unused_initializers(graph: GraphProto) -> int:
    """Remove initializers that no node (in this graph or a nested one) reads and that are not outputs."""
    read = set(graph_output_names(graph))
    for sub in _subgraphs(graph):
        for node in sub.node:
            read.update(node.input)
    unused = [index for index, tensor in enumerate(graph.initializer) if tensor.name not in read]
    # Deleting in place (from the back) avoids copying the weights, which are most of the model's bytes.
    for index in reversed(unused):
        del graph.initializer[index]
    return len(unused)


_INTEGER_TYPES = (TensorProto.INT64, TensorProto.INT32)


def _cast_to(node) -> int:
    return next(attribute.i for attribute in node.attribute if attribute.name == 'to')


def skip_integer_round_trips(graph: GraphProto) -> int:
    """Where an integer graph input is cast to a float and straight back to its own type, read the input itself;
    casts left unread are removed. Returns how many round trips were skipped."""
    input_types = {value.name: value.type.tensor_type.elem_type for value in graph.input}
    producers = {output: node for node in graph.node for output in node.output}
    outputs = set(graph_output_names(graph))
    replace = {}
    for node in graph.node:
        if node.op_type != 'Cast' or node.output[0] in outputs:
            continue
        first = producers.get(node.input[0])
        if first is None or first.op_type != 'Cast' or _cast_to(first) not in (TensorProto.FLOAT, TensorProto.DOUBLE):
            continue
        source_type = input_types.get(first.input[0])
        if source_type in _INTEGER_TYPES and _cast_to(node) == source_type:
            replace[node.output[0]] = first.input[0]
    if not replace:
        return 0
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in replace:
                node.input[index] = replace[name]
    while True:  # drop the casts nobody reads any more: the second ones, then first ones left unread
        read = set(outputs)
        for node in graph.node:
            read.update(node.input)
        unread = [index for index, node in enumerate(graph.node)
                  if node.op_type == 'Cast' and node.output[0] not in read]
        if not unread:
            return len(replace)
        for index in reversed(unread):
            del graph.node[index]


def rename_values(graph: GraphProto, new_names: Dict[str, str]) -> None:
    """Rename values (graph inputs, outputs, node inputs/outputs, initializers) everywhere they occur.

    A name is an edge in ONNX: the producer's output and every consumer's input must change together,
    otherwise the graph falls apart. Nested graphs may read outer values by name, so they are renamed too.
    """
    taken = {value.name for value in graph.input} | {value.name for value in graph.output}
    for sub in _subgraphs(graph):
        taken.update(tensor.name for tensor in sub.initializer)
        for node in sub.node:
            taken.update(node.output)
    clashes = sorted(new for old, new in new_names.items() if new in taken and new not in new_names)
    if clashes:
        raise ValueError('cannot rename to {}: the graph already has values with these names'
                         .format(', '.join(clashes)))

    def renamed(names: Iterable[str]) -> List[str]:
        return [new_names.get(name, name) for name in names]

    for sub in _subgraphs(graph):
        for node in sub.node:
            _refill(node.input, renamed(node.input))
            _refill(node.output, renamed(node.output))
        for value in list(sub.input) + list(sub.output) + list(sub.value_info):
            value.name = new_names.get(value.name, value.name)
        for tensor in sub.initializer:
            tensor.name = new_names.get(tensor.name, tensor.name)


def name_dimensions(value: ValueInfoProto, names: Sequence[str]) -> None:
    """Give the leading dimensions of a tensor symbolic names (``batch``, ``sequence``).

    The exporter leaves dynamic dimensions anonymous. Named dimensions tell users (and tools such as
    Netron or onnxruntime's shape inference) which axes vary and which vary together: every ``sequence``
    dimension is the same length.
    """
    dims = value.type.tensor_type.shape.dim
    if len(names) > len(dims):
        raise ValueError('{} has {} dimensions, cannot name {}'.format(value.name, len(dims), len(names)))
    for dim, name in zip(dims, names):
        if name is not None:
            dim.ClearField('dim_value')
            dim.dim_param = name


def declare_dimensions(value: ValueInfoProto, axes: Sequence) -> None:
    """Declare the whole shape of a tensor: each axis a symbolic name (``batch``, ``sequence``) or a fixed size.

    The exporter's shapes come from one sample batch, so a per-token output of that sample's length looks like a
    fixed size (or a sized one like the batch); the caller knows which axes vary and says so for every axis.
    """
    shape = value.type.tensor_type.shape
    shape.ClearField('dim')
    for axis in axes:
        dim = shape.dim.add()
        if isinstance(axis, str):
            dim.dim_param = axis
        else:
            dim.dim_value = int(axis)


def reorder_outputs(graph: GraphProto, order: Sequence[str]) -> None:
    """Put graph outputs in ``order`` (the exporter sorts a node's outputs by name, not by meaning)."""
    by_name = {value.name: value for value in graph.output}
    missing = [name for name in order if name not in by_name]
    if missing or len(order) != len(by_name):
        raise ValueError('graph outputs are {}, cannot order them as {}'
                         .format(sorted(by_name), list(order)))
    _refill(graph.output, [copy_of(by_name[name]) for name in order])


def add_graph_input(graph: GraphProto, name: str, elem_type=TensorProto.INT64, shape=(None,),
                    position=None) -> ValueInfoProto:
    """Declare a graph input that no node needs to read (for drop-in signature compatibility)."""
    if name in graph_input_names(graph):
        raise ValueError('the graph already has an input named {!r}'.format(name))
    value = helper.make_tensor_value_info(name, elem_type, list(shape))
    inputs = [copy_of(v) for v in graph.input]
    position = len(inputs) if position is None else position
    inputs.insert(position, value)
    _refill(graph.input, inputs)
    return graph.input[position]


def _refill(repeated, items) -> None:
    """Replace the contents of a protobuf repeated field (they support neither slice assignment nor sort)."""
    del repeated[:]
    repeated.extend(items)


def copy_of(value: ValueInfoProto) -> ValueInfoProto:
    copy = ValueInfoProto()
    copy.CopyFrom(value)
    return copy
