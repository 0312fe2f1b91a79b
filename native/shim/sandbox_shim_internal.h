/* Shared by the shim and the generated glue of one guest module. */
#ifndef SANDBOX_SHIM_INTERNAL_H_
#define SANDBOX_SHIM_INTERNAL_H_

#include "sandbox_shim.h"
#include "guest_glue.h"

struct sf_instance {
  void* host;
  sf_import_fn dispatch;
  volatile uint32_t host_trap;
  SF_MODULE_INSTANCE_T module;
};

extern const uint32_t sf_glue_import_count;
extern const char* const sf_glue_import_modules[];
extern const char* const sf_glue_import_names[];
extern const char* const sf_glue_import_signatures[];
extern const uint32_t sf_glue_export_count;
extern const char* const sf_glue_export_names[];
extern const char* const sf_glue_export_signatures[];
extern const uint32_t sf_glue_global_count;

/* Returns 0, or SF_TRAP_BAD_EXPORT when the index is out of range. Runs inside the trap boundary. */
uint32_t sf_glue_call_export(sf_instance* instance, uint32_t index, const uint64_t* args, uint64_t* result);
void sf_glue_globals_get(sf_instance* instance, uint64_t* values);
void sf_glue_globals_set(sf_instance* instance, const uint64_t* values);

#endif
