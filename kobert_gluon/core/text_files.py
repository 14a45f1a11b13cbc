"""Reading the text a user gives (data files, corpora, stdin): one encoding option, strict decoding, and an
error that says where a bad byte is.

A file in another encoding than the one given (a cp949 corpus read as UTF-8) must never turn into mojibake in
silence: every reader here decodes strictly and, at the first undecodable byte, stops with the file, the line,
the byte offset and the option that fixes it. ``utf-8`` (the default) accepts a byte-order mark at the start; a
UTF-16 (or UTF-32) file read as a one-byte encoding is named as such (its byte-order mark, or NUL bytes all on
even or all on odd offsets), not called binary.
Lines are split on ``\\n`` only (a stray ``\\r`` before it is dropped), so line ``n`` of a message is line
``n`` in any editor, even when a text holds U+2028 or U+0085.
"""
import codecs
from pathlib import Path
from typing import BinaryIO, Iterator, List

from .errors import InputError

__all__ = ['DEFAULT_ENCODING', 'reading_codec', 'check_text_file', 'read_lines', 'check_decodable', 'decode_lines']

DEFAULT_ENCODING = 'utf-8'
_HINT = 'if the file is in another encoding, name it with --encoding (e.g. --encoding cp949 for Korean Windows files)'


def reading_codec(encoding: str) -> str:
    """The codec to read ``encoding`` with: UTF-8 also accepts a byte-order mark. Unknown names are refused."""
    try:
        name = codecs.lookup(encoding or DEFAULT_ENCODING).name
    except LookupError:
        raise InputError('unknown text encoding {!r}; use a name Python knows, such as utf-8 or cp949'
                         .format(encoding)) from None
    return 'utf-8-sig' if name == 'utf-8' else name


def _single_byte_newline(codec: str) -> bool:
    """Whether ``\\n`` is the one byte 0x0A in this encoding (true for UTF-8, cp949, EUC-KR, Latin-1 ...)."""
    return not codec.startswith(('utf-16', 'utf-32'))


def check_text_file(path, what: str = 'file') -> Path:
    """``path`` as a Path, after checking that it is an existing file (a folder gets its own message)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError('{} {} is a folder, not a file'.format(what, path))
    if not path.exists():
        raise FileNotFoundError('{} {} does not exist'.format(what, path))
    return path


_BOMS = ((b'\xff\xfe\x00\x00', 'UTF-32', 'utf-32'), (b'\x00\x00\xfe\xff', 'UTF-32', 'utf-32'),
         (b'\xff\xfe', 'UTF-16', 'utf-16'), (b'\xfe\xff', 'UTF-16', 'utf-16'))


def _wide_encoding(raw: bytes, offset: int):
    """``(name, option value)`` when the bytes of a line that starts at byte ``offset`` are UTF-16 or UTF-32 text read
    as a one-byte encoding: a byte-order mark at the start of the file, or NUL bytes all at even or all at odd file
    offsets (the zero half of ASCII characters, tabs and spaces in UTF-16; a binary file has them anywhere); else
    None."""
    if offset == 0:
        for bom, name, option in _BOMS:
            if raw.startswith(bom):
                return name, option
    parities = {(offset + i) % 2 for i, byte in enumerate(raw) if byte == 0}
    if raw.count(0) >= 2 and len(parities) == 1:
        return 'UTF-16', 'utf-16'
    return None


def _wide_error(source: str, line: int, found):
    name, option = found
    return InputError('{}, line {}: this file is {}, not text in a one-byte-per-character encoding; convert it to '
                      'UTF-8 or pass --encoding {}'.format(source, line, name, option))


def _decode_error(source: str, line: int, offset: int, raw: bytes, err: UnicodeDecodeError, encoding: str):
    wide = _wide_encoding(raw, offset)
    if wide is not None:
        return _wide_error(source, line, wide)
    bad = raw[err.start:err.end][:4].hex(' ')
    return InputError('{}, line {}: bytes that are not valid {} at byte offset {} (0x{}); {}'.format(
        source, line, encoding, offset + err.start, bad, _HINT))


def decode_lines(stream: BinaryIO, source: str, encoding: str = DEFAULT_ENCODING) -> Iterator[str]:
    """The lines of a binary stream as text (no line break), decoded strictly; ``source`` names it in errors."""
    codec = reading_codec(encoding)
    if not _single_byte_newline(codec):
        yield from _decode_whole(stream.read(), source, encoding, codec)
        return
    decoder_codec = codec
    offset = 0
    for number, raw in enumerate(stream, 1):
        if b'\0' in raw and codec.startswith('utf-8'):
            wide = _wide_encoding(raw, offset)
            if wide is not None:  # UTF-16 read as UTF-8 is full of NULs, but it is text: say which encoding
                raise _wide_error(source, number, wide)
            raise InputError('{}, line {}: a NUL byte at byte offset {}: this looks like a binary file, not text'
                             .format(source, number, offset + raw.index(b'\0')))
        try:
            text = raw.decode(decoder_codec)
        except UnicodeDecodeError as err:
            raise _decode_error(source, number, offset, raw, err, encoding) from None
        decoder_codec = 'utf-8' if codec == 'utf-8-sig' else codec  # a BOM only counts at the very start
        offset += len(raw)
        if text.endswith('\n'):
            text = text[:-1]
        if text.endswith('\r'):
            text = text[:-1]
        yield text


def _decode_whole(data: bytes, source: str, encoding: str, codec: str) -> List[str]:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b'\n' if codec.startswith('utf-8') else '\n'.encode(codec)) + 1
        raise InputError('{}, line {}: bytes that are not valid {} at byte offset {}; {}'.format(
            source, line, encoding, err.start, _HINT)) from None
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return [line[:-1] if line.endswith('\r') else line for line in lines]


def read_lines(path, encoding: str = DEFAULT_ENCODING, what: str = 'file') -> Iterator[str]:
    """Stream the lines of a text file, decoded strictly (see the module docstring)."""
    path = check_text_file(path, what)
    with open(path, 'rb') as stream:
        yield from decode_lines(stream, str(path), encoding)


def check_decodable(path, encoding: str = DEFAULT_ENCODING, what: str = 'file') -> int:
    """Read the whole file once, strictly; returns its number of lines (raises at the first bad byte)."""
    count = 0
    for count, _ in enumerate(read_lines(path, encoding, what), 1):
        pass
    return count
