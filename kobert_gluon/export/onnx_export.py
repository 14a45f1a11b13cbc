"""ONNX export: a KoBERT model (or a fine-tuned task head) to one ``.onnx`` file that onnxruntime runs.

Two input signatures are offered:

``'bert'`` (default)
    ``input_ids``, ``token_type_ids`` (int64, batch x sequence) and ``valid_length`` (int64, batch), the
    same three inputs the Gluon model takes. Outputs, as the model declares them (a family's backbone and heads
    in its architecture's ``BlockOutputs``, a task head its own ``kobert_outputs``): ``sequence_output`` (or ``encoder_layer_1`` ... ``encoder_layer_N`` with
    ``all_layers=True``), then one per head it was built with: ``pooled_output``, ``next_sentence_logits``
    (batch x 2), ``replaced_token_logits`` (an ELECTRA discriminator: batch x sequence); for a task head, its
    ``output_name``: ``logits`` (classifier), ``score`` (regressor), ``token_logits`` (token classifier, batch x
    sequence x labels), ``span_logits`` (answer spans, batch x sequence x 2). Every output's shape is declared
    with the symbolic axes ``batch`` and ``sequence`` where it follows them, and its fixed sizes, as declared.
``'kobert-original'``
    A drop-in for the ONNX file of the original KoBERT project: ``input_ids``, ``token_type_ids``,
    ``input_mask`` (int64, batch x sequence) and ``position_ids`` (int64, sequence); outputs ordered so that
    ``outputs[-2]`` is the last encoder layer and ``outputs[-1]`` the pooled output.

The graph comes from MXNet's own exporter (``mx.onnx.export_model``) at opset 13, then is tidied with the
``onnx`` API (:mod:`onnx_graph`), checked with ``onnx.checker`` and written atomically.
"""
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import warnings
from pathlib import Path
from typing import List, Sequence

import numpy as np

from ..core.errors import InputError, KobertGluonError
from ..core.environment import lend_onnx_to_mxnet, version_tuple as _version_tuple
from ..core.atomic_files import temporary_sibling
from ..core.mxnet_stack import mx, gluon
from ..core.output_files import OutputKind, check_output_file
from ..core.outputs import OutputSpec, outputs_of
from ..core.owned_folders import check_outside_owned_folders

__all__ = ['OnnxExportError', 'SIGNATURES', 'OPSET', 'OriginalKoBERTSignature', 'export_onnx', 'OutputSpec',
           'onnx_input_names', 'onnx_output_names', 'onnx_outputs', 'require_onnx',
           'require_onnxruntime', 'weights_checksum', 'with_all_encodings', 'finish_initialisation', 'ONNX_EXPORT']

OPSET = 13
SIGNATURES = ('bert', 'kobert-original')
BERT_INPUTS = ('input_ids', 'token_type_ids', 'valid_length')
ORIGINAL_INPUTS = ('input_ids', 'token_type_ids', 'input_mask', 'position_ids')
# onnx 1.19 removed onnx.mapping (deprecated since 1.16), which MXNet 1.9.1's exporter imports; opset 13 arrived
# in onnx 1.8. onnxruntime.quantization needs onnx >= 1.16.
MIN_ONNX, FIRST_ONNX_WITHOUT_MAPPING = (1, 8), (1, 19)
# IR version 7 is what opset 13 needs; onnxruntime reads it from 1.6 on, 1.8 is the oldest we accept.
IR_VERSION = 7
MIN_ONNXRUNTIME = (1, 8)
TESTED_VERSIONS = 'onnx==1.18.0 and onnxruntime==1.31.1'
METADATA_SIGNATURE = 'kobert_gluon.signature'

_INPUT_DIMS = {'input_ids': ('batch', 'sequence'), 'token_type_ids': ('batch', 'sequence'),
               'input_mask': ('batch', 'sequence'), 'valid_length': ('batch',), 'position_ids': ('sequence',)}


