/*
 * airssys.c — the exports of world `airssys:core/component@1.0.0` (component-lifecycle), the
 * allocator the host writes into, and small helpers. See airssys.h for the author's side.
 *
 * Memory model (why it looks like this):
 * - One bump arena above `__heap_base`, grown with memory.grow on demand: a component's memory
 *   is a few pages and grows only as far as its largest message needs (up to the manifest limit).
 * - The host copies a message's strings and payload in through `cabi_realloc` *before* calling
 *   handle-message, and import results (storage-get bytes, error strings) *during* it; it reads
 *   handle-message's result (which may point at arena bytes) *after* it returns and then calls
 *   the post-return function. So the only safe moment to free is post-return, and everything a
 *   message allocated can be freed at once by moving the top back: no free list, no leaks,
 *   memory stays flat however many messages arrive.
 * - Whatever init allocates (its config list, config-get answers it keeps) stays: the floor the
 *   arena resets to is raised when init returns. init runs once per instance, so that is bounded.
 * - health and shutdown return no pointers, so they reset the arena themselves.
 * - If the host allocated a message's arguments and then abandoned the call (it failed to lower
 *   one), those bytes are freed by the next reset as well, since resets go back to the floor.
 *
 * Link with -Wl,--stack-first: the 16 KiB stack then sits below the static data, so an overflow
 * runs off address 0 and traps instead of silently overwriting statics.
 */
#include "airssys.h"

#define EXPORT(name) __attribute__((export_name(name)))
#define LIFECYCLE "airssys:core/component-lifecycle@1.0.0#"

/* The return areas must match the canonical ABI's layout of the WIT types byte for byte. */
_Static_assert(sizeof(airssys_str) == 8 && _Alignof(airssys_str) == 4, "string is (ptr, len)");
_Static_assert(sizeof(airssys_pair) == 16, "tuple<string, string> is 16 bytes");
_Static_assert(__builtin_offsetof(airssys__ret_unit, error) == 4, "result<_, error>");
_Static_assert(__builtin_offsetof(airssys__ret_u64, u) == 8, "result<u64, error> payload at 8");
_Static_assert(__builtin_offsetof(airssys__ret_opt_bytes, u.some.bytes) == 8, "option<list<u8>>");
_Static_assert(__builtin_offsetof(airssys__ret_page, u.page.next) == 16, "key-page.next");
_Static_assert(__builtin_offsetof(airssys__ret_opt_str, value) == 4, "option<string>");

/* ------------------------------------------------------------------------------------------ */
/* arena                                                                                       */

extern unsigned char __heap_base;
static uintptr_t arena_floor;
static uintptr_t arena_top;

static void arena_start(void) {
  if (arena_top == 0) arena_floor = arena_top = ((uintptr_t)&__heap_base + 7) & ~(uintptr_t)7;
}

static void *arena_bump(uintptr_t align, uintptr_t size) {
  arena_start();
  uintptr_t p = (arena_top + align - 1) & ~(align - 1);
  uintptr_t end = p + size;
  if (end < p) __builtin_trap();
  uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    uintptr_t pages = (end - have + 65535u) / 65536u;
    /* The host's memory limit (manifest `memory`) caps the grow: out-of-memory, not corruption. */
    if (__builtin_wasm_memory_grow(0, pages) == (uintptr_t)-1) __builtin_trap();
  }
  arena_top = end;
  return (void *)p;
}

static void arena_reset(void) {
  arena_start();
  arena_top = arena_floor;
}

/* Called by the host (the canonical ABI's realloc option) for every string and list it passes
 * in. Growing the newest block happens in place, which is what the host does when it reallocs
 * a string whose transcoded size it guessed too small. */
EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  if (old == 0) return arena_bump(align ? align : 1, new_size);
  if ((uintptr_t)old + old_size == arena_top) {
    arena_top = (uintptr_t)old;
    return arena_bump(1, new_size); /* same address: grows (or shrinks) in place */
  }
  if (new_size <= old_size) return old;
  void *p = arena_bump(align ? align : 1, new_size);
  __builtin_memcpy(p, old, old_size);
  return p;
}

