"""Progress of long work, on stderr: the one implementation every command uses, the training bar included.

Library code reports what it does: :func:`steps` (or :func:`counted`) for a loop whose length is known or counted,
:func:`phase` for a step that cannot be counted (a SentencePiece training, MXNet's ONNX export). Nothing is shown
unless the command line turned progress on for the command it runs (:func:`shown`; ``--no-progress`` and
``--quiet`` leave it off) or the caller asks with ``show=True`` (the trainer, whose ``TrainingConfig.progress`` has
always been on by default). So the Python API stays silent, and so does a server predicting for its clients.

How it looks depends on where stderr goes:

* a terminal: a tqdm bar redrawn in place (count, rate, time left);
* anything else (a log file, a pipe, CI, a test capturing stderr): whole lines, never carriage returns: one when
  the work starts, then at most one every ``KOBERT_GLUON_PROGRESS_SECONDS`` seconds (default 30; 0: at every
  update), and one when it ends, e.g. ``kobert-gluon evaluate: predicting 2,048/50,000 examples (4%), 410/s,
  1 min 57 s left``.

The time left is the work still to do at the rate so far, so the total a caller gives must be what will run: the
trainer gives an epoch's bar the batches it will run before ``max_steps`` ends training, not the epoch's length.
"""
import contextlib
import os
import sys
import time
from typing import Dict, Iterable, Iterator, Optional

__all__ = ['shown', 'is_shown', 'steps', 'counted', 'phase', 'Steps', 'INTERVAL_VARIABLE', 'format_duration']

INTERVAL_VARIABLE = 'KOBERT_GLUON_PROGRESS_SECONDS'
DEFAULT_INTERVAL_S = 30.0
_MB = 1e6

_label: Optional[str] = None  # who is working: 'kobert-gluon evaluate' (set by the command line), else None
_enabled: Optional[bool] = None  # what the command line said: True, False (--no-progress, --quiet) or None: nothing


@contextlib.contextmanager
def shown(label: str, enabled: Optional[bool] = True):
    """Within it, lines start with ``label`` (the command), and progress is shown if ``enabled``, not at all if
    False; None leaves each piece of work to its default (:func:`steps`' ``default``)."""
    global _label, _enabled
    previous = _label, _enabled
    _label, _enabled = label, enabled
    try:
        yield
    finally:
        _label, _enabled = previous


def is_shown() -> bool:
    """Whether the command line asked for progress."""
    return _enabled is True


def _wanted(show: Optional[bool], default: bool) -> bool:
    if show is not None:
        return bool(show)
    return default if _enabled is None else _enabled


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def _interval() -> float:
    value = os.environ.get(INTERVAL_VARIABLE, '')
    try:
        return max(0.0, float(value)) if value.strip() else DEFAULT_INTERVAL_S
    except ValueError:
        return DEFAULT_INTERVAL_S


def _write_line(text: str) -> None:
    try:
        sys.stderr.write(text + '\n')
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):  # no stderr, or it is closed: progress is never worth a crash
        pass