class OnnxExportError(KobertGluonError, RuntimeError):
    """An export, verification or dependency problem, worded as what went wrong and what to do."""


def require_onnx():
    """The ``onnx`` module, if it is a version MXNet 1.9.1's exporter works with; else :class:`OnnxExportError`."""
    try:
        import onnx
    except ImportError as err:
        raise OnnxExportError('ONNX export needs the onnx package, which is not installed ({}); run: '
                              'pip install "onnx==1.18.0"'.format(err)) from err
    version = _version_tuple(getattr(onnx, '__version__', '0'))
    if version < MIN_ONNX:
        raise OnnxExportError('onnx {} is too old: opset {} needs onnx >= 1.8; run: pip install "onnx==1.18.0"'
                              .format(onnx.__version__, OPSET))
    if version >= FIRST_ONNX_WITHOUT_MAPPING or importlib.util.find_spec('onnx.mapping') is None:
        raise OnnxExportError('onnx {} has no onnx.mapping module, which the MXNet 1.9.1 ONNX exporter imports; '
                              'install onnx < 1.19: pip install "onnx==1.18.0" (tested with {})'
                              .format(onnx.__version__, TESTED_VERSIONS))
    lend_onnx_to_mxnet()  # kobert_gluon imported mxnet with onnx hidden (light import)
    return onnx


def require_onnxruntime():
    """The ``onnxruntime`` module if it can run the exported graphs; else :class:`OnnxExportError`."""
    try:
        import onnxruntime
    except ImportError as err:
        raise OnnxExportError('running or verifying an ONNX export needs onnxruntime, which is not installed '
                              '({}); run: pip install onnxruntime'.format(err)) from err
    if _version_tuple(getattr(onnxruntime, '__version__', '0')) < MIN_ONNXRUNTIME:
        raise OnnxExportError('onnxruntime {} is too old to run opset-{} graphs reliably; need >= {}.{} '
                              '(tested with {}): pip install -U onnxruntime'
                              .format(onnxruntime.__version__, OPSET, *MIN_ONNXRUNTIME, TESTED_VERSIONS))
    return onnxruntime


# --- what goes in and comes out ------------------------------------------------------------------------------

def is_task_head(model) -> bool:
    """A head of :mod:`kobert_gluon.heads` over a backbone (it names its output and describes itself)."""
    return hasattr(model, 'task_config') and hasattr(model, 'bert') and hasattr(model, 'output_name')


def bert_of(model):
    return model.bert if is_task_head(model) else model


def onnx_input_names(signature: str = 'bert') -> Sequence[str]:
    if signature not in SIGNATURES:
        raise InputError('unknown ONNX signature {!r}; choose one of {}'.format(signature, ', '.join(SIGNATURES)))
    return ORIGINAL_INPUTS if signature == 'kobert-original' else BERT_INPUTS


# Outputs of the ``'bert'`` signature that the ``'kobert-original'`` one leaves out (the original file had none).
_BERT_SIGNATURE_ONLY = ('next_sentence_logits', 'replaced_token_logits')


def onnx_outputs(model, signature: str = 'bert') -> List[OutputSpec]:
    """The outputs of the export of ``model``, in the order the model (or signature wrapper) returns them, as the
    model declares them (a task head's ``kobert_outputs``; a backbone's, as its family's builder described it)."""
    onnx_input_names(signature)  # validates the signature
    outputs = list(outputs_of(model))
    if is_task_head(model) and signature != 'bert':
        raise OnnxExportError("the 'kobert-original' signature is for the KoBERT encoder itself; export a "
                              "task head with signature='bert'")
    beyond_inputs = [output.name for output in outputs if not output.follows_inputs]
    if beyond_inputs:
        raise OnnxExportError('this model returns {}, which needs masked_positions and is only used in pretraining; '
                              'load it with use_decoder=False (and use_classifier=False) to export the encoder'
                              .format(', '.join(beyond_inputs)))
    if signature == 'kobert-original':
        if 'pooled_output' not in [output.name for output in outputs]:
            raise OnnxExportError("the 'kobert-original' signature returns the pooled output; load the model with "
                                  "use_pooler=True")
        outputs = [output for output in outputs if output.name not in _BERT_SIGNATURE_ONLY]
    return outputs


