"""Guest side of the Python sandbox: runs notebook-style cells and function handlers.

The host calls dispatch() through the C entry shim with UTF-8 JSON in and out. Errors in user
code are part of a normal response; an exception escaping dispatch() means a fault here.
"""

import ast
import asyncio
import builtins
import importlib
import inspect
import json
import linecache
import os
import sys
import time
import traceback

WORKSPACE = '/workspace'
STDLIB_ZIP = '/usr/local/lib/python311.zip'

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
    sys.path[:] = [WORKSPACE, STDLIB_ZIP]
    sys.dont_write_bytecode = True
    if os.path.isdir(WORKSPACE):
        os.chdir(WORKSPACE)
    _install_exit_builtins()
    asyncio.set_event_loop_policy(SandboxEventLoopPolicy())
    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    # Listing the zip reads its whole directory; done now, the snapshot carries the result.
    _stdlib_modules()


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
    if op == OP_RUN_CELL:
        response = _run_cell(request)
    elif op == OP_RUN_HANDLER:
        response = _run_handler(request)
    elif op == OP_INFO:
        response = _info()

    else:
        raise ValueError(f'unknown operation {op}')
    return _encode(response)


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
        import pkgutil
        names = {m.name for m in pkgutil.iter_modules([STDLIB_ZIP])}
        names.update(sys.builtin_module_names)
        _stdlib_module_names = sorted(n for n in names if not n.startswith('_'))
    return list(_stdlib_module_names)
