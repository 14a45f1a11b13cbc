"""Every code block of README.md and docs/**/*.md runs, offline, on the shipped models and ../shared/data, and
what a page shows as output is what the command or statement gives. docs/contributing.md ("Every example runs")
is the reader's description of the convention implemented here: fence languages, the markers shown on the page
(`# shortened in CI:`, `# needs the network:`, `# needs a GPU:`) and the `<!-- docs-test ... -->` directives.

One test per block (``FILE:LINE``). A page runs in its own folder, with ../shared/data beside it, in page order;
its Python blocks share one interpreter (tests/docs_examples_session.py). Each test asserts that its block ran
or checked at least one command or statement, so a block the parser misread cannot pass by doing nothing.
"""
import ast
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from .conftest import KOBERT_FILES, SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SESSION_SCRIPT = Path(__file__).resolve().parent / 'docs_examples_session.py'
PAGES = [REPO / 'README.md'] + sorted(p for p in (REPO / 'docs').rglob('*.md') if 'hooks' not in p.parts)
RUN_LANGUAGES = ('bash', 'console', 'python', 'pycon')
SHOWN_LANGUAGES = ('text', 'markdown')  # not code: file trees, formats, markup samples
DIRECTIVES = ('setup', 'needs-shared-data', 'install', 'ci-command', 'check-only', 'server')
NETWORK_MARK = '# needs the network:'
GPU_MARK = '# needs a GPU:'
SHORTENED_MARK = '# shortened in CI:'
COMMAND_TIMEOUT_S = 300
FENCE = re.compile(r'^```(\S*)\s*$')


# ----- reading the pages ---------------------------------------------------------------------------------------


@dataclass
class Block:
    page: str           # relative to the repository
    line: int           # of the opening fence, 1-based
    language: str
    text: str
    directives: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def id(self):
        return '{}:{}'.format(self.page, self.line)

    @property
    def marker(self) -> Optional[str]:
        first = next((line.strip() for line in self.text.splitlines() if line.strip()), '')
        return next((mark for mark in (NETWORK_MARK, GPU_MARK) if first.startswith(mark)), None)

    def needs_shared_data(self):
        return ('needs-shared-data' in self.directives or '../shared/data' in self.text
                or any('../shared/data' in command for command in self.directives.get('setup', [])))


def directives_above(lines, fence_index):
    """The ``<!-- docs-test ... -->`` comments on the lines right above a fence: ``{name: [values]}``."""
    found: Dict[str, List[str]] = {}
    end = fence_index - 1
    while end >= 0 and lines[end].rstrip().endswith('-->'):
        start = end
        while not lines[start].lstrip().startswith('<!--'):
            start -= 1
            assert start >= 0, 'an HTML comment above line {} never opens'.format(fence_index + 1)
        comment = '\n'.join(lines[start:end + 1]).strip()[len('<!--'):-len('-->')].strip()
        if comment.startswith('docs-test'):
            body = comment[len('docs-test'):].lstrip(':').strip()
            for entry in filter(None, (part.strip() for part in body.splitlines())):
                name, _, value = entry.partition(':')
                name = name.strip()
                if name not in DIRECTIVES:
                    raise ValueError('line {}: unknown docs-test directive {!r} (known: {})'
                                     .format(start + 1, name, ', '.join(DIRECTIVES)))
                found.setdefault(name, []).append(value.strip())
        end = start - 1
    return found


def read_blocks(path: Path) -> List[Block]:
    lines = path.read_text(encoding='utf-8').splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        close = next(i for i in range(index + 1, len(lines)) if lines[i].rstrip() == '```')
        blocks.append(Block(str(path.relative_to(REPO)), index + 1, opening.group(1),
                            '\n'.join(lines[index + 1:close]) + '\n', directives_above(lines, index)))
        index = close + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in read_blocks(page)]
RUN_BLOCKS = [block for block in ALL_BLOCKS if block.language in RUN_LANGUAGES]


# ----- comparing outputs ---------------------------------------------------------------------------------------

