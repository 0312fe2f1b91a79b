"""Guest side of the Python sandbox: runs notebook-style cells and function handlers, and
unpacks the packages the host installs.

The host calls dispatch() through the C entry shim with UTF-8 JSON in and out. Errors in user
code are part of a normal response; an exception escaping dispatch() means a fault here.
"""

import ast
import asyncio
import base64
import builtins
import csv
import hashlib
import importlib
import inspect
import io
import json
import linecache
import os
import pkgutil
import re
import shutil
import sys
import time
import traceback
import zipfile

WORKSPACE = '/workspace'
STDLIB_ZIP = '/usr/local/lib/python311.zip'
# Packages installed into the session, saved with it. They come before the bundled packages so
# that an installed version wins over a bundled one.
PACKAGES = '/packages'
BUNDLED_PACKAGES_ZIP = '/usr/local/lib/python3.11/site-packages.zip'

# Imported during initialize() so that a memory snapshot taken right after it already holds
# them, which makes these imports free in every session restored from that snapshot.
PRELOADED_MODULES = (
    'json', 're', 'math', 'collections', 'itertools', 'functools', 'datetime', 'random',
    'asyncio', 'traceback', 'linecache', 'ast', 'io', 'os',
)

# A result is shown to a model or a person; megabytes of repr help neither and cost a lot.
MAX_REPR_CHARS = 100_000
MAX_JSON_CHARS = 1_000_000

OP_RUN_CELL = 1
OP_RUN_HANDLER = 2
OP_INFO = 3

# Code from the stdlib zip, this module included, is runtime machinery, not the user's.
_RUNTIME_PREFIX = STDLIB_ZIP + '/'
_OWN_FILE = inspect.currentframe().f_code.co_filename


class _SleepOnlySelector:
    """Selector for an event loop without sockets: waiting only ever means sleeping."""

    def select(self, timeout=None):
        if timeout is None:
            raise RuntimeError('event loop would wait forever: no I/O can wake it in the sandbox')
        if timeout > 0:
            time.sleep(timeout)
        return []


class SandboxEventLoop(asyncio.BaseEventLoop):
    """The default selector loop needs a socket pair to wake itself, which WASI cannot create.

    Only timers, futures and tasks are needed by code that runs here, so a loop that sleeps
    until its next timer is enough.
    """

    def __init__(self):
        super().__init__()
        self._selector = _SleepOnlySelector()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass


class SandboxEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = SandboxEventLoop


class HandlerContext:
    """The subset of the AWS Lambda context object that handlers commonly use."""

    def __init__(self, context):
        self.aws_request_id = self.request_id = str(context.get('request_id', ''))
        self.function_name = str(context.get('function_name', ''))
        self._deadline_ms = context.get('deadline_ms')

    def get_remaining_time_in_millis(self):
        if self._deadline_ms is None:
            return 0
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self):
        return (f'<HandlerContext request_id={self.request_id!r} '
                f'function_name={self.function_name!r}>')


def initialize():
    sys.path[:] = [WORKSPACE, STDLIB_ZIP, PACKAGES, BUNDLED_PACKAGES_ZIP]
    sys.dont_write_bytecode = True
    if os.path.isdir(WORKSPACE):
        os.chdir(WORKSPACE)
    _install_exit_builtins()
    asyncio.set_event_loop_policy(SandboxEventLoopPolicy())
    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    # Opening a zip reads its whole directory; done now, the snapshot carries the result.
    _stdlib_modules()
    pkgutil.get_importer(BUNDLED_PACKAGES_ZIP)


class _Quitter:
    # Without the site module exit() and quit() would be missing, yet people call them. The
    # site module's version also closes sys.stdin, which would outlive the cell here.

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'Use {self.name}() to raise SystemExit'

    # A builtin raises without adding a frame of this module to the user's traceback.
    __call__ = staticmethod(sys.exit)