def onnx_output_names(model, signature: str = 'bert') -> List[str]:
    """Output names of the export of ``model``, in the order the model (or signature wrapper) returns them."""
    return [output.name for output in onnx_outputs(model, signature)]


class _IntegerInputs(gluon.HybridBlock):
    """The ``'bert'`` signature: int64 inputs, cast to the float32 that Gluon's BERT embeds.

    Integer ids are what every ONNX caller has; casting inside the graph keeps that promise without changing
    the model, whose Embedding layers take float32 indices in MXNet.
    """

    def __init__(self, model, prefix=None):
        super().__init__(prefix=prefix)
        self.model = model

    def hybrid_forward(self, F, input_ids, token_type_ids, valid_length):  # pylint: disable=arguments-differ
        return self.model(F.cast(input_ids, 'float32'), F.cast(token_type_ids, 'float32'),
                          F.cast(valid_length, 'float32'))


class OriginalKoBERTSignature(gluon.HybridBlock):
    """The original KoBERT ONNX signature around a BERTModel with pooler: ``(ids, types, mask, positions)``.

    The valid length is the number of ones in ``input_mask``, so masks must be right-padded (ones, then
    zeros), as the KoBERT tokenizer produces them. ``position_ids`` is accepted for compatibility but not
    read: GluonNLP's BERT encoder always uses positions ``0 .. L-1``, which is also what the original README
    passes (``np.array(range(L))``). Returns ``(*sequence outputs, pooled_output)``.
    """

    def __init__(self, bert, prefix=None):
        super().__init__(prefix=prefix)
        if 'pooled_output' not in [output.name for output in outputs_of(bert)]:
            raise OnnxExportError('the original KoBERT signature wraps a backbone built with use_pooler=True')
        self.bert = bert

    def hybrid_forward(self, F, input_ids, token_type_ids, input_mask, position_ids=None):
        # pylint: disable=arguments-differ,unused-argument
        valid_length = F.sum(F.cast(input_mask, 'float32'), axis=1)
        outputs = self.bert(F.cast(input_ids, 'float32'), F.cast(token_type_ids, 'float32'), valid_length)
        sequence, pooled = outputs[0], outputs[1]  # drops a next-sentence output: outputs[-1] must be pooled
        if isinstance(sequence, (list, tuple)):
            return tuple(sequence) + (pooled,)
        return sequence, pooled


def _sample_inputs(signature: str, ctx=None) -> List[mx.nd.NDArray]:
    """A two-token batch: enough to finish deferred initialisation and learn the rank of every output."""
    ctx = ctx or mx.cpu()
    ids = mx.nd.array([[2, 3]], dtype='int64', ctx=ctx)  # [CLS] [SEP]
    types = mx.nd.zeros((1, 2), dtype='int64', ctx=ctx)
    if signature == 'kobert-original':
        return [ids, types, mx.nd.ones((1, 2), dtype='int64', ctx=ctx), mx.nd.array([0, 1], dtype='int64', ctx=ctx)]
    return [ids, types, mx.nd.array([2], dtype='int64', ctx=ctx)]


def _float_samples(ctx=None) -> List[mx.nd.NDArray]:
    """The ``'bert'`` sample batch as the float32 arrays a Gluon BERTModel takes."""
    return [x.astype('float32') for x in _sample_inputs('bert', ctx)]


def flatten_outputs(outputs) -> list:
    if isinstance(outputs, (list, tuple)):
        return [leaf for item in outputs for leaf in flatten_outputs(item)]
    return [outputs]


# --- parameters ----------------------------------------------------------------------------------------------

