/*
 * airssys.h — write an airssys component (world `airssys:core/component@1.0.0`) in freestanding C.
 *
 * No libc, no wit-bindgen: this header and airssys.c are the hand-written canonical-ABI glue
 * (Component Model canonical ABI, wasm32) between the host and the four functions an author
 * writes. Compile both with the component (see README.md):
 *
 *   clang --target=wasm32 -nostdlib -ffreestanding -O2 -mbulk-memory -I kit/c \
 *     -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=16384 -Wl,--initial-memory=65536 \
 *     -o core.wasm component.c kit/c/airssys.c
 *
 * then embed wit/core/core.wit (world `component`) and run `wasm-tools component new`.
 *
 * What the author provides (airssys_handle is required; the others have defaults in airssys.c):
 *
 *   bool airssys_init(airssys_config config, airssys_error *err);          // default: ok
 *   bool airssys_handle(const airssys_message *m, airssys_response *out,
 *                       airssys_error *err);                               // true = ok
 *   airssys_health_status airssys_health(void);                           // default: healthy
 *   bool airssys_migrate(airssys_str from_version, airssys_error *err);   // with -DAIRSSYS_MIGRATABLE
 *   void airssys_shutdown(void);                                          // default: nothing
 *
 * Memory: every string and list the host hands over (message fields, import results) lives in a
 * per-message arena that is reset once the host has read handle-message's result. Keep nothing
 * from a message past the call: copy what must survive into static storage (or host storage).
 * What is allocated during init (the config list, config-get answers) is kept for the life of the
 * instance, so init may simply remember those pointers.
 */
#ifndef AIRSSYS_H
#define AIRSSYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* values                                                                                      */

/* A WIT string: UTF-8, not NUL-terminated. On wasm32 this is exactly the canonical ABI's
 * in-memory (ptr, len) pair, so the host's lists of strings can be read in place. */
typedef struct {
  const char *ptr;
  size_t len;
} airssys_str;

/* A WIT list<u8>. Same layout as airssys_str. */
typedef struct {
  const uint8_t *ptr;
  size_t len;
} airssys_bytes;

#define AIRSSYS_STR(literal) ((airssys_str){(literal), sizeof(literal) - 1})
#define AIRSSYS_BYTES(literal) ((airssys_bytes){(const uint8_t *)(literal), sizeof(literal) - 1})

/* Multicodec codes of payload encodings (`types.codec`). */
enum {
  AIRSSYS_CODEC_RAW = 0x55,
  AIRSSYS_CODEC_JSON = 0x0200,
  AIRSSYS_CODEC_CBOR = 0x51,
  AIRSSYS_CODEC_MSGPACK = 0x0201,
  AIRSSYS_CODEC_BORSH = 0x300001,
  /* An error reply: JSON {"code":…,"message":…}. Forwarded unchanged, it forwards the error. */
  AIRSSYS_CODEC_ERROR = 0x300002,
};

/* `types.message-kind`: the enum's case index, as the canonical ABI passes it. */
typedef enum {
  AIRSSYS_KIND_SEND = 0,
  AIRSSYS_KIND_REQUEST = 1,
  AIRSSYS_KIND_REPLY = 2,
  AIRSSYS_KIND_PUBLISH = 3,
} airssys_kind;

/* `types.message`. Every pointer is valid until handle-message returns. */
typedef struct {
  airssys_kind kind;
  airssys_str sender;
  airssys_str target;
  bool has_topic;
  airssys_str topic;
  bool has_correlation_id;
  uint64_t correlation_id;
  uint32_t codec;
  airssys_bytes payload;
} airssys_message;

/* `types.error`: `code` is one of the host's stable codes (`invalid-argument`, `not-found`, ...). */
typedef struct {
  airssys_str code;
  airssys_str message;
} airssys_error;

