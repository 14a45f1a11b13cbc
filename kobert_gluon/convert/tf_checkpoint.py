"""TensorFlow checkpoints read without TensorFlow: the tensor bundle (``model.ckpt.index`` and
``model.ckpt.data-00000-of-00001``) that ``tf.compat.v1.train.Saver`` and ``tf.train.Checkpoint`` write, as Google's
BERT code and the original ELECTRA code save their models.

The ``.index`` file is a LevelDB-style sorted table: data blocks of prefix-compressed ``key -> value`` entries, an
index block pointing at them, and a 48-byte footer ending in the table magic. Its values are ``BundleEntryProto``
messages (dtype, shape, shard, offset, size) under each variable's name, and a ``BundleHeaderProto`` under the
empty key (how many data shards there are). A tensor's bytes are little-endian, at ``offset`` in its shard's data
file. The tests read checkpoints that TensorFlow itself wrote and compare them with what transformers' own
TensorFlow loader made of the same files.
"""
import struct
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..core.errors import InputError

__all__ = ['read_tf_checkpoint', 'checkpoint_prefix']

_TABLE_MAGIC = 0xdb4775248b80fb57
_FOOTER_SIZE = 48
_BLOCK_TRAILER = 5  # compression type byte + crc32c
# TensorFlow's DataType enum -> numpy (strings and resources are not weights)
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
           10: np.bool_, 19: np.float16}
_BFLOAT16 = 14


def _varint(data: bytes, position: int) -> Tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data):
            raise ValueError('a varint runs past the end')
        byte = data[position]
        position += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(message: bytes) -> Iterator[Tuple[int, int, object]]:
    """``(field number, wire type, value)`` of a protobuf message (varints as ints, length-delimited as bytes)."""
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(message, position)
        elif wire == 1:
            value, position = message[position:position + 8], position + 8
        elif wire == 2:
            length, position = _varint(message, position)
            value, position = message[position:position + length], position + length
        elif wire == 5:
            value, position = message[position:position + 4], position + 4
        else:
            raise ValueError('wire type {} is not used by checkpoint indexes'.format(wire))
        yield number, wire, value