def _check_initialised(model) -> bool:
    """Raise when parameters were never initialised; True when some wait for a forward pass (deferred)."""
    missing, deferred = [], False
    for name, param in model.collect_params().items():
        try:
            param.list_data()
        except gluon.parameter.DeferredInitializationError:
            deferred = True
        except RuntimeError:
            missing.append(name)
    if missing:
        raise OnnxExportError('cannot export: {} of the model\'s parameters are not initialised (first: {}); load '
                              'weights first (kobert_gluon.get_model(...), model.load_parameters(...)) or call '
                              'model.initialize()'.format(len(missing), missing[0]))
    return deferred


def finish_initialisation(model) -> None:
    """Raise for uninitialised parameters; run the sample batch through ``model`` if shapes are deferred."""
    if _check_initialised(model):
        model(*_float_samples(context_of(model)))


def context_of(model):
    return next(iter(model.collect_params().values())).list_ctx()[0]


def with_all_encodings(bert):
    """A model of ``bert``'s architecture that returns every encoder layer and shares nothing but copies of
    ``bert``'s weights."""
    from ..models.building import architecture_for_config
    if getattr(bert, 'kobert_all_layers', False):
        return bert
    config = getattr(bert, 'kobert_config', None)
    if config is None:
        raise OnnxExportError('all_layers needs a model built by kobert_gluon (it carries its config); build '
                              'yours with kobert_gluon.build_bert(config, output_all_encodings=True) instead')
    finish_initialisation(bert)
    ctx = context_of(bert)
    heads = dict(getattr(bert, 'kobert_heads', {}))
    every_layer = architecture_for_config(config).build(config, output_all_encodings=True, **heads)
    every_layer.kobert_all_layers = True  # what this block returns, for the next caller (verify_onnx)
    every_layer.initialize(ctx=ctx)
    finish_initialisation(every_layer)
    source = bert._collect_params_with_prefix()
    for name, param in every_layer._collect_params_with_prefix().items():
        param.set_data(source[name].data(ctx))  # same block structure, so the same structural names
    return every_layer


def weights_checksum(model) -> str:
    """md5 of a model's architecture and weights; independent of Gluon's instance prefixes (``bertmodel3_``)."""
    digest = hashlib.md5()
    config = getattr(bert_of(model), 'kobert_config', None)
    digest.update(json.dumps(config.to_dict() if config else None, sort_keys=True).encode())
    digest.update(type(model).__name__.encode())
    finish_initialisation(model)
    for name, param in sorted(model._collect_params_with_prefix().items()):
        data = param.list_data()[0].asnumpy()
        digest.update('{}:{}:{}'.format(name, data.dtype, data.shape).encode())
        digest.update(np.ascontiguousarray(data).tobytes())
    return digest.hexdigest()


# --- files ---------------------------------------------------------------------------------------------------

PRODUCER = 'kobert-gluon'


def _is_onnx_export(path: Path) -> bool:
    """Whether ``path`` is an ONNX model this package exported: its ``ModelProto.producer_name`` (field 2, which
    protobuf writes right after ``ir_version``, field 1: fields go in number order) is ``kobert-gluon``. Reads the
    first bytes only, and needs no ``onnx``."""
    try:
        with open(path, 'rb') as stream:
            head = stream.read(64)
    except OSError:
        return False

    def varint(pos):
        value = shift = 0
        while pos < len(head):
            byte, pos = head[pos], pos + 1
            value |= (byte & 0x7f) << shift
            shift += 7
            if not byte & 0x80:
                return value, pos
        return None, pos

    pos = 0
    while pos < len(head):
        key, pos = varint(pos)
        if key == (1 << 3):  # ir_version, a varint
            value, pos = varint(pos)
            if value is None:
                return False
        elif key == (2 << 3) | 2:  # producer_name, length-delimited
            length, pos = varint(pos)
            return length is not None and head[pos:pos + length] == PRODUCER.encode('ascii')
        else:
            return False
    return False


