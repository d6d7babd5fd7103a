/* fuzz_options.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the scenario options loader
 * (options_load_source): any scenario text; an error must say why, an accepted one must respect the
 * header's bounds. Inputs that could loop forever or reach the system (loops, os./io., load) are
 * skipped: the harness is about the options table, not about running arbitrary Lua. Seeds: corpus/options/.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lua states come from one arena reused across inputs instead of LuaJIT's own allocator: that one maps
 * fresh pages for every state and unmaps them at lua_close, which was 28 % of this harness's CPU (page
 * faults and munmap in the kernel). This file defines luaL_newstate, which the linker takes in place of
 * LuaJIT's for the whole harness (options_load_source and the prelude's compile); the states, the
 * libraries and the loader are LuaJIT's own. The arena is a bump allocator: a free is only counted, and
 * when every block of every state is freed (lua_close frees all) the arena starts again from its base. */
/* The allocator is no code under test: no coverage hooks (they were half its cost) and no features. */
#define NOT_FUZZED __attribute__((no_sanitize("coverage")))

enum { ARENA_MAX = 1 << 30, ARENA_KEEP = 16 << 20, ARENA_ALIGN = 16 };

typedef struct arena {
  char *base;
  size_t used;      /* bytes handed out since the last reset */
  size_t high;      /* the most used since the last trim */
  long live_blocks; /* blocks allocated and not yet freed */
} arena;

static arena lua_arena;

NOT_FUZZED static size_t aligned(size_t n) {
  return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

NOT_FUZZED static void *arena_take(arena *a, size_t n) {
  if (n > ARENA_MAX - a->used) return NULL; /* LuaJIT raises "not enough memory" */
  void *p = a->base + a->used;
  a->used += aligned(n);
  if (a->used > a->high) a->high = a->used;
  return p;
}

NOT_FUZZED static void arena_free(arena *a) {
  if (--a->live_blocks > 0) return;
  a->used = 0;
  if (a->high > ARENA_KEEP) { /* give back what one big input touched */
    madvise(a->base + ARENA_KEEP, a->high - ARENA_KEEP, MADV_DONTNEED);
    a->high = ARENA_KEEP;
  }
}

/* lua_Alloc: the block at the top grows in place, a shrink stays where it is, anything else moves. */
NOT_FUZZED static void *arena_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  arena *a = ud;
  if (nsize == 0) {
    if (ptr) arena_free(a);
    return NULL;
  }
  if (!ptr) {
    void *p = arena_take(a, nsize);
    if (p) a->live_blocks++;
    return p;
  }
  if (nsize <= osize) return ptr;
  if ((char *)ptr + aligned(osize) == a->base + a->used) {
    a->used -= aligned(osize);
    if (arena_take(a, nsize)) return ptr;
    a->used += aligned(osize);
    return NULL;
  }
  void *moved = arena_take(a, nsize);
  if (moved) memcpy(moved, ptr, osize);
  return moved;
}

static int arena_panic(lua_State *L) {
  fprintf(stderr, "fuzz_options: unprotected Lua error: %s\n", lua_tostring(L, -1));
  return 0;
}

/* Replaces LuaJIT's for this binary (see the top of this file). */
LUALIB_API lua_State *luaL_newstate(void) {
  lua_State *L;
  if (!lua_arena.base) {
    void *m =
        mmap(NULL, ARENA_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    lua_arena.base = m;
  }
  L = lua_newstate(arena_alloc, &lua_arena);
  if (L) lua_atpanic(L, arena_panic);
  return L;
}

static const char *const skipped[] = {"while",  "repeat", "for", "goto", "return",
                                      "rep",    "os.",    "io.", "load", "require",
                                      "dofile", "debug",  "jit", "ffi",  "coroutine"};

static int is_skipped(const char *text) {
  for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
    if (strstr(text, skipped[i])) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static options o;
  char err[512];
  char *text;

  if (size > 16384) return 0;
  text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (strlen(text) == size && !is_skipped(text)) {
    err[0] = '\0';
    if (options_load_source("fuzz.lua", text, size, &o, err, sizeof err) == 0) {
      if (o.nstages > OPTIONS_MAX_STAGES || o.nthresholds > OPTIONS_MAX_THRESHOLDS ||
          o.nprofiles > OPTIONS_MAX_PROFILES || o.ntasks == 0 || o.users < 0 || o.rate < 0 ||
          o.duration_ns < 0 || o.max_vus > OPTIONS_MAX_VUS || o.pre_vus > OPTIONS_MAX_VUS ||
          memchr(o.target, '\0', sizeof o.target) == NULL)
        abort();
    } else if (err[0] == '\0') {
      abort();
    }
    if (lua_arena.live_blocks != 0) abort(); /* lua_close left a block: the arena would never reset */
  }
  free(text);
  return 0;
}
