"""The Python session of one documentation page, run as a subprocess by tests/test_docs_examples.py.

A page's ``python`` and ``pycon`` blocks run here, in one namespace, in page order, so a later block sees what an
earlier one defined (as a reader who pastes them one after another would), and apart from the test process (its
MXNet state, its working folder). Requests and answers are JSON lines: the requests on stdin, the answers on a
copy of the original stdout; file descriptor 1 itself is pointed at stderr, so what the examples (or MXNet's C++
code) print cannot garble the answers. What an example prints through Python is captured and answered.

Requests: ``{"mode": "exec" | "single", "source": ...}``. ``exec`` runs a ``python`` block; ``single`` one ``>>>``
statement of a ``pycon`` block, whose value is printed as the interactive interpreter prints it. Answers:
``{"output": ..., "error": null | {"type": qualified name, "name", "message", "mro": [class names], "traceback"}}``.
"""
import contextlib
import io
import json
import os
import sys
import traceback


def describe(err: BaseException):
    kind = type(err)
    return {'type': '{}.{}'.format(kind.__module__, kind.__qualname__), 'name': kind.__name__,
            'message': str(err), 'mro': [c.__name__ for c in kind.__mro__],
            'traceback': ''.join(traceback.format_exception(kind, err, err.__traceback__))}


def main():
    answers = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)  # C-level writes to stdout go to stderr from now on
    sys.stdout = io.TextIOWrapper(os.fdopen(os.dup(1), 'wb'), encoding='utf-8', line_buffering=True)
    namespace = {'__name__': '__main__'}
    for line in sys.stdin:
        request = json.loads(line)
        output = io.StringIO()
        error = None
        try:
            code = compile(request['source'], '<docs example>', request['mode'])
            with contextlib.redirect_stdout(output):
                exec(code, namespace)  # noqa: S102 -- running the documentation's own examples is the point
        except BaseException as err:  # noqa: BLE001 -- every failure is reported back to the test
            error = describe(err)
        answers.write(json.dumps({'output': output.getvalue(), 'error': error}) + '\n')
        answers.flush()


if __name__ == '__main__':
    main()
