"""TensorFlow checkpoints read without TensorFlow: the tensor bundle (``model.ckpt.index`` and
``model.ckpt.data-00000-of-00001``) that ``tf.compat.v1.train.Saver`` and ``tf.train.Checkpoint`` write, as Google's
BERT code and the original ELECTRA code save their models. This module owns reading them, and verifying every byte
of them that the format lets a reader verify.

The ``.index`` file is a LevelDB-style sorted table: data blocks of prefix-compressed ``key -> value`` entries, a
meta-index block, an index block pointing at the data blocks, and a 48-byte footer (the two blocks' handles, zero
padding, the table magic). Every block ends in a 5-byte trailer: its compression type and the masked crc32c of its
contents and that type byte. Its values are ``BundleEntryProto`` messages (dtype, shape, shard, offset, size and the
masked crc32c of the tensor's bytes) under each variable's name, and a ``BundleHeaderProto`` under the empty key
(how many data shards there are, their byte order). A tensor's bytes are little-endian, at ``offset`` in its
shard's data file, one after the other (zero padding between them where the writer aligned them).

So a checkpoint is verified whole: every block's checksum, the footer against the handles it decodes to, the blocks
tiling the index file, every tensor's checksum (the optimizer's slots too, which are checked and dropped) and the
tensors tiling each data file. A flipped byte anywhere in either file is an :class:`InputError` naming the file (and
the tensor), never a wrong weight. The tests read checkpoints that TensorFlow itself wrote, compare them with what
transformers' own TensorFlow loader made of the same files, and flip bytes of them.
"""
import os
import struct
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import google_crc32c
import numpy as np

from ..core.errors import InputError

__all__ = ['read_tf_checkpoint', 'checkpoint_prefix', 'masked_crc32c']

_TABLE_MAGIC = 0xdb4775248b80fb57
_FOOTER_SIZE = 48
_HANDLES_SIZE = 40  # the footer's two block handles, zero-padded
_BLOCK_TRAILER = 5  # compression type byte + masked crc32c
_CRC_MASK_DELTA = 0xa282ead8
_CHUNK = 1 << 24  # a tensor's bytes are checksummed in pieces: a skipped optimizer slot is never held whole
# TensorFlow's DataType enum -> numpy (strings and resources are not weights)
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
           10: np.bool_, 19: np.float16}
_BFLOAT16 = 14
_ADVICE = 'copy or download the checkpoint again'


class _Damaged(Exception):
    """A structural fault found while parsing the index (the caller names the file)."""


def _mask(crc: int) -> int:
    """A crc32c masked as LevelDB and TensorFlow store it (rotated right by 15 bits plus a constant, so that a
    checksum over bytes that hold checksums stays strong)."""
    return (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & 0xffffffff


def masked_crc32c(data: bytes) -> int:
    """The masked crc32c of ``data``, as a table block's trailer and a tensor's index entry hold it."""
    return _mask(google_crc32c.value(data))


def _varint(data: bytes, position: int) -> Tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data):
            raise _Damaged('a number runs past the end of its field')
        if shift > 63:
            raise _Damaged('a number longer than 64 bits')
        byte = data[position]
        position += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7f | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# wire type -> how its value is read (0: varint, 1: 8 bytes, 2: length-delimited, 5: 4 bytes)
_FIXED = {1: 8, 5: 4}


def _fields(message: bytes) -> Iterator[Tuple[int, int, object]]:
    """``(field number, wire type, value)`` of a protobuf message (varints as ints, the others as bytes)."""
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(message, position)
        elif wire == 2 or wire in _FIXED:
            length, position = _varint(message, position) if wire == 2 else (_FIXED[wire], position)
            if position + length > len(message):
                raise _Damaged('a field runs past the end of its message')
            value, position = message[position:position + length], position + length
        else:
            raise _Damaged('protobuf wire type {}, which checkpoint indexes do not use'.format(wire))
        yield number, wire, value


