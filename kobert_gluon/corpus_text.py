"""Reading corpus text: plain UTF-8 text files, or one column of tab-separated files.

Both the vocabulary builder and the pretraining-data step read corpora through :class:`TextSource`, so the
same ``--column``/``--header`` options mean the same thing everywhere. Files are streamed line by line;
nothing here holds a whole corpus in memory.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

__all__ = ['TextSource']

PathLike = Union[str, Path]


@dataclass(frozen=True)
class TextSource:
    """Where corpus text comes from.

    ``column`` picks one field of tab-separated lines: a 0-based index, or a header name (then the first line
    of every file is a header). ``header=True`` skips the first line of every file; it defaults to
    ``True`` when ``column`` is a name and ``False`` otherwise. Without ``column`` a whole line is the text.

    Example, NSMC: ``TextSource(['ratings_train.txt'], column='document')``.
    """
    paths: Sequence[PathLike]
    column: Optional[Union[int, str]] = None
    header: Optional[bool] = None

    def __post_init__(self):
        if isinstance(self.paths, (str, Path)):
            object.__setattr__(self, 'paths', (self.paths,))
        object.__setattr__(self, 'paths', tuple(Path(p) for p in self.paths))
        if not self.paths:
            raise ValueError('no corpus files given')
        for path in self.paths:
            if not path.is_file():
                raise FileNotFoundError('corpus file {} does not exist'.format(path))
        column = self.column
        if isinstance(column, str) and column.strip().isdigit():  # "--column 1" from a command line
            column = int(column)
        if isinstance(column, int) and column < 0:
            raise ValueError('column index must be >= 0, got {}'.format(column))
        object.__setattr__(self, 'column', column)
        if isinstance(column, str) and self.header is False:
            raise ValueError('column {!r} is a header name, so the files must have a header line'.format(column))

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
        with path.open(encoding='utf-8', errors='replace') as handle:
            index = self.column
            if self.has_header:
                header = handle.readline().rstrip('\r\n').split('\t')
                if isinstance(index, str):
                    if index not in header:
                        raise ValueError('{} has no column named {!r}; its header is {}'
                                         .format(path, index, '\t'.join(header)))
                    index = header.index(index)
            for number, line in enumerate(handle, start=2 if self.has_header else 1):
                line = line.rstrip('\r\n')
                if index is None:
                    yield line
                    continue
                if not line.strip():
                    yield ''
                    continue
                fields = line.split('\t')
                if index >= len(fields):
                    raise ValueError('{} line {} has {} tab-separated fields; column {} does not exist'
                                     .format(path, number, len(fields), index))
                yield fields[index]

    def describe(self) -> dict:
        """Plain data for provenance records (manifests, build info)."""
        return {'paths': [str(p) for p in self.paths], 'column': self.column, 'header': self.has_header}