# What export-onnx writes: ``--overwrite`` replaces only an ONNX file of this package's (never a user's other file)
ONNX_EXPORT = OutputKind('an ONNX export', _is_onnx_export)


def _check_destination(path: Path, overwrite: bool, inputs=()) -> None:
    """Fail before the (slow) export if the file cannot be written or would replace a file it must not."""
    if path.is_dir():
        raise OnnxExportError('{} is a folder; give the path of the file to write, e.g. {}'
                              .format(path, path / 'model.onnx'))
    check_outside_owned_folders(path, 'the ONNX file')  # before a folder is made for it
    if not path.parent.is_dir():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OnnxExportError('cannot write {}: {}; choose a folder you can write to'.format(path, err)) from err
    check_output_file(path, ONNX_EXPORT, overwrite, inputs, what='the ONNX file')
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary_sibling(path):
            pass
    except OSError as err:
        raise OnnxExportError('cannot write {}: {}; choose a folder you can write to'.format(path, err)) from err


@contextlib.contextmanager
def _exporter_at_opset13(onnx):
    """Hold onnx's "newest opset" at 13 while MXNet's exporter runs.

    The exporter emits opset-13 nodes but stamps the model with ``onnx.defs.onnx_opset_version()`` and checks
    the graph with ``onnx.checker.DEFAULT_CONTEXT`` (also the newest opset). With onnx 1.15 (opset 20) the
    checker then rejects the opset-13 ``ReduceMean`` (its ``axes`` became an input in opset 18). Both are
    read at call time, so both are restored afterwards.
    """
    context = onnx.checker.DEFAULT_CONTEXT
    newest, checker_opsets = onnx.defs.onnx_opset_version, dict(context.opset_imports)
    onnx.defs.onnx_opset_version = lambda: OPSET
    context.opset_imports = {'': OPSET}
    try:
        yield
    finally:
        onnx.defs.onnx_opset_version = newest
        context.opset_imports = checker_opsets


def _exporter_output_name(symbol_output: str) -> str:
    """The graph output name MXNet's exporter gives a symbol output (it strips ``_output`` / ``_outputN``)."""
    match = re.match(r'^(.*)_output(\d+)$', symbol_output)
    if match:
        return match.group(1) + match.group(2)
    return symbol_output[:-len('_output')] if symbol_output.endswith('_output') else symbol_output


def _tidy_graph(onnx_model, symbol_outputs: Sequence[str], outputs: Sequence[OutputSpec], signature: str) -> None:
    """Weights stored once, no dead constants, meaningful names and axes, and a stamp saying what this is."""
    from . import onnx_graph  # imports onnx: loaded on export, so `import kobert_gluon` stays light
    graph = onnx_model.graph
    onnx_graph.drop_initializer_inputs(graph)
    onnx_graph.skip_integer_round_trips(graph)
    onnx_graph.prune_unused_initializers(graph)
    exported = [_exporter_output_name(name) for name in symbol_outputs]
    if len(set(exported)) != len(exported) or sorted(exported) != sorted(onnx_graph.graph_output_names(graph)):
        raise OnnxExportError('unexpected outputs from the MXNet exporter: {} for symbol outputs {}'
                              .format(onnx_graph.graph_output_names(graph), list(symbol_outputs)))
    output_names = [output.name for output in outputs]
    onnx_graph.rename_values(graph, dict(zip(exported, output_names)))
    onnx_graph.reorder_outputs(graph, output_names)
    if signature == 'kobert-original':
        # The encoder computes positions itself, so the exporter dropped this unread input; declare it so
        # callers of the original file can keep feeding it.
        onnx_graph.add_graph_input(graph, 'position_ids', shape=('sequence',))
    for value in graph.input:
        onnx_graph.name_dimensions(value, _INPUT_DIMS[value.name])
    for value, output in zip(graph.output, outputs):
        # The axes the model declares (onnx_outputs): the exporter's own shapes only know the sample batch
        onnx_graph.declare_dimensions(value, output.axes)
    onnx_model.ir_version = IR_VERSION  # the exporter stamps onnx's newest IR, which older runtimes refuse
    onnx_model.producer_name = PRODUCER
    from ..core.version import __version__
    onnx_model.producer_version = __version__
    del onnx_model.metadata_props[:]
    entry = onnx_model.metadata_props.add()
    entry.key, entry.value = METADATA_SIGNATURE, signature