def _install_exit_builtins():
    builtins.exit = _Quitter('exit')
    builtins.quit = _Quitter('quit')


_seeded = False


def _seed_once():
    # The host boots the interpreter with fixed entropy so that every process builds the same base
    # image; each session draws its own before running any of its code.
    global _seeded
    if not _seeded:
        import random
        random.seed()
        _seeded = True


def dispatch(op, data):
    request = json.loads(data) if data else {}
    if op in (OP_RUN_CELL, OP_RUN_HANDLER):
        _seed_once()
        _reset_stdin()
    if op == OP_RUN_CELL:
        response = _run_cell(request)
    elif op == OP_RUN_HANDLER:
        response = _run_handler(request)
    elif op == OP_INFO:
        response = _info()

    else:
        raise ValueError(f'unknown operation {op}')
    return _encode(response)


def _reset_stdin():
    """Gives each call a fresh reader of its own input: what an earlier call left buffered must not leak into it."""
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, 'rb', closefd=False)), encoding='utf-8', errors='surrogateescape')


def failure(exc):
    """Response for an exception that escaped dispatch(), or None if it is a fault here."""
    if isinstance(exc, (TimeoutError, MemoryError, KeyboardInterrupt)):
        return _encode({'result': None, 'error': _describe_error(exc, None)})
    return None


def _encode(response):
    # Lone surrogates cannot be encoded; a replacement character beats losing the response.
    return json.dumps(response, ensure_ascii=False).encode('utf-8', 'replace')


def _main_namespace():
    return sys.modules['__main__'].__dict__


def _run_cell(request):
    source = request.get('code', '')
    filename = request.get('filename') or '<cell>'
    try:
        value = _execute(source, filename)
    except BaseException as exc:
        return {'result': None, 'error': _describe_error(exc, source)}
    if value is None:
        return {'result': None, 'error': None}
    return {'result': _describe_value(value, strict_json=True), 'error': None}


def _run_handler(request):
    source = request.get('code', '')
    filename = request.get('filename') or '<handler>'
    try:
        _execute(source, filename, keep_last_value=False)
        handler = _main_namespace().get('handler')
        if not callable(handler):
            return {'result': None, 'error': {
                'type': 'HandlerNotFound',
                'message': 'no handler function found: define `def handler(event, context):`',
                'traceback': '',
            }}
        value = handler(request.get('event'), HandlerContext(request.get('context') or {}))
        if inspect.isawaitable(value):
            value = _run_awaitable(value)
    except BaseException as exc:
        return {'result': None, 'error': _describe_error(exc, source)}
    return {'result': _describe_value(value, strict_json=False), 'error': None}


