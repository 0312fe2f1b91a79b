/*
 * Linear memory for guests, replacing wasm2c's realloc-based allocator. Each memory reserves its
 * largest possible size up front and commits pages as it grows, so its address never changes: the host
 * can then safely write into a running guest's memory from a watchdog thread (to raise a timeout
 * exception) and growth costs no copy. The runtime's own allocator is compiled under other names.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "wasm-rt.h"

#define SF_PAGE_BYTES 65536ull
/* wasm_rt_memory_t.size is 32 bits wide, so the last page of the 4 GiB space stays unused. */
#define SF_MAX_PAGES 65535u
#define SF_RESERVED_BYTES ((uint64_t)SF_MAX_PAGES * SF_PAGE_BYTES)

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  if (max_pages > SF_MAX_PAGES) {
    max_pages = SF_MAX_PAGES;
  }
  if (initial_pages > max_pages) {
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }

  void* data = mmap(NULL, SF_RESERVED_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (data == MAP_FAILED) {
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }
  if (initial_pages > 0 && mprotect(data, initial_pages * SF_PAGE_BYTES, PROT_READ | PROT_WRITE) != 0) {
    munmap(data, SF_RESERVED_BYTES);
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }

  memory->data = data;
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  memory->size = (uint32_t)(initial_pages * SF_PAGE_BYTES);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  uint32_t old_pages = memory->pages;
  uint64_t new_pages = (uint64_t)old_pages + delta;
  if (delta == 0) {
    return old_pages;
  }
  if (new_pages > memory->max_pages) {
    return (uint32_t)-1;
  }
  if (mprotect(memory->data + old_pages * SF_PAGE_BYTES, delta * SF_PAGE_BYTES, PROT_READ | PROT_WRITE) != 0) {
    return (uint32_t)-1;
  }

  memory->pages = (uint32_t)new_pages;
  memory->size = (uint32_t)(new_pages * SF_PAGE_BYTES);
  return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) {
  if (memory->data != NULL) {
    munmap(memory->data, SF_RESERVED_BYTES);
    memory->data = NULL;
  }
}