/* `types.response`: case indices as in the WIT variant. */
typedef enum {
  AIRSSYS_RESPONSE_NONE = 0,
  AIRSSYS_RESPONSE_REPLY = 1,
  AIRSSYS_RESPONSE_DEFERRED = 2,
} airssys_response_tag;

/* What handle-message answers; `codec`/`payload` are read only for AIRSSYS_RESPONSE_REPLY and
 * must stay valid until the call returns (static data or the arena). Starts as NONE. */
typedef struct {
  airssys_response_tag tag;
  uint32_t codec;
  airssys_bytes payload;
} airssys_response;

typedef enum {
  AIRSSYS_HEALTHY = 0,
  AIRSSYS_DEGRADED = 1,
  AIRSSYS_UNHEALTHY = 2,
} airssys_health_status;

/* One `[config]` pair; the list init receives is an array of these, read in place. */
typedef struct {
  airssys_str key;
  airssys_str value;
} airssys_pair;

typedef struct {
  const airssys_pair *items;
  size_t len;
} airssys_config;

/* `types.key-page`: keys in byte order, and the cursor of the next page (if any). */
typedef struct {
  const airssys_str *keys;
  size_t len;
  bool has_next;
  airssys_str next;
} airssys_key_page;

typedef enum {
  AIRSSYS_LOG_TRACE = 0,
  AIRSSYS_LOG_DEBUG = 1,
  AIRSSYS_LOG_INFO = 2,
  AIRSSYS_LOG_WARN = 3,
  AIRSSYS_LOG_ERROR = 4,
} airssys_log_level;

/* ------------------------------------------------------------------------------------------ */
/* written by the author                                                                       */

bool airssys_init(airssys_config config, airssys_error *err);
bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err);
airssys_health_status airssys_health(void);
#ifdef AIRSSYS_MIGRATABLE
/* Built with -DAIRSSYS_MIGRATABLE for the world `migratable-component`: called on a new version
 * before it takes traffic, with the semver of the version it replaces. */
bool airssys_migrate(airssys_str from_version, airssys_error *err);
#endif
void airssys_shutdown(void);

/* ------------------------------------------------------------------------------------------ */
/* helpers (airssys.c)                                                                         */

/* Scratch memory from the per-message arena (freed after handle-message); traps when the
 * manifest's memory limit is reached. Aligned to 8. */
void *airssys_alloc(size_t size);
/* Copies `n` bytes into the arena. */
uint8_t *airssys_dup(const void *src, size_t n);
/* a ++ b, in the arena. */
airssys_bytes airssys_concat(airssys_bytes a, airssys_bytes b);

bool airssys_str_eq(airssys_str a, airssys_str b);
bool airssys_bytes_eq(airssys_bytes a, const char *literal);
airssys_str airssys_cstr(const char *s);
/* The next space-separated word of *rest (empty when none is left). *rest then starts after the
 * one space that ended the word, so what remains is the rest of the line as written. */
airssys_str airssys_next_word(airssys_str *rest);
static inline airssys_bytes airssys_str_bytes(airssys_str s) {
  return (airssys_bytes){(const uint8_t *)s.ptr, s.len};
}
/* The value of `key` in init's config list. */
bool airssys_config_find(airssys_config config, const char *key, airssys_str *value);
/* Decimal text of `v` in the arena (e.g. to reply with a number). */
airssys_bytes airssys_format_i64(int64_t v);
/* Parses an unsigned decimal; false when `s` is empty, has a non-digit or overflows. */
bool airssys_parse_u64(airssys_str s, uint64_t *out);

/* Sets `*err` (when not NULL) and returns false: `return airssys_fail(err, "not-found", "...")`. */
bool airssys_fail(airssys_error *err, const char *code, const char *message);

static inline void airssys_reply(airssys_response *out, uint32_t codec, airssys_bytes payload) {
  out->tag = AIRSSYS_RESPONSE_REPLY;
  out->codec = codec;
  out->payload = payload;
}