NUMBER = r'[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+(?:[eE][-+]?\d+)?'
TOKEN = re.compile(r'(\.\.\.)|({})|(\S)'.format(NUMBER))
ELLIPSIS = object()


def tokens(text: str, expected: bool):
    found = []
    for match in TOKEN.finditer(text):
        if match.group(1) and expected:
            found.append(ELLIPSIS)
        elif match.group(2):
            found.append(('number', match.group(2)))
        else:
            found.append(match.group(0))
    return found


def token_matches(expected, actual) -> bool:
    if isinstance(expected, tuple) and isinstance(actual, tuple):
        shown, value = expected[1], float(actual[1])
        mantissa, _, exponent = shown.lower().partition('e')
        if '.' not in mantissa:
            return float(shown) == value
        unit = 10.0 ** (-len(mantissa.split('.')[1]) + (int(exponent) if exponent else 0))
        return abs(float(shown) - value) <= unit * 1.0000001
    return expected == actual


def output_matches(expected: str, actual: str) -> bool:
    """Token by token, whitespace ignored; ``...`` matches any tokens; a number with a decimal point matches any
    within one unit of its last shown digit (glob matching, ``...`` as ``*``)."""
    want, got = tokens(expected, True), tokens(actual, False)
    w = g = 0
    star, star_g = -1, 0
    while g < len(got):
        if w < len(want) and want[w] is not ELLIPSIS and token_matches(want[w], got[g]):
            w, g = w + 1, g + 1
        elif w < len(want) and want[w] is ELLIPSIS:
            star, star_g, w = w, g, w + 1
        elif star >= 0:
            star_g += 1
            w, g = star + 1, star_g
        else:
            return False
    while w < len(want) and want[w] is ELLIPSIS:
        w += 1
    return w == len(want)


def test_the_comparison_has_its_documented_tolerances():
    assert output_matches('0.984', '0.98431337') and not output_matches('0.984', '0.9823')
    assert output_matches('2.6e-06', '2.58e-06') and not output_matches('2.6e-06', '2.4e-06')
    assert output_matches('array([[0.016, 0.984]])', 'array([[0.01568658,  0.98431337]])')
    assert output_matches('{"a": ..., "b": 1}', '{"a": [1, 2, {"c": 3}], "b": 1}')
    assert not output_matches('{"a": ..., "b": 1}', '{"a": [1], "b": 2}')
    assert not output_matches('8002', '8001') and not output_matches('a b', 'a b c')


# ----- shell commands ------------------------------------------------------------------------------------------


def split_trailing_comment(line: str):
    """``(code, comment)`` of one shell line: a `#` after whitespace, outside quotes, starts a comment."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in '\'"':
            quote = char
        elif char == '#' and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i:]
    return line, ''


def logical_commands(text: str):
    """The commands of a shell block: continuation lines joined, comment lines and trailing comments dropped."""
    commands, current = [], ''
    for line in text.splitlines():
        code, _ = split_trailing_comment(line)
        if not code.strip() and not current:
            continue
        if code.endswith('\\'):
            current += code[:-1] + ' '
            continue
        commands.append((current + code).strip())
        current = ''
    return [command for command in commands if command]


def apply_shortened(text: str) -> str:
    """Each ``# shortened in CI: OPTIONS`` line's options appended to the command below it."""
    lines, pending, out = text.splitlines(), None, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(SHORTENED_MARK):
            assert pending is None, 'two shortened lines in a row: ' + line
            pending = stripped[len(SHORTENED_MARK):].strip()
            out.append(line)
            continue
        if pending and stripped and not stripped.startswith('#'):
            code, comment = split_trailing_comment(line)
            if code.endswith('\\'):  # the options go at the end of the whole command
                out.append(line)
                continue
            line = '{} {}  {}'.format(code, pending, comment).rstrip()
            pending = None
        out.append(line)
    assert pending is None, 'a shortened line with no command below it'
    return '\n'.join(out) + '\n'