def _execute(source, filename, keep_last_value=True):
    """Runs source in __main__ the way a notebook runs a cell, returning the last expression."""
    _remember_source(filename, source)
    namespace = _main_namespace()
    tree = ast.parse(source, filename, 'exec')
    last = None
    if keep_last_value and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    if tree.body:
        _evaluate(compile(tree, filename, 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
    if last is None:
        return None
    return _evaluate(compile(last, filename, 'eval', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT),
                     namespace)


def _evaluate(code, namespace):
    value = eval(code, namespace)
    if code.co_flags & inspect.CO_COROUTINE:
        value = _run_awaitable(value)
    return value


_loop = None


def _run_awaitable(awaitable):
    # One loop for the whole session, so tasks started by one cell keep running in the next.
    # It is ours rather than the policy's: asyncio.run() in a cell unsets the current loop.
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = SandboxEventLoop()
    return _loop.run_until_complete(awaitable)


def _remember_source(filename, source):
    # Tracebacks, warnings and inspect read source lines through linecache.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _describe_value(value, strict_json):
    """repr and type of a value, and its JSON form when it has one.

    A cell's value has a JSON form only if json encodes it as it is. A handler's return value
    always has one: like serverless runtimes, unknown types fall back to str().
    """
    text = _safe_repr(value)
    described = {'repr': text, 'type': _type_name(value)}
    try:
        encoded = json.dumps(value, allow_nan=False, default=None if strict_json else str)
    except (TypeError, ValueError, RecursionError):
        encoded = None if strict_json else json.dumps(text)
    if encoded is not None and len(encoded) <= MAX_JSON_CHARS:
        described['json'] = json.loads(encoded)
    return described


def _safe_repr(value):
    try:
        text = repr(value)
    except Exception as exc:
        text = f'<repr failed: {type(exc).__name__}: {exc}>'
    if len(text) > MAX_REPR_CHARS:
        text = text[:MAX_REPR_CHARS] + f'... [{len(text) - MAX_REPR_CHARS} more characters]'
    return text


def _type_name(value):
    cls = type(value)
    if cls.__module__ in ('builtins', '__main__'):
        return cls.__qualname__
    return f'{cls.__module__}.{cls.__qualname__}'


def _describe_error(exc, source):
    if isinstance(exc, SyntaxError) and exc.text is None and source and exc.lineno:
        lines = source.splitlines()
        if 0 < exc.lineno <= len(lines):
            exc.text = lines[exc.lineno - 1] + '\n'
    error = {
        'type': _type_name(exc),
        'message': _safe_message(exc),
        'traceback': _format_traceback(exc),
    }
    if isinstance(exc, SyntaxError):
        error['line'] = exc.lineno
        error['offset'] = exc.offset
    elif isinstance(exc, SystemExit):
        code = exc.code
        error['code'] = code if code is None or isinstance(code, (int, str)) else repr(code)
        error['message'] = '' if code is None else str(code)
    return error


def _safe_message(exc):
    try:
        return str(exc)
    except Exception:
        return f'<unprintable {type(exc).__name__}>'


def _format_traceback(exc):
    """Formats exc as Python would, minus the runtime frames that led into user code.

    Frames of this module are dropped wherever they appear, in chained exceptions too. If no
    frame is left (a syntax error, say), the traceback is only the error itself.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_RUNTIME_PREFIX):
        tb = tb.tb_next
    root = traceback.TracebackException(type(exc), exc, tb, compact=True)
    pending, seen = [root], set()
    while pending:
        te = pending.pop()
        if id(te) in seen:
            continue
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list(
            [frame for frame in te.stack if frame.filename != _OWN_FILE])
        pending.extend(t for t in (te.__cause__, te.__context__) if t is not None)
        pending.extend(te.exceptions or ())
    return ''.join(root.format())


def _info():
    return {
        'version': sys.version,
        'implementation': {
            'name': sys.implementation.name,
            'version': '.'.join(map(str, sys.version_info[:3])),
            'platform': sys.platform,
        },
        'modules': _stdlib_modules(),
    }


_stdlib_module_names = None


def _stdlib_modules():
    global _stdlib_module_names
    if _stdlib_module_names is None:
        names = {m.name for m in pkgutil.iter_modules([STDLIB_ZIP])}
        names.update(sys.builtin_module_names)
        _stdlib_module_names = sorted(n for n in names if not n.startswith('_'))
    return list(_stdlib_module_names)


# Package installation. The host resolves, downloads and verifies wheels; the guest unpacks them
# into PACKAGES, because only the guest's own file calls reach that folder, and then makes the
# running interpreter see them.

def installed_packages():
    """The distributions installed into the session, as {'name', 'version'} dicts."""
    found = []
    for entry in sorted(os.listdir(PACKAGES)):
        if entry.endswith('.dist-info'):
            fields = _metadata_fields(os.path.join(PACKAGES, entry))
            if 'name' in fields and 'version' in fields:
                found.append(fields)
    return found


def install_wheels(plan):
    """Installs wheels whose bytes arrive on stdin one after another, in the order of the plan.

    plan is JSON: a list of {name, version, dist_info, size, requested}. Each wheel replaces any
    installed version of its project. Returns what was installed and which of its modules were
    already imported, since those keep running the code they were imported with.
    """
    wheels = json.loads(plan)
    data = _read_stdin(sum(wheel['size'] for wheel in wheels))
    installed, top_level, offset = [], set(), 0
    for wheel in wheels:
        blob = data[offset:offset + wheel['size']]
        offset += wheel['size']
        top_level.update(_uninstall(wheel['name']))
        result, modules = _install_wheel(blob, wheel)
        installed.append(result)
        top_level.update(modules)
    importlib.invalidate_caches()
    return {'installed': installed, 'stale_modules': sorted(m for m in top_level if m in sys.modules)}


def _read_stdin(size):
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(0, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError(f'standard input ended {remaining} bytes early')
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


def _canonical_name(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def _metadata_fields(dist_info):
    fields = {}
    try:
        with open(os.path.join(dist_info, 'METADATA'), encoding='utf-8') as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(':')
                if key in ('Name', 'Version'):
                    fields.setdefault(key.lower(), value.strip())
    except OSError:
        pass
    return fields


def _package_path(relative):
    parts = relative.split('/')
    if relative.startswith('/') or '\\' in relative or any(p in ('', '.', '..') for p in parts):
        raise ValueError(f'unsafe path in wheel: {relative!r}')
    return os.path.join(PACKAGES, *parts)


def _top_level(relative):
    top = relative.split('/', 1)[0]
    if top.endswith(('.dist-info', '.data')):
        return None
    return top[:-3] if top.endswith('.py') else top


def _uninstall(name):
    """Removes every installed version of a project; returns its top-level module names."""
    removed = set()
    for entry in os.listdir(PACKAGES):
        dist_info = os.path.join(PACKAGES, entry)
        if not entry.endswith('.dist-info') or \
                _canonical_name(_metadata_fields(dist_info).get('name', '')) != _canonical_name(name):
            continue
        folders = set()
        try:
            with open(os.path.join(dist_info, 'RECORD'), encoding='utf-8', newline='') as f:
                rows = list(csv.reader(f))
        except OSError:
            rows = []
        for row in rows:
            if not row or row[0].split('/', 1)[0] == entry:
                continue
            try:
                path = _package_path(row[0])
            except ValueError:
                continue
            if os.path.isfile(path):
                os.remove(path)
            folders.add(os.path.dirname(path))
            top = _top_level(row[0])
            if top:
                removed.add(top)
        shutil.rmtree(dist_info)
        for folder in sorted(folders, key=len, reverse=True):
            while folder != PACKAGES and os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
                folder = os.path.dirname(folder)
    return removed


def _install_wheel(blob, wheel):
    dist_info = wheel['dist_info']
    data_dir = dist_info[:-len('.dist-info')] + '.data/'
    record = dist_info + '/RECORD'
    rows, modules, total = [], set(), 0

    def write(relative, content):
        nonlocal total
        path = _package_path(relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b'=')
        rows.append((relative, 'sha256=' + digest.decode('ascii'), str(len(content))))
        total += len(content)

    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or name == record:
                continue
            if name.startswith(data_dir):
                # Scripts, headers and data files have no place to go in the sandbox.
                scheme, _, name = name[len(data_dir):].partition('/')
                if scheme not in ('purelib', 'platlib'):
                    continue
            write(name, archive.read(info))
            top = _top_level(name)
            if top:
                modules.add(top)
    write(dist_info + '/INSTALLER', b'sandbox\n')
    if wheel['requested']:
        write(dist_info + '/REQUESTED', b'')
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerows(rows)
    writer.writerow((record, '', ''))
    content = buffer.getvalue().encode('utf-8')
    with open(_package_path(record), 'wb') as f:
        f.write(content)
    total += len(content)
    return {'name': wheel['name'], 'version': wheel['version'], 'files': len(rows) + 1,
            'bytes': total}, modules