void *airssys_alloc(size_t size) { return arena_bump(8, size); }

uint8_t *airssys_dup(const void *src, size_t n) {
  uint8_t *p = arena_bump(1, n);
  if (n) __builtin_memcpy(p, src, n);
  return p;
}

airssys_bytes airssys_concat(airssys_bytes a, airssys_bytes b) {
  uint8_t *p = arena_bump(1, a.len + b.len);
  if (a.len) __builtin_memcpy(p, a.ptr, a.len);
  if (b.len) __builtin_memcpy(p + a.len, b.ptr, b.len);
  return (airssys_bytes){p, a.len + b.len};
}

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

static size_t c_len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

airssys_str airssys_cstr(const char *s) { return (airssys_str){s, c_len(s)}; }

airssys_str airssys_next_word(airssys_str *rest) {
  size_t i = 0;
  while (i < rest->len && rest->ptr[i] == ' ') i++;
  size_t start = i;
  while (i < rest->len && rest->ptr[i] != ' ') i++;
  airssys_str word = {rest->ptr + start, i - start};
  if (i < rest->len) i++;
  *rest = (airssys_str){rest->ptr + i, rest->len - i};
  return word;
}

bool airssys_str_eq(airssys_str a, airssys_str b) {
  if (a.len != b.len) return false;
  for (size_t i = 0; i < a.len; i++)
    if (a.ptr[i] != b.ptr[i]) return false;
  return true;
}

bool airssys_bytes_eq(airssys_bytes a, const char *literal) {
  return airssys_str_eq((airssys_str){(const char *)a.ptr, a.len}, airssys_cstr(literal));
}

bool airssys_config_find(airssys_config config, const char *key, airssys_str *value) {
  airssys_str k = airssys_cstr(key);
  for (size_t i = 0; i < config.len; i++) {
    if (airssys_str_eq(config.items[i].key, k)) {
      if (value) *value = config.items[i].value;
      return true;
    }
  }
  return false;
}

airssys_bytes airssys_format_i64(int64_t v) {
  char tmp[20];
  size_t n = 0;
  /* Work on the magnitude as unsigned so INT64_MIN does not overflow. */
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = n + (v < 0);
  uint8_t *p = arena_bump(1, len);
  size_t i = 0;
  if (v < 0) p[i++] = '-';
  while (n) p[i++] = (uint8_t)tmp[--n];
  return (airssys_bytes){p, len};
}