static inline void airssys_defer(airssys_response *out) { out->tag = AIRSSYS_RESPONSE_DEFERRED; }

/* ------------------------------------------------------------------------------------------ */
/* host-services imports                                                                       */
/*
 * The raw core imports follow the canonical ABI's flattening: strings and lists are (ptr, len),
 * option<T> is (discriminant, T...), u64/s64 are i64. Every function whose result flattens to
 * more than one value (all the result<_, error> ones, option<string>) takes a pointer to a return
 * area as its last parameter, which the host fills; the wrappers keep that area on the stack,
 * aligned to 8 because result<u64|s64, error> puts its payload at offset 8.
 *
 * The wrappers are static inline on purpose: a core import is emitted only when some code calls
 * it, and wit-component then imports into the component exactly those host functions, so a
 * component asks the host for what it uses and nothing else.
 *
 * Every wrapper returning bool returns true on `ok`; on `err` it fills `*err` (when not NULL)
 * with the host's error, whose strings live in the arena.
 */

#define AIRSSYS_IMPORT(name) \
  __attribute__((import_module("airssys:core/host-services@1.0.0"), import_name(name)))

AIRSSYS_IMPORT("log") void airssys__log(int32_t level, const char *msg, size_t msg_len);
AIRSSYS_IMPORT("send")
void airssys__send(const char *target, size_t target_len, uint32_t codec, const uint8_t *payload,
                   size_t payload_len, void *ret);
AIRSSYS_IMPORT("request")
void airssys__request(const char *target, size_t target_len, uint32_t codec, const uint8_t *payload,
                      size_t payload_len, uint32_t timeout_ms, void *ret);
AIRSSYS_IMPORT("reply")
void airssys__reply(uint64_t correlation_id, uint32_t codec, const uint8_t *payload,
                    size_t payload_len, void *ret);
AIRSSYS_IMPORT("publish")
void airssys__publish(const char *topic, size_t topic_len, uint32_t codec, const uint8_t *payload,
                      size_t payload_len, void *ret);
AIRSSYS_IMPORT("subscribe") void airssys__subscribe(const char *pattern, size_t len, void *ret);
AIRSSYS_IMPORT("unsubscribe") void airssys__unsubscribe(const char *pattern, size_t len, void *ret);
AIRSSYS_IMPORT("storage-get")
void airssys__storage_get(const char *ns, size_t ns_len, const char *key, size_t key_len,
                          void *ret);
AIRSSYS_IMPORT("storage-set")
void airssys__storage_set(const char *ns, size_t ns_len, const char *key, size_t key_len,
                          const uint8_t *value, size_t value_len, void *ret);
AIRSSYS_IMPORT("storage-delete")
void airssys__storage_delete(const char *ns, size_t ns_len, const char *key, size_t key_len,
                             void *ret);
AIRSSYS_IMPORT("storage-list-prefix")
void airssys__storage_list_prefix(const char *ns, size_t ns_len, const char *prefix,
                                  size_t prefix_len, int32_t has_cursor, const char *cursor,
                                  size_t cursor_len, uint32_t limit, void *ret);
AIRSSYS_IMPORT("storage-increment")
void airssys__storage_increment(const char *ns, size_t ns_len, const char *key, size_t key_len,
                                int64_t delta, void *ret);
AIRSSYS_IMPORT("storage-compare-and-set")
void airssys__storage_compare_and_set(const char *ns, size_t ns_len, const char *key,
                                      size_t key_len, int32_t has_expected,
                                      const uint8_t *expected, size_t expected_len,
                                      int32_t has_value, const uint8_t *value, size_t value_len,
                                      void *ret);
AIRSSYS_IMPORT("config-get") void airssys__config_get(const char *key, size_t key_len, void *ret);
AIRSSYS_IMPORT("now") uint64_t airssys__now(void);

/* Return areas, laid out as the canonical ABI stores result<T, error>: a u8 discriminant at 0,
 * then the payload at the payload's alignment (4, or 8 when T is a 64-bit integer). */
