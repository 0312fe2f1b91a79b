// The guest side of the JavaScript runtime: console, timers, a Node-style `fs`/`path`/`process`, and
// the driver the host calls to settle a cell (await its value, run its timers, format its result).
// It runs once when the runtime boots, so its state is part of every sandbox's base image.
(() => {
  'use strict';
  const host = globalThis.__sandboxHost;
  delete globalThis.__sandboxHost;

  // ---- Formatting values the way Node's REPL and console do ----
  const MAX_ITEMS = 100;
  const MAX_STRING = 10000;

  function typeName(value) {
    if (value === null) return 'null';
    const type = typeof value;
    if (type !== 'object' && type !== 'function') return type;
    if (Array.isArray(value)) return 'Array';
    const ctor = Object.getPrototypeOf(value)?.constructor;
    return ctor && typeof ctor.name === 'string' && ctor.name ? ctor.name : 'Object';
  }

  function quote(text) {
    return "'" + text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
  }

  function isIdentifier(key) {
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key);
  }

  function inspect(value, depth = 2, seen = new Set(), nested = false) {
    switch (typeof value) {
      case 'string':
        if (!nested) return value;
        return quote(value.length > MAX_STRING ? value.slice(0, MAX_STRING) + '...' : value);
      case 'number':
        return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint':
        return `${value}n`;
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return String(value);
      case 'symbol':
        return value.toString();
      case 'function': {
        const kind = /^class\s/.test(Function.prototype.toString.call(value)) ? 'class' : 'Function';
        return value.name ? `[${kind}: ${value.name}]` : `[${kind} (anonymous)]`;
      }
    }
    if (value === null) return 'null';
    if (seen.has(value)) return '[Circular]';
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}`.trimEnd() : String(value);
    if (value instanceof Date) return isNaN(value) ? 'Invalid Date' : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (value instanceof Promise) return 'Promise { <pending> }';
    if (depth < 0) return Array.isArray(value) ? '[Array]' : `[${typeName(value)}]`;
    seen.add(value);
    try {
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        const items = Array.from(value.length > MAX_ITEMS ? Array.prototype.slice.call(value, 0, MAX_ITEMS) : value, (v) => inspect(v, depth - 1, seen, true));
        if (value.length > MAX_ITEMS) items.push(`... ${value.length - MAX_ITEMS} more items`);
        const prefix = Array.isArray(value) ? '' : `${typeName(value)}(${value.length}) `;
        return wrap(prefix + '[', items, ']');
      }
      if (value instanceof Map) {
        const items = [...value].slice(0, MAX_ITEMS).map(([k, v]) => `${inspect(k, depth - 1, seen, true)} => ${inspect(v, depth - 1, seen, true)}`);
        return wrap(`Map(${value.size}) {`, items, '}');
      }
      if (value instanceof Set) {
        const items = [...value].slice(0, MAX_ITEMS).map((v) => inspect(v, depth - 1, seen, true));
        return wrap(`Set(${value.size}) {`, items, '}');
      }
      const keys = Object.keys(value);
      const items = keys.slice(0, MAX_ITEMS).map((k) => `${isIdentifier(k) ? k : quote(k)}: ${inspect(value[k], depth - 1, seen, true)}`);
      if (keys.length > MAX_ITEMS) items.push(`... ${keys.length - MAX_ITEMS} more properties`);
      const name = typeName(value);
      return wrap(name === 'Object' ? '{' : `${name} {`, items, '}');
    } finally {
      seen.delete(value);
    }
  }

  function wrap(open, items, close) {
    if (items.length === 0) return open + close;
    const oneLine = `${open} ${items.join(', ')} ${close}`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    return `${open}\n${items.map((i) => '  ' + i.replace(/\n/g, '\n  ')).join(',\n')}\n${close}`;
  }

  function format(args) {
    if (typeof args[0] === 'string' && /%[sdifjoO%]/.test(args[0]) && args.length > 1) {
      let index = 1;
      const text = args[0].replace(/%[sdifjoO%]/g, (token) => {
        if (token === '%%') return '%';
        if (index >= args.length) return token;
        const arg = args[index++];
        switch (token) {
          case '%s': return typeof arg === 'string' ? arg : inspect(arg, 1, new Set(), true);
          case '%d': case '%i': return String(parseInt(arg, 10));
          case '%f': return String(parseFloat(arg));
          case '%j': try { return JSON.stringify(arg); } catch { return '[Circular]'; }
          default: return inspect(arg, 2, new Set(), true);
        }
      });
      return [text, ...args.slice(index).map((a) => inspect(a))].join(' ');
    }
    return args.map((a) => inspect(a)).join(' ');
  }

  // ---- Output ----
  const writeOut = (text) => { host.write('1', String(text)); };
  const writeErr = (text) => { host.write('2', String(text)); };
  const counters = new Map();
  const timers = new Map();
  let groupIndent = '';
  const line = (write) => (...args) => { write(groupIndent + format(args).replace(/\n/g, '\n' + groupIndent) + '\n'); };

  const console = {
    log: line(writeOut),
    info: line(writeOut),
    debug: line(writeOut),
    warn: line(writeErr),
    error: line(writeErr),
    trace: (...args) => line(writeErr)('Trace:', ...args, '\n' + (new Error().stack ?? '')),
    dir: (value) => writeOut(inspect(value) + '\n'),
    assert: (condition, ...args) => { if (!condition) line(writeErr)('Assertion failed' + (args.length ? ':' : ''), ...args); },
    count: (label = 'default') => { counters.set(label, (counters.get(label) ?? 0) + 1); line(writeOut)(`${label}: ${counters.get(label)}`); },
    countReset: (label = 'default') => counters.delete(label),
    time: (label = 'default') => timers.set(label, Date.now()),
    timeEnd: (label = 'default') => { if (timers.has(label)) { line(writeOut)(`${label}: ${Date.now() - timers.get(label)}ms`); timers.delete(label); } },
    timeLog: (label = 'default', ...args) => { if (timers.has(label)) line(writeOut)(`${label}: ${Date.now() - timers.get(label)}ms`, ...args); },
    group: (...args) => { if (args.length) line(writeOut)(...args); groupIndent += '  '; },
    groupEnd: () => { groupIndent = groupIndent.slice(2); },
    table: (data) => writeOut(table(data) + '\n'),
  };

  function table(data) {
    if (data === null || typeof data !== 'object') return inspect(data);
    const rows = Object.entries(data);
    const columns = [...new Set(rows.flatMap(([, row]) => (row !== null && typeof row === 'object' ? Object.keys(row) : ['Values'])))];
    const header = ['(index)', ...columns];
    const body = rows.map(([key, row]) => [key, ...columns.map((c) => (row !== null && typeof row === 'object' ? (c in row ? inspect(row[c], 0, new Set(), true) : '') : c === 'Values' ? inspect(row, 0, new Set(), true) : ''))]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const render = (cells) => '│ ' + cells.map((c, i) => c.padEnd(widths[i])).join(' │ ') + ' │';
    const rule = (l, m, r) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
    return [rule('┌', '┬', '┐'), render(header), rule('├', '┼', '┤'), ...body.map(render), rule('└', '┴', '┘')].join('\n');
  }

  // ---- Timers: run by the host's event loop between calls into the guest ----
  let nextTimerId = 1;
  const pendingTimers = new Map();
  function schedule(callback, delay, args, repeat) {
    if (typeof callback !== 'function') throw new TypeError('The callback must be a function');
    const id = nextTimerId++;
    const ms = Math.max(0, Number(delay) || 0);
    pendingTimers.set(id, { callback, args, due: Date.now() + ms, interval: repeat ? Math.max(1, ms) : 0 });
    return id;
  }

  // ---- Files: Node-style synchronous API over the sandbox's workspace ----
  function fsCall(op, payload) {
    const response = JSON.parse(host.fs(JSON.stringify({ op, ...payload })));
    if (response.error) {
      const error = new Error(`${response.error.code}: ${response.error.message}, ${op} '${payload.path ?? ''}'`);
      error.code = response.error.code;
      error.path = payload.path;
      throw error;
    }
    return response.value;
  }

  const utf8 = {
    encode(text) {
      const bytes = [];
      for (const ch of String(text)) {
        let cp = ch.codePointAt(0);
        if (cp < 0x80) bytes.push(cp);
        else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
        else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
        else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
      }
      return new Uint8Array(bytes);
    },
    decode(bytes) {
      let out = '';
      for (let i = 0; i < bytes.length;) {
        const b = bytes[i];
        let cp;
        let n;
        if (b < 0x80) { cp = b; n = 1; } else if (b >= 0xf0) { cp = b & 7; n = 4; } else if (b >= 0xe0) { cp = b & 15; n = 3; } else if (b >= 0xc0) { cp = b & 31; n = 2; } else { out += '\ufffd'; i++; continue; }
        for (let k = 1; k < n; k++) cp = (cp << 6) | ((bytes[i + k] ?? 0) & 63);
        out += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp);
        i += n;
      }
      return out;
    },
  };

  function toBase64(bytes) {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function encodingOf(options) {
    return typeof options === 'string' ? options : options?.encoding ?? null;
  }

  function toBytes(data, encoding) {
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (encoding === 'base64') return fromBase64(String(data));
    return utf8.encode(String(data));
  }

  // The working directory relative paths resolve against; process.chdir moves it, and it stays with the session.
  let cwd = '/workspace';
  const path = {
    sep: '/',
    delimiter: ':',
    normalize(p) {
      const absolute = p.startsWith('/');
      const parts = [];
      for (const part of p.split('/')) {
        if (part === '' || part === '.') continue;
        if (part === '..') { if (parts.length && parts[parts.length - 1] !== '..') parts.pop(); else if (!absolute) parts.push('..'); } else parts.push(part);
      }
      const joined = parts.join('/');
      return (absolute ? '/' : '') + joined || (absolute ? '/' : '.');
    },
    join: (...parts) => path.normalize(parts.filter((p) => p !== '').join('/') || '.'),
    resolve: (...parts) => path.normalize(parts.reduce((acc, p) => (p.startsWith('/') ? p : acc + '/' + p), cwd)),
    isAbsolute: (p) => p.startsWith('/'),
    dirname: (p) => { const n = path.normalize(p); const i = n.lastIndexOf('/'); return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i); },
    basename: (p, ext) => { const b = path.normalize(p).split('/').pop(); return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b; },
    extname: (p) => { const b = path.basename(p); const i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); },
    relative: (from, to) => {
      const a = path.resolve(from).split('/').filter(Boolean);
      const b = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
    },
  };
  path.posix = path;

  class Stats {
    constructor(info) { Object.assign(this, { size: info.size, mtimeMs: info.mtimeMs, mtime: new Date(info.mtimeMs) }); this._dir = info.isDirectory; }
    isDirectory() { return this._dir; }
    isFile() { return !this._dir; }
    isSymbolicLink() { return false; }
  }

  const isStdin = (file) => file === 0 || file === '/dev/stdin';

  const fs = {
    readFileSync(file, options) {
      const bytes = isStdin(file) ? fromBase64(host.stdin()) : fromBase64(fsCall('read', { path: path.resolve(String(file)) }));
      const encoding = encodingOf(options);
      if (encoding === 'base64') return toBase64(bytes);
      return encoding ? utf8.decode(bytes) : bytes;
    },
    writeFileSync(file, data, options) {
      fsCall('write', { path: path.resolve(String(file)), data: toBase64(toBytes(data, encodingOf(options))), append: false });
    },
    appendFileSync(file, data, options) {
      fsCall('write', { path: path.resolve(String(file)), data: toBase64(toBytes(data, encodingOf(options))), append: true });
    },
    existsSync: (file) => fsCall('exists', { path: path.resolve(String(file)) }),
    statSync: (file) => new Stats(fsCall('stat', { path: path.resolve(String(file)) })),
    readdirSync: (dir, options) => {
      const entries = fsCall('list', { path: path.resolve(String(dir)) });
      return options?.withFileTypes
        ? entries.map((e) => ({ name: e.name, isDirectory: () => e.isDirectory, isFile: () => !e.isDirectory }))
        : entries.map((e) => e.name);
    },
    mkdirSync: (dir, options) => { fsCall('mkdir', { path: path.resolve(String(dir)), recursive: !!options?.recursive }); },
    unlinkSync: (file) => { fsCall('remove', { path: path.resolve(String(file)), recursive: false, directory: false }); },
    rmdirSync: (dir) => { fsCall('remove', { path: path.resolve(String(dir)), recursive: false, directory: true }); },
    rmSync: (file, options) => {
      try { fsCall('remove', { path: path.resolve(String(file)), recursive: !!options?.recursive, directory: null }); } catch (e) { if (!(options?.force && e.code === 'ENOENT')) throw e; }
    },
    renameSync: (from, to) => { fsCall('rename', { path: path.resolve(String(from)), to: path.resolve(String(to)) }); },
    copyFileSync: (from, to) => { fs.writeFileSync(to, fs.readFileSync(from)); },
  };
  fs.promises = Object.fromEntries(
    Object.entries(fs).filter(([name]) => name.endsWith('Sync')).map(([name, fn]) => [name.slice(0, -4), async (...args) => fn(...args)]),
  );
  fs.promises.access = async (file) => { if (!fs.existsSync(file)) fs.statSync(file); };

  // ---- Randomness: Math.random and crypto draw from state the host seeds for each new sandbox ----
  // (the base image is booted with fixed entropy, so the engine's own seed would repeat in every session).
  const randomState = new Uint32Array(4);
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  function nextRandom() {
    const s = randomState;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  let seeded = false;
  function seedOnce() {
    if (seeded) return;
    randomState.set(new Uint32Array(fromBase64(host.random('16')).buffer));
    if (randomState.every((v) => v === 0)) randomState[0] = 1;
    seeded = true;
  }
  Math.random = () => { seedOnce(); return ((nextRandom() >>> 5) * 67108864 + (nextRandom() >>> 6)) / 9007199254740992; };
  const crypto = {
    getRandomValues(array) {
      if (!ArrayBuffer.isView(array)) throw new TypeError('getRandomValues expects a typed array');
      if (array.byteLength > 65536) throw new RangeError('getRandomValues can fill at most 65536 bytes at once');
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(fromBase64(host.random(String(array.byteLength))));
      return array;
    },
    randomUUID() {
      const b = crypto.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(text = '') { return utf8.encode(text); }
  }
  class TextDecoder {
    get encoding() { return 'utf-8'; }
    decode(bytes = new Uint8Array()) { return utf8.decode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer ?? bytes)); }
  }

  class ProcessExit extends Error {
    constructor(code) { super(`process.exit(${code})`); this.name = 'ProcessExit'; this.exitCode = code; }
  }

  const process = {
    argv: ['node', '/workspace/main.js'],
    env: {},
    platform: 'wasi',
    version: 'v0.0.0-quickjs',
    versions: {},
    cwd: () => cwd,
    chdir(dir) {
      const target = path.resolve(String(dir));
      if (!fs.statSync(target).isDirectory()) {
        const error = new Error(`ENOTDIR: not a directory, chdir '${cwd}' -> '${target}'`);
        error.code = 'ENOTDIR';
        throw error;
      }
      cwd = target;
    },
    exit: (code = 0) => { throw new ProcessExit(code); },
    hrtime: Object.assign(() => { const ns = BigInt(Math.round(performance.now() * 1e6)); return [Number(ns / 1000000000n), Number(ns % 1000000000n)]; }, { bigint: () => BigInt(Math.round(performance.now() * 1e6)) }),
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    stdout: { write: (text) => { writeOut(text); return true; } },
    stderr: { write: (text) => { writeErr(text); return true; } },
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0 }),
  };

  const builtins = { fs, 'fs/promises': fs.promises, path, process, console, crypto, util: { inspect: (v, o) => inspect(v, o?.depth ?? 2), format: (...a) => format(a) } };
  function builtin(name) {
    const key = name.startsWith('node:') ? name.slice(5) : name;
    if (!(key in builtins)) {
      const error = new Error(`Cannot find module '${name}': only ${Object.keys(builtins).join(', ')} and files in /workspace can be required (there is no network or npm)`);
      error.code = 'MODULE_NOT_FOUND';
      throw error;
    }
    return builtins[key];
  }

  const commonModule = { exports: {} };

  // Modules load afresh on each top-level require, so a later call sees edited files; within one load they are
  // shared, so modules requiring each other (even in a cycle) see one instance, as in Node.
  let loading = null;
  function resolveModule(name, baseDir) {
    let file = path.resolve(baseDir, name);
    if (!fs.existsSync(file) && fs.existsSync(file + '.js')) file += '.js';
    else if (fs.existsSync(file) && fs.statSync(file).isDirectory() && fs.existsSync(file + '/index.js')) file += '/index.js';
    return file;
  }

  function requireFrom(baseDir) {
    return (name) => {
      if (!(name.startsWith('./') || name.startsWith('../') || name.startsWith('/'))) return builtin(name);
      const file = resolveModule(name, baseDir);
      const outermost = loading === null;
      if (outermost) loading = new Map();
      try {
        if (loading.has(file)) return loading.get(file).exports;
        if (file.endsWith('.json')) return JSON.parse(fs.readFileSync(file, 'utf8'));
        const module = { exports: {}, id: file, filename: file };
        loading.set(file, module);
        // The wrapper shares the module's first line, so line numbers in errors match the file.
        const factory = (0, eval)('(function (module, exports, require, __filename, __dirname) {' + fs.readFileSync(file, 'utf8') + '\n})');
        factory(module, module.exports, requireFrom(path.dirname(file)), file, path.dirname(file));
        return module.exports;
      } finally {
        if (outermost) loading = null;
      }
    };
  }

  function require(name) {
    return requireFrom(process.cwd())(name);
  }

  const queueMicrotask = globalThis.queueMicrotask ?? ((fn) => { Promise.resolve().then(fn); });

  Object.assign(globalThis, {
    console,
    setTimeout: (fn, delay, ...args) => schedule(fn, delay, args, false),
    setInterval: (fn, delay, ...args) => schedule(fn, delay, args, true),
    setImmediate: (fn, ...args) => schedule(fn, 0, args, false),
    clearTimeout: (id) => pendingTimers.delete(id),
    clearInterval: (id) => pendingTimers.delete(id),
    clearImmediate: (id) => pendingTimers.delete(id),
    queueMicrotask,
    fs,
    path,
    process,
    require,
    module: commonModule,
    exports: commonModule.exports,
    TextEncoder,
    TextDecoder,
    crypto,
    global: globalThis,
  });

  // ---- The driver the host calls for each cell ----
  let current = null;

  function describeError(error) {
    if (error instanceof ProcessExit) {
      return { type: 'ProcessExit', message: `process.exit(${error.exitCode}) was called`, traceback: null };
    }
    if (error instanceof Error) {
      const stack = typeof error.stack === 'string' ? error.stack.trimEnd() : '';
      const type = error.name || typeName(error);
      const message = String(error.message ?? '');
      return { type, message, traceback: `${type}: ${message}${stack ? '\n' + stack : ''}` };
    }
    return { type: typeName(error), message: inspect(error, 2, new Set(), true), traceback: null };
  }

  function describeValue(value) {
    if (value === undefined) return null;
    const result = { repr: inspect(value, 2, new Set(), true), type: typeName(value) };
    if (typeof value !== 'function' && typeof value !== 'symbol') {
      try {
        const json = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
        if (json !== undefined) result.json = JSON.parse(json);
      } catch {
        // Not representable as JSON (e.g. circular); the repr still describes it.
      }
    }
    return result;
  }

  function findHandler(namespace) {
    const candidates = [namespace?.handler, namespace?.default?.handler, typeof namespace?.default === 'function' ? namespace.default : undefined, globalThis.handler, commonModule.exports?.handler, globalThis.exports?.handler];
    return candidates.find((c) => typeof c === 'function');
  }

  const driver = {
    // Called with what the cell evaluated to (or threw): a script's completion value, the promise of an
    // async script (top-level await), or a module's namespace promise.
    settle(ok, value, mode, invocationJson) {
      const isModule = mode === 'module';
      const state = { done: false, outcome: null };
      current = state;
      const main = ok ? Promise.resolve(value).then((v) => (mode === 'async' ? v?.value : v)) : Promise.reject(value);
      const withHandler = invocationJson === undefined ? main : main.then(async (namespace) => {
        const invocation = JSON.parse(invocationJson);
        const handler = findHandler(isModule ? namespace : undefined);
        if (!handler) {
          const error = new Error('Define a handler to call: `function handler(event, context) { ... }`, `module.exports.handler = ...`, or `export function handler(event, context)`.');
          error.name = 'HandlerNotFound';
          throw error;
        }
        const deadline = invocation.context.deadline_ms;
        const context = {
          awsRequestId: invocation.context.request_id,
          requestId: invocation.context.request_id,
          functionName: invocation.context.function_name,
          getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        };
        return handler(invocation.event, context);
      });
      withHandler.then(
        (v) => { state.outcome = { result: invocationJson === undefined && isModule ? null : describeValue(v), error: null }; state.done = true; },
        (e) => { state.outcome = { result: null, error: describeError(e) }; state.done = true; },
      );
    },
    // -2 when the cell finished and no timer is left, -1 when it is stuck waiting on nothing, else ms to the next timer.
    state() {
      if (pendingTimers.size === 0) return current?.done ? -2 : -1;
      if (current?.done && [...pendingTimers.values()].every((t) => t.interval)) {
        pendingTimers.clear();
        return -2;
      }
      const next = Math.min(...[...pendingTimers.values()].map((t) => t.due));
      return Math.max(0, next - Date.now());
    },
    fireTimers() {
      const now = Date.now();
      const due = [...pendingTimers.entries()].filter(([, t]) => t.due <= now).sort((a, b) => a[1].due - b[1].due);
      for (const [id, timer] of due) {
        if (!pendingTimers.has(id)) continue;
        if (timer.interval) timer.due = now + timer.interval; else pendingTimers.delete(id);
        try {
          timer.callback(...timer.args);
        } catch (error) {
          writeErr(`Uncaught ${describeError(error).traceback ?? inspect(error)}\n`);
        }
      }
    },
    takeResult() {
      const state = current;
      current = null;
      pendingTimers.clear();
      if (!state?.done) {
        return JSON.stringify({ result: null, error: { type: 'Error', message: 'The code is waiting on a promise that nothing will ever settle (no timers or pending work remain).', traceback: null } });
      }
      return JSON.stringify(state.outcome);
    },
    builtinSource(name) {
      const exports = Object.keys(builtin(name)).filter(isIdentifier);
      return `const m = globalThis.__sandbox.builtin(${JSON.stringify(name)});\nexport default m;\nexport const { ${exports.join(', ')} } = m;\n`;
    },
    builtin,
  };

  Object.defineProperty(globalThis, '__sandbox', { value: driver, enumerable: false });
})();