bool airssys_parse_u64(airssys_str s, uint64_t *out) {
  if (s.len == 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = (uint64_t)(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool airssys_fail(airssys_error *err, const char *code, const char *message) {
  if (err) {
    err->code = airssys_cstr(code);
    err->message = airssys_cstr(message);
  }
  return false;
}

/* ------------------------------------------------------------------------------------------ */
/* defaults for the optional author functions                                                  */

__attribute__((weak)) bool airssys_init(airssys_config config, airssys_error *err) {
  (void)config;
  (void)err;
  return true;
}

__attribute__((weak)) airssys_health_status airssys_health(void) { return AIRSSYS_HEALTHY; }

__attribute__((weak)) void airssys_shutdown(void) {}

/* ------------------------------------------------------------------------------------------ */
/* exports: interface component-lifecycle                                                      */

/* result<_, error> and result<response, error> flatten to 5 values, more than the one a core
 * function may return, so the canonical ABI has the callee return a pointer to the result in
 * memory. Static areas suffice: the host runs one call at a time per instance and reads the
 * result before the next call. */
static airssys__ret_unit init_ret;

static struct {
  uint8_t is_err; /* @0 */
  union {         /* @4: payload aligned to 4 */
    struct {
      uint8_t tag;    /* @4  response case */
      uint32_t codec; /* @8  reply-payload.codec */
      airssys_bytes payload; /* @12, @16 */
    } response;
    airssys_error error;
  } u;
} handle_ret;

_Static_assert(__builtin_offsetof(__typeof__(handle_ret), u.response.payload) == 12, "response");
_Static_assert(sizeof(handle_ret) == 20, "result<response, error> is 20 bytes");

static void default_error(airssys_error *err) {
  if (err->code.len == 0) err->code = AIRSSYS_STR("internal");
  if (err->message.len == 0) err->message = AIRSSYS_STR("the component failed without saying why");
}

/* list<tuple<string, string>> arrives as (ptr, len) of 16-byte (key, value) records: read in place. */
EXPORT(LIFECYCLE "init")
void *airssys__export_init(const airssys_pair *items, size_t len) {
  airssys_error err = {{0, 0}, {0, 0}};
  bool ok = airssys_init((airssys_config){items, len}, &err);
  init_ret.is_err = !ok;
  if (!ok) {
    default_error(&err);
    init_ret.error = err;
  }
  arena_start();
  arena_floor = arena_top; /* keep what init allocated for the life of the instance */
  return &init_ret;
}

/* `message` flattens to 13 core values (kind; sender; target; option<string> topic;
 * option<u64> correlation-id; codec; payload), within the 16 that may be passed directly. */
EXPORT(LIFECYCLE "handle-message")
void *airssys__export_handle_message(int32_t kind, const char *sender, size_t sender_len,
                                     const char *target, size_t target_len, int32_t has_topic,
                                     const char *topic, size_t topic_len, int32_t has_correlation,
                                     uint64_t correlation_id, uint32_t codec,
                                     const uint8_t *payload, size_t payload_len) {
  airssys_message m = {
      .kind = (airssys_kind)kind,
      .sender = {sender, sender_len},
      .target = {target, target_len},
      .has_topic = has_topic != 0,
      .topic = {topic, topic_len},
      .has_correlation_id = has_correlation != 0,
      .correlation_id = correlation_id,
      .codec = codec,
      .payload = {payload, payload_len},
  };
  airssys_response out = {AIRSSYS_RESPONSE_NONE, 0, {0, 0}};
  airssys_error err = {{0, 0}, {0, 0}};
  if (airssys_handle(&m, &out, &err)) {
    handle_ret.is_err = 0;
    handle_ret.u.response.tag = (uint8_t)out.tag;
    handle_ret.u.response.codec = out.tag == AIRSSYS_RESPONSE_REPLY ? out.codec : 0;
    handle_ret.u.response.payload =
        out.tag == AIRSSYS_RESPONSE_REPLY ? out.payload : (airssys_bytes){0, 0};
  } else {
    default_error(&err);
    handle_ret.is_err = 1;
    handle_ret.u.error = err;
  }
  return &handle_ret;
}

/* Post-return: the host has copied the result out, so the message's memory can go. */
EXPORT("cabi_post_" LIFECYCLE "handle-message")
void airssys__post_handle_message(void *ret) {
  (void)ret;
  arena_reset();
}

EXPORT(LIFECYCLE "health")
int32_t airssys__export_health(void) {
  int32_t status = (int32_t)airssys_health();
  arena_reset();
  return status;
}

#ifdef AIRSSYS_MIGRATABLE
/* World `migratable-component`: migrate(from-version: string) -> result<_, error>. */
static airssys__ret_unit migrate_ret;

EXPORT("airssys:core/migration@1.0.0#migrate")
void *airssys__export_migrate(const char *from, size_t from_len) {
  airssys_error err = {{0, 0}, {0, 0}};
  bool ok = airssys_migrate((airssys_str){from, from_len}, &err);
  migrate_ret.is_err = !ok;
  if (!ok) {
    default_error(&err);
    migrate_ret.error = err;
  }
  return &migrate_ret;
}

/* The result points at the message or static text: free the arena only once the host read it. */
EXPORT("cabi_post_airssys:core/migration@1.0.0#migrate")
void airssys__post_migrate(void *ret) {
  (void)ret;
  arena_reset();
}
#endif

EXPORT(LIFECYCLE "shutdown")
void airssys__export_shutdown(void) {
  airssys_shutdown();
  arena_reset();
}