typedef struct {
  uint8_t is_err;
  airssys_error error;
} airssys__ret_unit;

typedef struct {
  uint8_t is_err;
  union {
    uint8_t flag;
    airssys_error error;
  } u;
} airssys__ret_bool;

typedef struct {
  uint8_t is_err;
  union {
    uint64_t value;
    airssys_error error;
  } u;
} airssys__ret_u64;

typedef struct {
  uint8_t is_err;
  union {
    struct {
      uint8_t is_some;
      airssys_bytes bytes;
    } some;
    airssys_error error;
  } u;
} airssys__ret_opt_bytes;

typedef struct {
  uint8_t is_err;
  union {
    struct {
      const airssys_str *keys;
      size_t len;
      uint8_t has_next;
      airssys_str next;
    } page;
    airssys_error error;
  } u;
} airssys__ret_page;

typedef struct {
  uint8_t is_some;
  airssys_str value;
} airssys__ret_opt_str;

static inline bool airssys__unit(const airssys__ret_unit *r, airssys_error *err) {
  if (r->is_err && err) *err = r->error;
  return !r->is_err;
}

static inline void airssys_log(airssys_log_level level, airssys_str message) {
  airssys__log((int32_t)level, message.ptr, message.len);
}

/* Fire-and-forget; `mailbox-full` when the receiver is full. */
static inline bool airssys_send(airssys_str target, uint32_t codec, airssys_bytes payload,
                                airssys_error *err) {
  airssys__ret_unit r;
  airssys__send(target.ptr, target.len, codec, payload.ptr, payload.len, &r);
  return airssys__unit(&r, err);
}