def _block(data: bytes, offset: int, size: int, path) -> List[Tuple[bytes, bytes]]:
    """The ``(key, value)`` entries of the block at ``offset``."""
    if offset + size + _BLOCK_TRAILER > len(data):
        raise ValueError('a block runs past the end of the file')
    if data[offset + size] != 0:
        raise InputError('{}: a compressed index block (type {}); save the checkpoint again with TensorFlow\'s '
                         'defaults'.format(path, data[offset + size]))
    block = data[offset:offset + size]
    restarts = struct.unpack_from('<I', block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    entries, key, position = [], b'', 0
    while position < end:
        shared, position = _varint(block, position)
        unshared, position = _varint(block, position)
        length, position = _varint(block, position)
        key = key[:shared] + block[position:position + unshared]
        position += unshared
        entries.append((key, block[position:position + length]))
        position += length
    return entries


def _table(path: Path) -> List[Tuple[bytes, bytes]]:
    data = path.read_bytes()
    if len(data) < _FOOTER_SIZE or struct.unpack_from('<Q', data, len(data) - 8)[0] != _TABLE_MAGIC:
        raise InputError('{}: not a TensorFlow checkpoint index (no table footer)'.format(path))
    footer = data[len(data) - _FOOTER_SIZE:]
    _, position = _varint(footer, 0)  # the meta-index block (unused by checkpoints)
    _, position = _varint(footer, position)
    index_offset, position = _varint(footer, position)
    index_size, _ = _varint(footer, position)
    entries = []
    for _, handle in _block(data, index_offset, index_size, path):
        offset, position = _varint(handle, 0)
        size, _ = _varint(handle, position)
        entries.extend(_block(data, offset, size, path))
    return entries


def _entry(value: bytes):
    """``(dtype, shape, shard, offset, size, sliced)`` of a BundleEntryProto."""
    dtype, shape, shard, offset, size, sliced = 0, [], 0, 0, 0, False
    for number, _, field in _fields(value):
        if number == 1:
            dtype = field
        elif number == 2:
            for dim_number, _, dim in _fields(field):
                if dim_number == 2:
                    shape.append(next((v for n, _, v in _fields(dim) if n == 1), 0))
        elif number == 3:
            shard = field
        elif number == 4:
            offset = field
        elif number == 5:
            size = field
        elif number == 7:
            sliced = True
    return dtype, shape, shard, offset, size, sliced


def checkpoint_prefix(path) -> Path:
    """The checkpoint prefix ``path`` names: the prefix itself (``model.ckpt``), its ``.index`` file, or a folder
    with a ``checkpoint`` file naming the latest one (as TensorFlow writes it)."""
    path = Path(str(path))
    if path.name.endswith('.index'):
        path = path.with_name(path.name[:-len('.index')])
    if path.is_dir():
        state = path / 'checkpoint'
        if not state.is_file():
            raise InputError('{}: a folder without a TensorFlow "checkpoint" file; give the checkpoint prefix '
                             '(PATH/model.ckpt, the name before .index)'.format(path))
        latest = next((line.split(':', 1)[1].strip().strip('"') for line in state.read_text().splitlines()
                       if line.startswith('model_checkpoint_path:')), None)
        if not latest:
            raise InputError('{}: names no model_checkpoint_path'.format(state))
        named = Path(latest) if Path(latest).is_absolute() else path / latest
        # TensorFlow writes the absolute path of where it saved: a copied or moved folder keeps the files beside
        named_index = named.with_name(named.name + '.index')
        path = named if named_index.is_file() else path / named.name
    if not path.with_name(path.name + '.index').is_file():
        raise FileNotFoundError('{}.index: no such TensorFlow checkpoint (give the prefix, PATH/model.ckpt)'
                                .format(path))
    return path


def read_tf_checkpoint(path, keep: Optional[Callable[[str], bool]] = None) -> Dict[str, np.ndarray]:
    """Every variable of the TensorFlow checkpoint ``path`` (see :func:`checkpoint_prefix`) as a numpy array, by its
    TensorFlow name; bfloat16 is read as float32. Strings, resources and partitioned variables are not weights and are
    left out, and so is every variable whose name ``keep`` refuses (a training checkpoint's optimizer slots are
    twice the model: import-tf reads only the weights). A damaged index or a data file shorter than its index says is
    an :class:`InputError`."""
    prefix = checkpoint_prefix(path)
    index = prefix.with_name(prefix.name + '.index')
    try:
        entries = _table(index)
    except (ValueError, struct.error, IndexError) as err:
        raise InputError('{}: damaged TensorFlow checkpoint index ({})'.format(index, err)) from None
    shards = 1
    for key, value in entries:
        if key == b'':
            shards = next((v for n, _, v in _fields(value) if n == 1), 1)
    files, tensors = {}, {}
    try:
        for key, value in entries:
            if key == b'':
                continue
            dtype, shape, shard, offset, size, sliced = _entry(value)
            if sliced or (dtype not in _DTYPES and dtype != _BFLOAT16) or \
                    (keep is not None and not keep(key.decode('utf-8'))):
                continue
            if shard not in files:  # each tensor is read where it lies: a shard is never held whole in memory
                data_path = prefix.with_name('{}.data-{:05d}-of-{:05d}'.format(prefix.name, shard, shards))
                if not data_path.is_file():
                    raise FileNotFoundError('{}: missing, the checkpoint index names it'.format(data_path))
                files[shard] = open(data_path, 'rb')
            count = int(np.prod(shape)) if shape else 1
            itemsize = 2 if dtype == _BFLOAT16 else np.dtype(_DTYPES[dtype]).itemsize
            files[shard].seek(offset)
            raw = files[shard].read(size)
            if size != count * itemsize or len(raw) != size:
                raise InputError('{}: {} is cut short or its size does not match its shape {}'.format(
                    prefix, key.decode('utf-8', 'replace'), shape))
            tensors[key.decode('utf-8')] = _array(raw, dtype, shape)
    finally:
        for handle in files.values():
            handle.close()
    if not tensors:
        raise InputError('{}: the checkpoint holds no weights'.format(prefix))
    return tensors


def _array(raw: bytes, dtype: int, shape) -> np.ndarray:
    """A tensor's little-endian bytes as a numpy array of ``shape`` (bfloat16 widened to float32)."""
    if dtype == _BFLOAT16:
        array = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype]).newbyteorder('<')).astype(_DTYPES[dtype])
    return array.reshape(shape).copy()
