/*
 * The native surface of a guest library: a WebAssembly module translated by wasm2c, compiled together
 * with this shim. Only what must be native lives here: instantiation, the setjmp/longjmp trap boundary
 * (a trap must never unwind through a managed frame), and thunks that forward every import to one
 * host callback. Everything else (WASI, limits, snapshots) is implemented by the host.
 */
#ifndef SANDBOX_SHIM_H_
#define SANDBOX_SHIM_H_

#include <stdint.h>

#define SF_API __attribute__((visibility("default")))

/* Bumped whenever a signature below changes, so the host refuses a library it does not understand. */
#define SF_ABI_VERSION 1

/* Trap codes reported by sf_call and sf_instantiate; the first values match wasm_rt_trap_t. */
enum {
  SF_TRAP_NONE = 0,
  SF_TRAP_OUT_OF_BOUNDS = 1,
  SF_TRAP_INT_OVERFLOW = 2,
  SF_TRAP_DIV_BY_ZERO = 3,
  SF_TRAP_INVALID_CONVERSION = 4,
  SF_TRAP_UNREACHABLE = 5,
  SF_TRAP_CALL_INDIRECT = 6,
  SF_TRAP_UNCAUGHT_EXCEPTION = 7,
  SF_TRAP_STACK_EXHAUSTED = 8,
  SF_TRAP_OUT_OF_HOST_MEMORY = 64,
  SF_TRAP_BAD_EXPORT = 65,
  /* Codes from 128 up are the host's own, passed to sf_request_trap. */
  SF_TRAP_HOST_FIRST = 128,
};

typedef struct sf_instance sf_instance;

/*
 * Called for every import the guest makes. `index` identifies the import (see sf_import_name);
 * `args` holds its arguments widened to 64 bits (floats bit-cast). The return value is narrowed to the
 * import's result type. To end the guest call from inside an import, call sf_request_trap and return.
 */
typedef uint64_t (*sf_import_fn)(void* host, uint32_t index, const uint64_t* args);

SF_API uint32_t sf_abi_version(void);
SF_API const char* sf_module_name(void);

SF_API uint32_t sf_import_count(void);
SF_API const char* sf_import_module(uint32_t index);
SF_API const char* sf_import_name(uint32_t index);
SF_API const char* sf_import_signature(uint32_t index);

SF_API uint32_t sf_export_count(void);
SF_API const char* sf_export_name(uint32_t index);
/* Result then parameters, one letter each: i=i32 I=i64 f=f32 F=f64 v=no result; e.g. "i:iI". */
SF_API const char* sf_export_signature(uint32_t index);

SF_API uint32_t sf_global_count(void);

/* Creates an instance; on failure returns NULL and stores the trap code in *trap. */
SF_API sf_instance* sf_instantiate(void* host, sf_import_fn dispatch, uint32_t* trap);
SF_API void sf_free(sf_instance* instance);

/* Calls an export inside a trap boundary; returns SF_TRAP_NONE or the trap that ended the call. */
SF_API uint32_t sf_call(sf_instance* instance, uint32_t export_index, const uint64_t* args, uint64_t* result);

/* From inside an import callback: make the current guest call end with this trap code (>= 128). */
SF_API void sf_request_trap(sf_instance* instance, uint32_t code);

/*
 * The linear memory: { uint8_t* data; uint32_t pages; uint32_t max_pages; uint32_t size; }.
 * `data` moves when memory grows. Setting `size` to 0 from another thread makes the guest's next
 * memory access trap, which is how a runaway guest is stopped.
 */
SF_API void* sf_memory(sf_instance* instance);
SF_API uint32_t sf_memory_grow(sf_instance* instance, uint32_t delta_pages);

/* Mutable and immutable globals, widened to 64 bits, in declaration order. */
SF_API void sf_globals_get(sf_instance* instance, uint64_t* values);
SF_API void sf_globals_set(sf_instance* instance, const uint64_t* values);

#endif
