#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wasm-rt-impl.h"
#include "sandbox_shim_internal.h"

static pthread_once_t module_once = PTHREAD_ONCE_INIT;

static void init_module_once(void) {
  wasm_rt_init();
  SF_MODULE_INIT();
}

uint32_t sf_abi_version(void) { return SF_ABI_VERSION; }
const char* sf_module_name(void) { return SF_MODULE_NAME; }

uint32_t sf_import_count(void) { return sf_glue_import_count; }
const char* sf_import_module(uint32_t index) { return index < sf_glue_import_count ? sf_glue_import_modules[index] : NULL; }
const char* sf_import_name(uint32_t index) { return index < sf_glue_import_count ? sf_glue_import_names[index] : NULL; }
const char* sf_import_signature(uint32_t index) { return index < sf_glue_import_count ? sf_glue_import_signatures[index] : NULL; }

uint32_t sf_export_count(void) { return sf_glue_export_count; }
const char* sf_export_name(uint32_t index) { return index < sf_glue_export_count ? sf_glue_export_names[index] : NULL; }
const char* sf_export_signature(uint32_t index) { return index < sf_glue_export_count ? sf_glue_export_signatures[index] : NULL; }

uint32_t sf_global_count(void) { return sf_glue_global_count; }

/*
 * The trap boundary. wasm2c traps longjmp to the thread's jump buffer, so the buffer of any guest call
 * already in progress on this thread (an import that calls back into the guest) is saved and restored
 * around this one. The runtime's jump buffer and depth counters are thread-local in our build, so
 * guests on different threads never see each other's traps.
 */
static uint32_t call_in_boundary(sf_instance* instance, uint32_t export_index, const uint64_t* args, uint64_t* result, int instantiate) {
  jmp_buf outer;
  memcpy(outer, wasm_rt_jmp_buf, sizeof(jmp_buf));
  const uint32_t outer_saved_depth = wasm_rt_saved_call_stack_depth;
  volatile uint32_t status = SF_TRAP_NONE;

  int trap = wasm_rt_impl_try();
  if (trap == 0) {
    if (instantiate) {
      SF_MODULE_INSTANTIATE(&instance->module, instance);
    } else {
      status = sf_glue_call_export(instance, export_index, args, result);
    }
  } else if (instance->host_trap != 0) {
    status = instance->host_trap;
    instance->host_trap = 0;
  } else {
    status = trap == WASM_RT_TRAP_EXHAUSTION ? SF_TRAP_STACK_EXHAUSTED : (uint32_t)trap;
  }

  memcpy(wasm_rt_jmp_buf, outer, sizeof(jmp_buf));
  wasm_rt_saved_call_stack_depth = outer_saved_depth;
  return status;
}

sf_instance* sf_instantiate(void* host, sf_import_fn dispatch, uint32_t* trap) {
  pthread_once(&module_once, init_module_once);
  sf_instance* instance = calloc(1, sizeof(sf_instance));
  if (instance == NULL) {
    *trap = SF_TRAP_OUT_OF_HOST_MEMORY;
    return NULL;
  }

  instance->host = host;
  instance->dispatch = dispatch;
  *trap = call_in_boundary(instance, 0, NULL, NULL, 1);
  if (*trap != SF_TRAP_NONE) {
    free(instance);
    return NULL;
  }

  return instance;
}

void sf_free(sf_instance* instance) {
  if (instance != NULL) {
    SF_MODULE_FREE(&instance->module);
    free(instance);
  }
}

uint32_t sf_call(sf_instance* instance, uint32_t export_index, const uint64_t* args, uint64_t* result) {
  return call_in_boundary(instance, export_index, args, result, 0);
}

void sf_request_trap(sf_instance* instance, uint32_t code) {
  instance->host_trap = code < SF_TRAP_HOST_FIRST ? SF_TRAP_HOST_FIRST : code;
}

void* sf_memory(sf_instance* instance) {
  return SF_MODULE_MEMORY(&instance->module);
}

uint32_t sf_memory_grow(sf_instance* instance, uint32_t delta_pages) {
  return wasm_rt_grow_memory(SF_MODULE_MEMORY(&instance->module), delta_pages);
}

void sf_globals_get(sf_instance* instance, uint64_t* values) { sf_glue_globals_get(instance, values); }
void sf_globals_set(sf_instance* instance, const uint64_t* values) { sf_glue_globals_set(instance, values); }
