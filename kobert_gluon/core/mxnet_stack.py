"""MXNet and GluonNLP, prepared: the one place the package imports them from.

    from ..core.mxnet_stack import mx, gluon, nn, nlp

Importing this module runs :func:`.environment.prepare` (the numpy check, the one-line errors where no MXNet build
is installed or a CUDA build lacks its libraries, ``OMP_NUM_THREADS``, mxnet imported without onnx and with its
import warnings silenced, gluonnlp's SentencePiece fix) and then binds the prepared libraries:

``mx``        ``mxnet`` (``mx.sym``, ``mx.optimizer``, ``mx.contrib.quantization``, ``mx.onnx``: loaded with mxnet,
              its translators holding onnx only once export lends it, :func:`.environment.lend_onnx_to_mxnet`)
``nd``        ``mxnet.nd``
``gluon``     ``mxnet.gluon`` (``gluon.HybridBlock``, ``gluon.data.DataLoader``, ``gluon.parameter``)
``nn``        ``mxnet.gluon.nn``
``autograd``  ``mxnet.autograd``
``amp``       ``mxnet.contrib.amp`` (``amp.init``, ``amp.lists.symbol_bf16``)
``nlp``       ``gluonnlp`` (``nlp.model.BERTModel``, ``nlp.data.batchify``; importing it registers the ``bertadam``
              optimizer with MXNet)

No other module of the package imports ``mxnet`` or ``gluonnlp`` itself (``tests/test_mxnet_stack.py`` checks every
file), so none can meet them unprepared. ``import kobert_gluon`` imports no module that imports this one.
"""
from . import environment

environment.prepare()

import gluonnlp as nlp  # noqa: E402  (after prepare(), as everything below)
import mxnet as mx  # noqa: E402
from mxnet import autograd, gluon, nd  # noqa: E402
from mxnet.contrib import amp  # noqa: E402
from mxnet.gluon import nn  # noqa: E402

__all__ = ['mx', 'nd', 'gluon', 'nn', 'autograd', 'amp', 'nlp']