def kobert_argv(command: str):
    """The ``kobert-gluon`` arguments of a command (after environment settings and a launcher such as
    horovodrun), or None when the command runs another program."""
    words = shlex.split(command, comments=True)
    if 'kobert-gluon' not in words:
        return None
    return words[words.index('kobert-gluon') + 1:]


def check_kobert_command(argv):
    """The real parser accepts the command (what `kobert-gluon` would do before running it)."""
    from kobert_gluon.cli import build_parser
    command = next(word for word in argv if not word.startswith('-'))
    try:
        build_parser(only=command).parse_args(argv)
    except SystemExit as stop:
        raise AssertionError('kobert-gluon {} is not a valid command line (exit {})'
                             .format(' '.join(argv), stop.code)) from None


def check_other_program(command: str, env):
    """Another program: on PATH where it is installed, and the options the page gives it in its --help."""
    words = [w for w in shlex.split(command, comments=True) if not re.match(r'^[A-Z_][A-Z0-9_]*=', w)]
    program = words[0]
    if shutil.which(program, path=env['PATH']) is None:
        return 0
    subcommand = [words[1]] if len(words) > 1 and not words[1].startswith('-') else []
    shown = subprocess.run([program] + subcommand + ['--help'], capture_output=True, text=True, env=env,
                           timeout=COMMAND_TIMEOUT_S)
    for option in (w.split('=')[0] for w in words[1:] if w.startswith('--')):
        assert option in shown.stdout + shown.stderr, '{} {} has no option {}'.format(program, subcommand, option)
    return 1


def read_pinned():
    pins = {}
    for line in (REPO / 'constraints.txt').read_text(encoding='utf-8').splitlines():
        line = line.split('#')[0].strip()
        if '==' in line:
            name, version = line.split('==')
            pins[re.sub(r'[-_.]+', '-', name).lower()] = version
    return pins


def mxnet_rule():
    """setup.py's MXNet requirement and the pattern of MXNet build names, read without running setup.py."""
    tree = ast.parse((REPO / 'setup.py').read_text(encoding='utf-8'))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == 'MXNET':
                values['requirement'] = ast.literal_eval(node.value)
            if node.targets[0].id == 'MXNET_BUILD':
                values['pattern'] = re.compile(ast.literal_eval(node.value.args[0]), re.IGNORECASE)
    return values


def check_pip_install(words):
    """A `pip install` line of an install block: what it names exists (extras, pins, MXNet builds)."""
    import tomllib
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    extras = set(tomllib.loads((REPO / 'pyproject.toml').read_text(encoding='utf-8'))['project']
                 ['optional-dependencies'])
    pins, mxnet = read_pinned(), mxnet_rule()
    arguments = iter(words[2:])
    for word in arguments:
        if word in ('-c', '--constraint'):
            assert (REPO / next(arguments)).is_file()
            continue
        if word.startswith('-'):
            assert word in ('--no-deps', '--no-build-isolation', '-q', '-U', '--upgrade'), word
            continue
        if word == '.' or word.startswith('.['):
            named = set(Requirement('kobert-gluon' + word[1:]).extras)
            assert named <= extras, 'no extra {} in pyproject.toml'.format(sorted(named - extras))
            continue
        requirement = Requirement(word)
        name = re.sub(r'[-_.]+', '-', requirement.name).lower()
        if name == 'kobert-gluon':
            assert set(requirement.extras) <= extras, 'no extra {}'.format(sorted(set(requirement.extras) - extras))
        elif mxnet['pattern'].match(name):
            version = next(iter(requirement.specifier)).version
            assert version in SpecifierSet(mxnet['requirement'][len('mxnet'):]), word
        else:
            assert name in pins, '{} is not pinned in constraints.txt'.format(name)


# ----- one page's run ------------------------------------------------------------------------------------------