/* Sends a request; the reply arrives later as a `reply` message carrying `*correlation_id`. */
static inline bool airssys_request(airssys_str target, uint32_t codec, airssys_bytes payload,
                                   uint32_t timeout_ms, uint64_t *correlation_id,
                                   airssys_error *err) {
  airssys__ret_u64 r;
  airssys__request(target.ptr, target.len, codec, payload.ptr, payload.len, timeout_ms, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  if (correlation_id) *correlation_id = r.u.value;
  return true;
}

/* Answers a request this component deferred. */
static inline bool airssys_reply_to(uint64_t correlation_id, uint32_t codec, airssys_bytes payload,
                                    airssys_error *err) {
  airssys__ret_unit r;
  airssys__reply(correlation_id, codec, payload.ptr, payload.len, &r);
  return airssys__unit(&r, err);
}

static inline bool airssys_publish(airssys_str topic, uint32_t codec, airssys_bytes payload,
                                   airssys_error *err) {
  airssys__ret_unit r;
  airssys__publish(topic.ptr, topic.len, codec, payload.ptr, payload.len, &r);
  return airssys__unit(&r, err);
}

static inline bool airssys_subscribe(airssys_str pattern, airssys_error *err) {
  airssys__ret_unit r;
  airssys__subscribe(pattern.ptr, pattern.len, &r);
  return airssys__unit(&r, err);
}

static inline bool airssys_unsubscribe(airssys_str pattern, airssys_error *err) {
  airssys__ret_unit r;
  airssys__unsubscribe(pattern.ptr, pattern.len, &r);
  return airssys__unit(&r, err);
}

/* `*found` false when the key is absent; `*value` points into the arena. */
static inline bool airssys_storage_get(airssys_str ns, airssys_str key, bool *found,
                                       airssys_bytes *value, airssys_error *err) {
  airssys__ret_opt_bytes r;
  airssys__storage_get(ns.ptr, ns.len, key.ptr, key.len, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  if (found) *found = r.u.some.is_some != 0;
  if (value) *value = r.u.some.is_some ? r.u.some.bytes : (airssys_bytes){0, 0};
  return true;
}

/* Reads a counter kept with storage-increment (the host stores 8 bytes little-endian); a missing
 * key reads as 0, any other value is an invalid-argument error. */
static inline bool airssys_storage_get_counter(airssys_str ns, airssys_str key, int64_t *value,
                                               airssys_error *err) {
  bool found;
  airssys_bytes stored;
  if (!airssys_storage_get(ns, key, &found, &stored, err)) return false;
  if (found && stored.len != 8) return airssys_fail(err, "invalid-argument", "not a counter");
  uint64_t v = 0;
  for (size_t i = 0; found && i < 8; i++) v |= (uint64_t)stored.ptr[i] << (8 * i);
  *value = (int64_t)v;
  return true;
}

static inline bool airssys_storage_set(airssys_str ns, airssys_str key, airssys_bytes value,
                                       airssys_error *err) {
  airssys__ret_unit r;
  airssys__storage_set(ns.ptr, ns.len, key.ptr, key.len, value.ptr, value.len, &r);
  return airssys__unit(&r, err);
}

/* `*existed` tells whether there was something to delete. */
static inline bool airssys_storage_delete(airssys_str ns, airssys_str key, bool *existed,
                                          airssys_error *err) {
  airssys__ret_bool r;
  airssys__storage_delete(ns.ptr, ns.len, key.ptr, key.len, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  if (existed) *existed = r.u.flag != 0;
  return true;
}

/* `cursor` NULL for the first page, else the previous page's `next`. */
static inline bool airssys_storage_list_prefix(airssys_str ns, airssys_str prefix,
                                               const airssys_str *cursor, uint32_t limit,
                                               airssys_key_page *page, airssys_error *err) {
  airssys__ret_page r;
  airssys__storage_list_prefix(ns.ptr, ns.len, prefix.ptr, prefix.len, cursor != 0,
                               cursor ? cursor->ptr : 0, cursor ? cursor->len : 0, limit, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  page->keys = r.u.page.keys;
  page->len = r.u.page.len;
  page->has_next = r.u.page.has_next != 0;
  page->next = r.u.page.has_next ? r.u.page.next : (airssys_str){0, 0};
  return true;
}

/* Adds `delta` to a signed 64-bit counter (missing counts as 0); `*value` is the new value. */
static inline bool airssys_storage_increment(airssys_str ns, airssys_str key, int64_t delta,
                                             int64_t *value, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__storage_increment(ns.ptr, ns.len, key.ptr, key.len, delta, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  if (value) *value = (int64_t)r.u.value;
  return true;
}

/* Sets `key` to `*value` (NULL deletes) only if it holds `*expected` (NULL: absent). */
static inline bool airssys_storage_compare_and_set(airssys_str ns, airssys_str key,
                                                   const airssys_bytes *expected,
                                                   const airssys_bytes *value, bool *swapped,
                                                   airssys_error *err) {
  airssys__ret_bool r;
  airssys__storage_compare_and_set(ns.ptr, ns.len, key.ptr, key.len, expected != 0,
                                   expected ? expected->ptr : 0, expected ? expected->len : 0,
                                   value != 0, value ? value->ptr : 0, value ? value->len : 0, &r);
  if (r.is_err) {
    if (err) *err = r.u.error;
    return false;
  }
  if (swapped) *swapped = r.u.flag != 0;
  return true;
}

/* A value from the manifest's `[config]`; false when absent. Called from init, the answer is
 * kept for the life of the instance; from handle-message, until it returns. */
static inline bool airssys_config_get(airssys_str key, airssys_str *value) {
  airssys__ret_opt_str r;
  airssys__config_get(key.ptr, key.len, &r);
  if (r.is_some && value) *value = r.value;
  return r.is_some != 0;
}

/* Wall-clock time, milliseconds since the Unix epoch. */
static inline uint64_t airssys_now(void) { return airssys__now(); }

#ifdef __cplusplus
}
#endif

#endif /* AIRSSYS_H */