def format_duration(seconds: float) -> str:
    """``'12 s'``, ``'2 min 38 s'``, ``'3 h 15 min'``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return '{} s'.format(seconds)
    if seconds < 3600:
        return '{} min {} s'.format(seconds // 60, seconds % 60)
    return '{} h {:02d} min'.format(seconds // 3600, seconds % 3600 // 60)


def _rate_text(rate: float) -> str:
    return '{:,.0f}'.format(rate) if rate >= 100 else '{:.1f}'.format(rate) if rate >= 1 else '{:.2f}'.format(rate)


class Steps:
    """A counted piece of work: ``update(n)`` as it goes, ``set_postfix({...})`` for running figures (a loss),
    ``close()`` (or leave the ``with`` block) when done. The silent kind does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, values: Dict[str, str], refresh: bool = False) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Lines(Steps):
    """Whole lines, for a stderr that is not a terminal."""

    def __init__(self, label: str, total: Optional[int], desc: str, unit: str, initial: int, interval: float):
        self.label, self.total, self.desc, self.unit = label, total, desc, unit
        self.initial = self.n = initial
        self.interval = interval
        self.postfix = ''
        self.started = self.last = time.monotonic()
        self.closed = False
        self._emit(self._count() + (' ...' if not initial else ''))

    def _amount(self, value) -> str:
        return '{:,.1f}'.format(value / _MB) if self.unit == 'B' else '{:,}'.format(value)

    def _count(self) -> str:
        unit = 'MB' if self.unit == 'B' else self.unit
        if self.total is None:
            return '{} {}'.format(self._amount(self.n), unit)
        percent = 100.0 * self.n / self.total if self.total else 100.0
        return '{}/{} {} ({:.0f}%)'.format(self._amount(self.n), self._amount(self.total), unit, percent)

    def _rate_text(self, rate: float) -> str:
        if self.unit == 'B':
            return '{} MB/s'.format(_rate_text(rate / _MB))
        return '{} {}/s'.format(_rate_text(rate), self.unit)

    def _emit(self, text: str) -> None:
        _write_line('{}: {}{}{}'.format(self.label, self.desc + ': ' if self.desc else '', text, self.postfix))

    def _rate(self, now: float) -> float:
        elapsed = now - self.started
        return (self.n - self.initial) / elapsed if elapsed > 0 else 0.0

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last < self.interval or self.closed or (self.total is not None and self.n >= self.total):
            return  # (the last update: close() says it, with the time it took)
        self.last = now
        rate = self._rate(now)
        text = '{}, {}'.format(self._count(), self._rate_text(rate))
        if self.total is not None and rate > 0:
            text += ', {} left'.format(format_duration(max(0, self.total - self.n) / rate))
        self._emit(text)

    def set_postfix(self, values: Dict[str, str], refresh: bool = False) -> None:
        self.postfix = ('; ' + ', '.join('{} {}'.format(k, v) for k, v in values.items())) if values else ''

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        now = time.monotonic()
        elapsed = now - self.started
        stopped = self.total is not None and self.n < self.total
        self._emit('{}{} in {}{}'.format('stopped at ' if stopped else '', self._count(), format_duration(elapsed),
                                         ' ({})'.format(self._rate_text(self._rate(now)))
                                         if self.n > self.initial and elapsed > 0 else ''))


class _Bar(Steps):
    """A tqdm bar, for a terminal."""

    def __init__(self, total: Optional[int], desc: str, unit: str, initial: int):
        from tqdm import tqdm
        scaled = dict(unit='B', unit_scale=True, unit_divisor=1024) if unit == 'B' else dict(unit=' ' + unit)
        self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, leave=True, file=sys.stderr,
                        **scaled)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_postfix(self, values: Dict[str, str], refresh: bool = False) -> None:
        self.bar.set_postfix(values, refresh=refresh)

    def close(self) -> None:
        self.bar.close()


def steps(total: Optional[int] = None, desc: str = '', unit: str = 'it', initial: int = 0,
          show: Optional[bool] = None, default: bool = False) -> Steps:
    """The progress of ``total`` units of work (None: counted as it goes, no time left shown), ``initial`` of them
    done already (a resumed epoch); ``unit`` ``'B'`` counts bytes (shown in MB). ``show``: True or False, or None:
    as the command line says, and where it says nothing (outside it, or a command without the option), ``default``
    (a download: True, so a long one is never silent; predictions: False, so the API and a server stay quiet)."""
    if not _wanted(show, default):
        return Steps()
    if _stderr_is_terminal():
        return _Bar(total, desc, unit, initial)
    return _Lines(_label or 'kobert-gluon', total, desc, unit, initial, _interval())


def counted(iterable: Iterable, total: Optional[int] = None, desc: str = '', unit: str = 'it',
            show: Optional[bool] = None, default: bool = False) -> Iterator:
    """The items of ``iterable``, each one counted in a :func:`steps` (``total``: None takes ``len(iterable)``
    where it has one)."""
    if total is None and hasattr(iterable, '__len__'):
        total = len(iterable)
    with steps(total, desc, unit, show=show, default=default) as progress:
        for item in iterable:
            yield item
            progress.update(1)


def phase(text: str, show: Optional[bool] = None, default: bool = False) -> None:
    """One line for a step that cannot be counted (``'training the SentencePiece model on 2,000 lines'``), shown as
    :func:`steps` would be; it says what is happening while nothing else moves."""
    if _wanted(show, default):
        _write_line('{}: {}'.format(_label or 'kobert-gluon', text))
