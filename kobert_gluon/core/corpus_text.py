"""Reading corpus text: plain UTF-8 text files, or one column of tab-separated files.

Both the vocabulary builder and the pretraining-data step read corpora through :class:`TextSource`, so the
same ``--column``/``--header`` options mean the same thing everywhere. Files are streamed line by line;
nothing here holds a whole corpus in memory.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

from .errors import InputError
from .text_files import DEFAULT_ENCODING, check_text_file, read_lines, reading_codec

__all__ = ['TextSource']

PathLike = Union[str, Path]


@dataclass(frozen=True)
class TextSource:
    """Where corpus text comes from.

    ``column`` picks one field of tab-separated lines: a 0-based index, or a header name (then the first line
    of every file is a header). ``header=True`` skips the first line of every file; it defaults to
    ``True`` when ``column`` is a name and ``False`` otherwise. Without ``column`` a whole line is the text.

    ``encoding`` is the files' text encoding (UTF-8 by default, byte-order mark accepted); a byte that does not
    decode stops with the file, line and byte offset (see :mod:`.text_files`), never a silent replacement.

    Example, NSMC: ``TextSource(['ratings_train.txt'], column='document')``.
    """
    paths: Sequence[PathLike]
    column: Optional[Union[int, str]] = None
    header: Optional[bool] = None
    encoding: str = DEFAULT_ENCODING

    def __post_init__(self):
        if isinstance(self.paths, (str, Path)):
            object.__setattr__(self, 'paths', (self.paths,))
        object.__setattr__(self, 'paths', tuple(Path(p) for p in self.paths))
        if not self.paths:
            raise InputError('no corpus files given')
        for path in self.paths:
            check_text_file(path, 'corpus file')
        reading_codec(self.encoding)  # an unknown encoding name is refused before any work
        column = self.column
        if isinstance(column, str) and column.strip().isdigit():  # "--column 1" from a command line
            column = int(column)
        if isinstance(column, int) and column < 0:
            raise InputError('column index must be >= 0, got {}'.format(column))
        object.__setattr__(self, 'column', column)
        if isinstance(column, str) and self.header is False:
            raise InputError('column {!r} is a header name, so the files must have a header line'.format(column))

    @property
    def has_header(self) -> bool:
        if self.header is not None:
            return self.header
        return isinstance(self.column, str)

    def lines(self) -> Iterator[str]:
        """The text of every line (without the line break), file after file; blank lines are kept."""
        for path in self.paths:
            yield from self._file_lines(path)

    def _file_lines(self, path: Path) -> Iterator[str]:
        lines = read_lines(path, self.encoding, 'corpus file')
        index = self.column
        if self.has_header:
            header = next(lines, '').split('\t')
            if isinstance(index, str):
                if index not in header:
                    raise InputError('{} has no column named {!r}; its header is {}'
                                     .format(path, index, '\t'.join(header) or '(an empty line)'))
                index = header.index(index)
        for number, line in enumerate(lines, start=2 if self.has_header else 1):
            if index is None:
                yield line
                continue
            if not line.strip():
                yield ''
                continue
            fields = line.split('\t')
            if index >= len(fields):
                raise InputError('{} line {} has {} tab-separated fields; column {} does not exist'
                                 .format(path, number, len(fields), index))
            yield fields[index]

    def describe(self) -> dict:
        """Plain data for provenance records (manifests, build info)."""
        return {'paths': [str(p) for p in self.paths], 'column': self.column, 'header': self.has_header,
                'encoding': self.encoding}
