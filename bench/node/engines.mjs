// Runs benchmark code for the harness in two engines inside this one Node process: QuickJS from the
// quickjs-wasi package (the very quickjs.wasm the sandbox compiles ahead of time, here run by V8's
// WebAssembly tiers) and V8 itself. One JSON request per stdin line, one JSON reply per stdout line:
//   {"engine": "quickjs" | "v8", "code": "..."}  ->  {"ok": true, "value": ...} | {"ok": false, "error": "..."}
// The process stays up between requests, so both engines are as warm as a sandbox reused across calls.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { QuickJS } from 'quickjs-wasi';

// The sandbox runs QuickJS with a 512 KiB stack limit and an interrupt handler (for timeouts); the same
// settings here keep the two QuickJS runs doing the same work. The package's own clock counts whole
// milliseconds, too coarse to time a 40 ms body; the sandbox's WASI clock has nanoseconds, and so does this one.
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const quickjs = await QuickJS.create({
  wasm: await readFile(fileURLToPath(import.meta.resolve('quickjs-wasi/quickjs.wasm'))),
  maxStackSize: 512 * 1024,
  interruptHandler: () => false,
  wasi: (memory) => ({
    clock_time_get(clockId, _precision, resultPointer) {
      if (clockId !== CLOCK_REALTIME && clockId !== CLOCK_MONOTONIC) {
        return 52; // ENOSYS
      }

      const nanoseconds = clockId === CLOCK_MONOTONIC ? process.hrtime.bigint() : BigInt(Date.now()) * 1_000_000n;
      new DataView(memory.buffer).setBigUint64(resultPointer, nanoseconds, true);
      return 0;
    },
  }),
});

function run(engine, code) {
  if (engine === 'v8') {
    // This process's own global scope: a separate vm context would send every global lookup
    // through the context's interceptors and make V8 look several times slower than it is.
    return vm.runInThisContext(code, { filename: '<bench>' });
  }

  const handle = quickjs.evalCode(code, '<bench>');
  try {
    return quickjs.dump(handle);
  } finally {
    handle.dispose();
  }
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  let reply;
  try {
    const { engine, code } = JSON.parse(line);
    const value = run(engine, code);
    reply = { ok: true, value: typeof value === 'number' || typeof value === 'string' ? value : null };
  } catch (error) {
    reply = { ok: false, error: String(error?.stack ?? error) };
  }

  process.stdout.write(JSON.stringify(reply) + '\n');
}

quickjs.dispose();