class PageRun:
    """A page's folder, environment, Python session and server, and which of its blocks have run."""

    def __init__(self, page: str, root: Path):
        self.page = page
        self.blocks = [block for block in RUN_BLOCKS if block.page == page]
        base = Path(tempfile.mkdtemp(prefix=re.sub(r'\W', '_', page) + '-', dir=str(root)))
        self.folder = base / 'work'
        self.folder.mkdir()
        if SHARED_DATA.is_dir():  # the pages' ../shared/data, as beside a checkout
            (base / 'shared').mkdir()
            (base / 'shared' / 'data').symlink_to(SHARED_DATA)
        self.env = dict(os.environ, PYTHONPATH=str(REPO), KOBERT_GLUON_OFFLINE='1', HF_HUB_OFFLINE='1',
                        KOBERT_GLUON_MIRROR=str(KOBERT_FILES), KOBERT_GLUON_HOME=str(root / 'cache'),
                        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get('PATH', ''))
        self.done: Dict[str, str] = {}  # block id -> 'passed' / 'skipped' / the failure
        self.python = None
        self.server = None
        self.server_address = None

    # --- running -----------------------------------------------------------------------------------------------

    def run(self, block: Block):
        """Runs the block (after any earlier block of the page not yet run); returns how many commands or
        statements it ran or checked."""
        for earlier in self.blocks[:self.blocks.index(block)]:
            if earlier.id not in self.done:
                try:
                    self.run(earlier)
                except pytest.skip.Exception:
                    pass
                except BaseException as err:  # noqa: BLE001 -- reported as this block's failure
                    self.done[earlier.id] = repr(err)
        failed = [b for b in self.blocks[:self.blocks.index(block)] if self.done.get(b.id) not in ('passed', 'skipped')]
        if block.needs_shared_data() and not SHARED_DATA.is_dir():
            self.done[block.id] = 'skipped'
            pytest.skip('needs the real data at {} (absent on this machine)'.format(SHARED_DATA))
        try:
            count = self.execute(block)
        except BaseException as err:
            self.done[block.id] = repr(err)
            if failed and isinstance(err, AssertionError):
                raise AssertionError('{}\n(earlier blocks of this page failed: {})'.format(
                    err, ', '.join(b.id for b in failed))) from err
            raise
        self.done[block.id] = 'passed'
        if block is self.blocks[-1]:
            self.stop()
        return count

    def execute(self, block: Block) -> int:
        for command in block.directives.get('setup', []):
            self.shell(command, pipefail=False)  # `head` may end a pipe early: the data it wanted is there
        if block.language == 'bash':
            return self.bash(block)
        if block.language == 'console':
            return self.console(block)
        return self.python_block(block)

    def shell(self, script: str, check=True, pipefail=True):
        if self.server_address:
            script = script.replace('localhost:8080', self.server_address)
        result = subprocess.run(['bash', '-e'] + (['-o', 'pipefail'] if pipefail else []) + ['-c', script], cwd=str(self.folder), env=self.env,
                                capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        if check:
            assert result.returncode == 0, 'exit status {} of:\n{}\nstdout:\n{}\nstderr:\n{}'.format(
                result.returncode, script, result.stdout[-3000:], result.stderr[-5000:])
        return result

    # --- shell blocks ------------------------------------------------------------------------------------------

    def bash(self, block: Block) -> int:
        if 'install' in block.directives:
            return self.install(block)
        if 'check-only' in block.directives:
            return sum(self.check_only(command) for command in logical_commands(block.text))
        if block.marker:
            return self.expect_refusals(block)
        if 'server' in block.directives:
            return self.start_server(block)
        assert not any(word in block.text for word in ('pip install', 'horovodrun')), \
            'a block that installs or starts workers needs its directive (install, check-only)'
        self.shell(apply_shortened(block.text))
        return len(logical_commands(block.text))

    def install(self, block: Block) -> int:
        count = 0
        for command in logical_commands(block.text):
            if 'ci-command' in block.directives:
                assert command in (REPO / '.ci' / 'run').read_text(encoding='utf-8'), \
                    '.ci/run does not run this command verbatim: ' + command
            rest = []
            for part in (p.strip() for p in command.split('&&')):
                words = [w for w in shlex.split(part) if not re.match(r'^[A-Z_][A-Z0-9_]*=', w)]
                if words[:3] == ['python3', '-m', 'venv'] or words[:1] == ['.']:
                    count += 1  # the virtual environment of the block: this test's interpreter stands for it
                elif words[:2] == ['pip', 'install']:
                    check_pip_install(words)
                    count += 1
                else:
                    rest.append(part)
            if rest and 'ci-command' not in block.directives:
                self.shell(' && '.join(rest))
                count += len(rest)
        return count

    def check_only(self, command: str) -> int:
        argv = kobert_argv(command)
        if argv is not None:
            check_kobert_command(argv)
            launcher = command.split('kobert-gluon')[0].strip()
            return 1 + (check_other_program(launcher, self.env) if launcher and not re.match(
                r'^([A-Z_][A-Z0-9_]*=\S+\s*)+$', launcher) else 0)
        return check_other_program(command, self.env)

    def expect_refusals(self, block: Block) -> int:
        """Offline (or on a CPU-only build), every command of the block stops with the package's one-line error;
        other programs are checked as check-only blocks are."""
        count = 0
        if block.language != 'bash':
            raise AssertionError('{} marks only bash and python blocks'.format(block.marker))
        for command in logical_commands(block.text):
            argv = kobert_argv(command)
            if argv is None:
                count += self.check_only(command)
                continue
            result = self.shell(command, check=False)
            name = next(word for word in argv if not word.startswith('-'))
            errors = [line for line in result.stderr.splitlines()
                      if line.startswith('kobert-gluon {}: error:'.format(name))]
            assert result.returncode == 2 and len(errors) == 1 and 'Traceback' not in result.stderr, \
                '{}: expected the one-line error, got exit {}:\n{}'.format(command, result.returncode, result.stderr)
            count += 1
        return count

    def console(self, block: Block) -> int:
        runs = []  # (command, expected output lines)
        for line in block.text.splitlines():
            if line.startswith('$ '):
                runs.append((line[2:], []))
            else:
                assert runs, 'a console block starts with a `$ ` command: ' + line
                runs[-1][1].append(line)
        for command, expected in runs:
            result = self.shell(command)
            assert output_matches('\n'.join(expected), result.stdout), \
                '$ {}\nexpected:\n{}\ngot:\n{}'.format(command, '\n'.join(expected), result.stdout)
        return len(runs)

    # --- the server --------------------------------------------------------------------------------------------

    def start_server(self, block: Block) -> int:
        (command,) = logical_commands(block.text)
        assert kobert_argv(command)[0] == 'serve', command
        self.server = subprocess.Popen(['bash', '-c', 'exec ' + command + ' --port 0'], cwd=str(self.folder),
                                       env=self.env, stderr=subprocess.PIPE, text=True)
        line = self.server.stderr.readline()
        found = re.search(r'http://(127\.0\.0\.1:\d+)', line)
        assert found, 'the server said: ' + line + (self.server.stderr.read() if self.server.poll() else '')
        self.server_address = found.group(1)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen('http://{}/v2/health/ready'.format(self.server_address), timeout=5) as r:
                    if r.status == 200:
                        return 1
            except OSError:
                pass
            assert self.server.poll() is None and time.monotonic() < deadline, 'the server never became ready'
            time.sleep(0.2)

    def stop(self):
        """At the end of the page: the server stops cleanly on SIGTERM; the Python session ends."""
        if self.python is not None:
            self.python.stdin.close()
            self.python.wait(60)
            self.python = None
        if self.server is not None:
            server, self.server = self.server, None
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(60)
            finally:
                if server.poll() is None:
                    server.kill()
            assert code == 0, 'the server ended with exit status {} on SIGTERM: {}'.format(code, server.stderr.read())

    # --- python ------------------------------------------------------------------------------------------------

    def ask(self, mode: str, source: str):
        if self.python is None:
            self.python = subprocess.Popen([sys.executable, str(SESSION_SCRIPT)], cwd=str(self.folder),
                                           env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.python.stdin.write(json.dumps({'mode': mode, 'source': source}) + '\n')
        self.python.stdin.flush()
        answer = self.python.stdout.readline()
        assert answer, 'the page\'s Python session ended (exit status {})'.format(self.python.poll())
        return json.loads(answer)

    def python_block(self, block: Block) -> int:
        if block.language == 'python':
            answer = self.ask('exec', block.text)
            error = answer['error']
            if block.marker:
                assert error and 'KobertGluonError' in error['mro'], \
                    'expected the package\'s error (offline, or without a GPU), got: {}'.format(
                        error['traceback'] if error else 'no error')
            else:
                assert error is None, error['traceback']
            return 1
        import doctest
        examples = doctest.DocTestParser().get_examples(block.text)
        for example in examples:
            answer = self.ask('single', example.source)
            error = answer['error']
            if example.exc_msg is not None:
                assert error, '>>> {}expected {}, got no error'.format(example.source, example.exc_msg)
                shown = [error['type'] + ': ' + error['message'], error['name'] + ': ' + error['message']]
                assert any(output_matches(example.exc_msg, text) for text in shown), \
                    '>>> {}expected {}got {}'.format(example.source, example.exc_msg, shown[0])
                continue
            assert error is None, '>>> {}{}'.format(example.source, error['traceback'])
            assert output_matches(example.want, answer['output']), \
                '>>> {}expected:\n{}got:\n{}'.format(example.source, example.want, answer['output'])
        return len(examples)

    def close(self):
        for process in (self.python, self.server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope='module')
def page_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('docs-examples')
    runs: Dict[str, PageRun] = {}

    def run_of(page):
        if page not in runs:
            runs[page] = PageRun(page, root)
        return runs[page]
    yield run_of
    for run in runs.values():
        run.close()


# ----- the tests -----------------------------------------------------------------------------------------------


def test_every_page_and_block_is_read():
    """README.md and every page of the site are read, and every fenced block is code that runs or a shown
    format: nothing can hide from the examples test under an unknown fence."""
    import yaml

    def nav_pages(entries):
        for entry in entries:
            for value in (entry.values() if isinstance(entry, dict) else [entry]):
                yield from nav_pages(value) if isinstance(value, list) else [value]
    generated = {'reference/api.md', 'reference/cli.md'}  # written at build time: no file, no examples
    site = set(nav_pages(yaml.safe_load((REPO / 'mkdocs.yml').read_text(encoding='utf-8'))['nav']))
    read = {str(page.relative_to(REPO / 'docs')) for page in PAGES[1:]}
    assert PAGES[0].name == 'README.md' and read == site - generated, (read, site)
    pages_with_examples = {block.page for block in RUN_BLOCKS}
    assert 'README.md' in pages_with_examples and len(pages_with_examples) >= 15
    # mkdocs --strict checks the site's links; the README's into the site are checked here
    for target in re.findall(r'\]\((docs/[^)#]+)(?:#[^)]*)?\)', PAGES[0].read_text(encoding='utf-8')):
        assert (REPO / target).is_file(), 'README.md links to {}, which does not exist'.format(target)
    for block in ALL_BLOCKS:
        assert block.language in RUN_LANGUAGES + SHOWN_LANGUAGES, \
            '{}: fence language {!r} (use one of {})'.format(block.id, block.language, RUN_LANGUAGES + SHOWN_LANGUAGES)
        if block.language == 'text':
            first = block.text.lstrip().split('\n')[0]
            assert not re.match(r'(\$ |>>> |kobert-gluon |python |pip )', first), \
                '{}: code in a text block: {}'.format(block.id, first)


@pytest.mark.parametrize('block', RUN_BLOCKS, ids=[block.id for block in RUN_BLOCKS])
def test_docs_example(block, page_runs):
    ran = page_runs(block.page).run(block)
    assert ran > 0, '{}: nothing in this block was run or checked'.format(block.id)