def export_onnx(model, path, signature: str = 'bert', all_layers: bool = False, overwrite: bool = False) -> Path:
    """Export ``model`` (a BERTModel without decoder, or a task head) to the ONNX file ``path``.

    Batch and sequence axes are dynamic. ``all_layers=True`` outputs every encoder layer of a BERTModel.
    ``signature='kobert-original'`` gives the drop-in signature of the original KoBERT ONNX file. The file is
    written to a temporary name next to ``path`` and renamed into place only once ``onnx.checker`` passed;
    an existing file is replaced only with ``overwrite=True``. Returns the path written.
    """
    onnx = require_onnx()
    path = Path(path)
    input_names = onnx_input_names(signature)
    if all_layers:
        if is_task_head(model):
            raise OnnxExportError('all_layers=True applies to a BERTModel; a task head outputs only its {}'
                                  .format(onnx_output_names(model)[0]))
        model = with_all_encodings(model)
    outputs = onnx_outputs(model, signature)
    finish_initialisation(model)
    _check_destination(path, overwrite)

    block = OriginalKoBERTSignature(model) if signature == 'kobert-original' else _IntegerInputs(model)
    samples = _sample_inputs(signature, context_of(model))
    symbol = mx.sym.Group(flatten_outputs(block(*[mx.sym.var(name) for name in input_names])))
    graph_inputs = [name for name in symbol.list_inputs() if name in input_names]
    params = {param.name: param.list_data()[0].as_in_context(mx.cpu())
              for param in block.collect_params().values() if param.name in set(symbol.list_inputs())}
    shapes = {name: sample.shape for name, sample in zip(input_names, samples)}

    with temporary_sibling(path) as raw, temporary_sibling(path) as tidy:
        try:
            with _exporter_at_opset13(onnx), warnings.catch_warnings():
                # The exporter uses onnx.mapping, deprecated in onnx 1.14: one warning per converted node.
                warnings.simplefilter('ignore', DeprecationWarning)
                mx.onnx.export_model(symbol, params, in_shapes=[shapes[n] for n in graph_inputs],
                                     in_types=[np.int64] * len(graph_inputs), onnx_file_path=str(raw),
                                     dynamic=True,
                                     dynamic_input_shapes=[(None,) * len(shapes[n]) for n in graph_inputs])
        except Exception as err:  # the exporter raises bare AttributeError/KeyError/checker errors
            raise OnnxExportError('MXNet\'s ONNX exporter failed on this model ({}: {}); export_onnx supports '
                                  'KoBERT BERTModels and the heads in kobert_gluon.heads'
                                  .format(type(err).__name__, err)) from err
        onnx_model = onnx.load(str(raw))
        _tidy_graph(onnx_model, symbol.list_outputs(), outputs, signature)
        try:
            onnx.checker.check_model(onnx_model, full_check=True)
        except onnx.checker.ValidationError as err:
            raise OnnxExportError('the exported graph does not pass onnx.checker ({}); please report this with '
                                  'your onnx and mxnet versions'.format(err)) from err
        try:
            onnx.save_model(onnx_model, str(tidy))
            check_output_file(path, ONNX_EXPORT, overwrite, what='the ONNX file')  # again: the export took a while
            os.replace(tidy, path)
        except OSError as err:
            raise OnnxExportError('cannot write {}: {}; choose a folder you can write to'.format(path, err)) from err
    return path