def _message(message: bytes, wires: Dict[int, int], repeated=()) -> Dict[int, object]:
    """The fields of ``message`` that ``wires`` names (field number -> its wire type), each checked to have that
    wire type; a ``repeated`` field gives a list. Fields of other numbers are skipped, as protobuf readers do."""
    found = {number: [] for number in repeated}
    for number, wire, value in _fields(message):
        if number not in wires:
            continue
        if wire != wires[number]:
            raise _Damaged('field {} has wire type {}, not {}'.format(number, wire, wires[number]))
        if number in found and number in repeated:
            found[number].append(value)
        else:
            found[number] = value
    return found


class _Handle(NamedTuple):
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size + _BLOCK_TRAILER

    def encoded(self) -> bytes:
        return _encode_varint(self.offset) + _encode_varint(self.size)


def _handle(data: bytes, position: int) -> Tuple[_Handle, int]:
    offset, position = _varint(data, position)
    size, position = _varint(data, position)
    return _Handle(offset, size), position


def _block(data: bytes, handle: _Handle) -> List[Tuple[bytes, bytes]]:
    """The ``(key, value)`` entries of the block ``handle`` points at, its checksum verified first."""
    if handle.end > len(data) - _FOOTER_SIZE:
        raise _Damaged('a block runs past the end of the table')
    contents = data[handle.offset:handle.offset + handle.size + 1]  # with its compression type byte
    stored = struct.unpack_from('<I', data, handle.offset + handle.size + 1)[0]
    if masked_crc32c(contents) != stored:
        raise _Damaged('the block at byte {} fails its checksum'.format(handle.offset))
    if contents[-1] != 0:
        raise InputError('a compressed index block (type {}); save the checkpoint again with TensorFlow\'s '
                         'defaults'.format(contents[-1]))
    block = contents[:-1]
    if len(block) < 4:
        raise _Damaged('a block too short for its restart count')
    restarts = struct.unpack_from('<I', block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise _Damaged('a block\'s restart array is longer than the block')
    entries, key, position = [], b'', 0
    while position < end:
        shared, position = _varint(block, position)
        unshared, position = _varint(block, position)
        length, position = _varint(block, position)
        if shared > len(key) or position + unshared + length > end:
            raise _Damaged('an entry runs past its block')
        key = key[:shared] + block[position:position + unshared]
        position += unshared
        entries.append((key, block[position:position + length]))
        position += length
    return entries


def _table(data: bytes) -> List[Tuple[bytes, bytes]]:
    """Every ``(key, value)`` of the table ``data``, in key order. Every byte is accounted for: the footer must be
    exactly the encoding of the handles it holds, and the data blocks, the meta-index and the index block must
    follow one another from the first byte to the footer."""
    footer = data[len(data) - _FOOTER_SIZE:]
    meta, position = _handle(footer, 0)
    index, position = _handle(footer, position)
    if footer[:_HANDLES_SIZE] != (meta.encoded() + index.encoded()).ljust(_HANDLES_SIZE, b'\0'):
        raise _Damaged('the footer is not the table\'s own')
    _block(data, meta)  # TensorFlow writes it empty; checked like every block
    entries, expected = [], 0
    for separator, value in _block(data, index):
        handle, used = _handle(value, 0)
        if used != len(value) or handle.offset != expected:
            raise _Damaged('the index block does not point at the data blocks one after another')
        block = _block(data, handle)
        if block and block[-1][0] > separator:
            raise _Damaged('the index block\'s keys do not bound its data blocks')
        entries.extend(block)
        expected = handle.end
    if meta.offset != expected or index.offset != meta.end or index.end != len(data) - _FOOTER_SIZE:
        raise _Damaged('the blocks do not fill the table')
    if any(a >= b for (a, _), (b, _) in zip(entries, entries[1:])):
        raise _Damaged('the keys are not in order')
    return entries


class _Entry(NamedTuple):
    name: str
    dtype: int
    shape: Tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int


def _entry(name: str, value: bytes) -> Optional[_Entry]:
    """The ``BundleEntryProto`` ``value`` of variable ``name``; None for a partitioned variable's whole (its slices
    are entries of their own, under binary keys, and hold its bytes)."""
    fields = _message(value, {1: 0, 2: 2, 3: 0, 4: 0, 5: 0, 6: 5, 7: 2}, repeated=(7,))
    if fields[7]:
        return None
    if 6 not in fields:
        raise _Damaged('{} has no checksum'.format(name))
    shape = _message(fields.get(2, b''), {2: 2, 3: 0}, repeated=(2,))
    if shape.get(3):
        raise _Damaged('{} has an unknown rank'.format(name))
    dims = tuple(_message(dim, {1: 0}).get(1, 0) for dim in shape[2])
    if any(size >= 1 << 63 for size in dims):  # a negative int64: unknown, which a saved tensor never has
        raise _Damaged('{} has a negative dimension'.format(name))
    return _Entry(name, fields.get(1, 0), dims, fields.get(3, 0), fields.get(4, 0), fields.get(5, 0),
                  struct.unpack('<I', fields[6])[0])


def _header(entries: List[Tuple[bytes, bytes]]) -> int:
    """The number of data shards the ``BundleHeaderProto`` (under the empty key, so first) names."""
    if not entries or entries[0][0] != b'':
        raise _Damaged('no bundle header')
    header = _message(entries[0][1], {1: 0, 2: 0})
    if header.get(2, 0) != 0:
        raise InputError('a big-endian checkpoint (written on a big-endian machine); save it again on a '
                         'little-endian one')
    shards = header.get(1, 0)
    if not 1 <= shards < 1 << 31:
        raise _Damaged('the header names {} data shards'.format(shards))
    return shards


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
        lines = state.read_bytes().decode('utf-8', 'replace').splitlines()  # a damaged file names no path
        latest = next((line.split(':', 1)[1].strip().strip('"') for line in lines
                       if line.startswith('model_checkpoint_path:')), None)
        if not latest or '\0' in latest:
            raise InputError('{}: names no model_checkpoint_path'.format(state))
        named = Path(latest) if Path(latest).is_absolute() else path / latest
        # TensorFlow writes the absolute path of where it saved: a copied or moved folder keeps the files beside
        named_index = named.with_name(named.name + '.index')
        path = named if named_index.is_file() else path / named.name
    if not path.with_name(path.name + '.index').is_file():
        raise FileNotFoundError('{}.index: no such TensorFlow checkpoint (give the prefix, PATH/model.ckpt)'
                                .format(path))
    return path


def _read_index(index: Path) -> Tuple[int, List[_Entry]]:
    """``(data shards, entries)`` of the index file ``index``: every tensor's entry, weights or not."""
    data = index.read_bytes()
    if len(data) < _FOOTER_SIZE or struct.unpack_from('<Q', data, len(data) - 8)[0] != _TABLE_MAGIC:
        raise InputError('{}: not a TensorFlow checkpoint index (no table footer); {}'.format(index, _ADVICE))
    try:
        table = _table(data)
        shards = _header(table)
        entries = []
        for key, value in table[1:]:
            if key.startswith(b'\0'):  # a slice of a partitioned variable (TensorFlow's binary slice key)
                continue
            try:
                name = key.decode('utf-8')
            except UnicodeDecodeError:
                raise _Damaged('a variable name that is not UTF-8 ({!r})'.format(key[:40])) from None
            entry = _entry(name, value)
            if entry is not None:
                entries.append(entry)
    except _Damaged as err:
        raise InputError('{}: damaged TensorFlow checkpoint index ({}); {}'.format(index, err, _ADVICE)) from None
    except InputError as err:
        raise InputError('{}: {}'.format(index, err)) from None
    if any(entry.shard >= shards for entry in entries):
        raise InputError('{}: damaged TensorFlow checkpoint index (a tensor in a shard past the {} it names); {}'
                         .format(index, shards, _ADVICE))
    return shards, entries


def _is_weight(entry: _Entry, keep) -> bool:
    return (entry.dtype in _DTYPES or entry.dtype == _BFLOAT16) and (keep is None or keep(entry.name))


def _read_shard(path: Path, entries: List[_Entry], keep) -> Dict[str, bytes]:
    """The bytes of the tensors of one data file that ``keep`` wants, after checking every tensor in it against its
    checksum, and that nothing but zero padding lies between them or after the last."""
    found, position = {}, 0
    with open(path, 'rb') as handle:
        length = os.fstat(handle.fileno()).st_size
        for entry in sorted(entries, key=lambda e: e.offset):
            if entry.offset < position:
                raise InputError('{}: the index has tensors overlapping at {} ({}); {}'.format(
                    path, entry.name, entry.offset, _ADVICE))
            if entry.offset + entry.size > length:
                raise InputError('{}: {} is cut short: the file ends at byte {:,} and the tensor at {:,}; {}'.format(
                    path, entry.name, length, entry.offset + entry.size, _ADVICE))
            _check_padding(handle, path, position, entry.offset)
            wanted = _is_weight(entry, keep)
            pieces, crc, left = [], 0, entry.size
            handle.seek(entry.offset)
            while left:
                piece = handle.read(min(left, _CHUNK))
                if not piece:  # the file shrank while being read
                    raise InputError('{}: {} is cut short; {}'.format(path, entry.name, _ADVICE))
                crc, left = google_crc32c.extend(crc, piece), left - len(piece)
                if wanted:
                    pieces.append(piece)
            if _mask(crc) != entry.crc:
                raise InputError('{}: tensor {} fails its checksum (crc32c): the data file is damaged; {}'.format(
                    path, entry.name, _ADVICE))
            if wanted:
                found[entry.name] = b''.join(pieces)
            position = entry.offset + entry.size
        _check_padding(handle, path, position, length)
    return found


def _check_padding(handle, path: Path, start: int, end: int) -> None:
    """The bytes from ``start`` to ``end`` belong to no tensor: TensorFlow writes only zeros there (alignment)."""
    handle.seek(start)
    while start < end:
        piece = handle.read(min(end - start, _CHUNK))
        if not piece or piece.count(0) != len(piece):
            raise InputError('{}: bytes {:,} to {:,} belong to no tensor of the index and are not padding: the '
                             'data file is damaged or not this index\'s; {}'.format(path, start, end, _ADVICE))
        start += len(piece)


def read_tf_checkpoint(path, keep: Optional[Callable[[str], bool]] = None) -> Dict[str, np.ndarray]:
    """Every variable of the TensorFlow checkpoint ``path`` (see :func:`checkpoint_prefix`) as a numpy array, by its
    TensorFlow name; bfloat16 is read as float32. Strings, resources and partitioned variables are not weights and are
    left out, and so is every variable whose name ``keep`` refuses (a training checkpoint's optimizer slots are
    twice the model: import-tf returns only the weights). Every tensor is checked against its checksum, kept or not;
    a damaged index or data file, or one shorter than the index says, is an :class:`InputError`."""
    prefix = checkpoint_prefix(path)
    shards, entries = _read_index(prefix.with_name(prefix.name + '.index'))
    tensors = {}
    for shard in sorted({entry.shard for entry in entries}):
        data_path = prefix.with_name('{}.data-{:05d}-of-{:05d}'.format(prefix.name, shard, shards))
        if not data_path.is_file():
            raise FileNotFoundError('{}: missing, the checkpoint index names it'.format(data_path))
        in_shard = [entry for entry in entries if entry.shard == shard]
        raw = _read_shard(data_path, in_shard, keep)
        for entry in in_shard:
            if entry.name in raw:
                tensors[entry.name] = _array(raw.pop(entry.name), entry, prefix)
    if not tensors:
        raise InputError('{}: the checkpoint holds no weights'.format(prefix))
    return tensors


def _array(raw: bytes, entry: _Entry, prefix: Path) -> np.ndarray:
    """A tensor's little-endian bytes as a numpy array of its shape (bfloat16 widened to float32)."""
    count = int(np.prod(entry.shape, dtype=object)) if entry.shape else 1
    itemsize = 2 if entry.dtype == _BFLOAT16 else np.dtype(_DTYPES[entry.dtype]).itemsize
    if len(raw) != count * itemsize:
        raise InputError('{}: {} is cut short or its size does not match its shape {}; {}'.format(
            prefix, entry.name, list(entry.shape), _ADVICE))
    if entry.dtype == _BFLOAT16:
        array = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(raw, dtype=np.dtype(_DTYPES[entry.dtype]).newbyteorder('<')).astype(
            _DTYPES[entry.dtype])
    return array.reshape(entry.shape).copy()
