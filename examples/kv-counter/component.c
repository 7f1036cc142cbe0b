// kv-counter: named counters kept in host storage.
//
// Requests are one line of text; replies are JSON (codec 0x0200), so `host.request(...).value`
// and `airssys-wasm call` show numbers and objects rather than bytes.
//
//   inc <name> [n]            adds n (default 1)             -> the new value, e.g. 4
//   get <name>                                               -> the value (never counted: 0)
//   reset <name> [expected]   sets 0 if it still holds       -> {"reset":true,"value":0}
//                             `expected` (default: the value    or {"reset":false,"value":7}
//                             read just now)
//   list [prefix] [after=<k>] counters whose name starts     -> {"counters":{"apples":4},
//                             with prefix, 50 a page             "next":"apples"}
//
// Names are 1 to 64 characters of a-z, A-Z, 0-9, '.', '_', '-'. Because every key in the
// namespace went through that check, `list` writes names into JSON without escaping them.
//
// Note: nothing is kept in static variables. The count lives in the host's store (namespace
// "counters", which the manifest grants), so it survives a trap (the supervisor starts a fresh
// instance with fresh memory), a host restart with a data directory, and a new version of the
// component: the store names the namespace after the component, not the version.
#include "airssys.h"

#define NS AIRSSYS_STR("counters")
#define PAGE 50
#define NAME_MAX 64

static const char USAGE[] =
    "expected `inc <name> [n]`, `get <name>`, `reset <name> [expected]` or "
    "`list [prefix] [after=<name>]`";

// ---------------------------------------------------------------------------------------------
// parsing the request line

static bool is(airssys_str w, const char *literal) { return airssys_str_eq(w, airssys_cstr(literal)); }

/* True when w starts with the literal; *tail is what follows it. */
static bool starts_with(airssys_str w, const char *literal, airssys_str *tail) {
  airssys_str head = airssys_cstr(literal);
  if (w.len < head.len || !airssys_str_eq((airssys_str){w.ptr, head.len}, head)) return false;
  *tail = (airssys_str){w.ptr + head.len, w.len - head.len};
  return true;
}

static bool valid_name(airssys_str s) {
  if (s.len == 0 || s.len > NAME_MAX) return false;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

/* A non-negative decimal that fits an int64_t. */
static bool parse_count(airssys_str s, int64_t *out) {
  uint64_t v;
  if (!airssys_parse_u64(s, &v) || v > (uint64_t)INT64_MAX) return false;
  *out = (int64_t)v;
  return true;
}

static bool usage(airssys_error *err) { return airssys_fail(err, "invalid-argument", USAGE); }

// ---------------------------------------------------------------------------------------------
// building a JSON reply in the arena

typedef struct {
  char *ptr;
  size_t len, cap;
} text;

static text text_new(size_t cap) { return (text){airssys_alloc(cap), 0, cap}; }

static void put(text *t, airssys_str s) {
  if (s.len > t->cap - t->len) __builtin_trap(); /* a sizing bug: better a restart than an overrun */
  __builtin_memcpy(t->ptr + t->len, s.ptr, s.len);
  t->len += s.len;
}

static void put_c(text *t, const char *s) { put(t, airssys_cstr(s)); }

static void put_i64(text *t, int64_t v) {
  airssys_bytes digits = airssys_format_i64(v);
  put(t, (airssys_str){(const char *)digits.ptr, digits.len});
}

static bool reply_json(airssys_response *out, text t) {
  airssys_reply(out, AIRSSYS_CODEC_JSON, (airssys_bytes){(const uint8_t *)t.ptr, t.len});
  return true;
}

static bool reply_number(airssys_response *out, int64_t v) {
  airssys_reply(out, AIRSSYS_CODEC_JSON, airssys_format_i64(v));
  return true;
}

// ---------------------------------------------------------------------------------------------
// commands

static bool inc(airssys_str name, airssys_str n_text, airssys_response *out, airssys_error *err) {
  int64_t n = 1, value;
  if (n_text.len && !parse_count(n_text, &n)) return usage(err);
  // One atomic host call: no read-modify-write here, so two instances (`instances: 4`) counting
  // the same name at once cannot lose an increment.
  if (!airssys_storage_increment(NS, name, n, &value, err)) return false;
  return reply_number(out, value);
}

static bool get(airssys_str name, airssys_response *out, airssys_error *err) {
  int64_t value;
  if (!airssys_storage_get_counter(NS, name, &value, err)) return false;
  return reply_number(out, value);
}

static bool reset_reply(airssys_response *out, bool reset, int64_t value) {
  text t = text_new(48);
  put_c(&t, reset ? "{\"reset\":true,\"value\":" : "{\"reset\":false,\"value\":");
  put_i64(&t, value);
  put_c(&t, "}");
  return reply_json(out, t);
}

/* storage-increment keeps a counter as 8 bytes, little-endian. */
static int64_t counter_value(airssys_bytes stored) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v |= (uint64_t)stored.ptr[i] << (8 * i);
  return (int64_t)v;
}

/* Sets the counter to 0 if it holds `expected`. The caller says which value it means to clear,
 * so increments that arrived after it looked are not wiped out with it: compare-and-set swaps
 * only if the stored bytes are still the ones read here, atomically in the host's store. */
static bool reset(airssys_str name, airssys_str expected_text, airssys_response *out, airssys_error *err) {
  bool found;
  airssys_bytes stored;
  if (!airssys_storage_get(NS, name, &found, &stored, err)) return false;
  if (found && stored.len != 8) return airssys_fail(err, "invalid-argument", "not a counter");
  int64_t current = found ? counter_value(stored) : 0;
  int64_t expected = current;
  if (expected_text.len && !parse_count(expected_text, &expected)) return usage(err);
  if (current != expected) return reset_reply(out, false, current);
  if (!found) return reset_reply(out, true, 0); /* never counted: already 0 */

  static const uint8_t zero[8];
  const airssys_bytes zero_bytes = {zero, sizeof zero};
  bool swapped;
  if (!airssys_storage_compare_and_set(NS, name, &stored, &zero_bytes, &swapped, err)) return false;
  if (swapped) return reset_reply(out, true, 0);
  // Another instance changed it between the read and the swap: say what it holds now.
  if (!airssys_storage_get_counter(NS, name, &current, err)) return false;
  return reset_reply(out, false, current);
}

/* One page of counters in name order. `after` is the previous page's "next" (the storage
 * cursor is the last key returned), so a client pages with `list <prefix> after=<next>`. */
static bool list(airssys_str prefix, airssys_str after, airssys_response *out, airssys_error *err) {
  airssys_key_page page;
  if (!airssys_storage_list_prefix(NS, prefix, after.len ? &after : 0, PAGE, &page, err)) return false;

  size_t cap = 48 + page.next.len;
  for (size_t i = 0; i < page.len; i++) cap += page.keys[i].len + 24; /* "name":-9223372036854775808, */
  text t = text_new(cap);
  put_c(&t, "{\"counters\":{");
  for (size_t i = 0; i < page.len; i++) {
    int64_t value;
    if (!airssys_storage_get_counter(NS, page.keys[i], &value, err)) return false;
    put_c(&t, i ? ",\"" : "\"");
    put(&t, page.keys[i]);
    put_c(&t, "\":");
    put_i64(&t, value);
  }
  put_c(&t, "}");
  if (page.has_next) {
    put_c(&t, ",\"next\":\"");
    put(&t, page.next);
    put_c(&t, "\"");
  }
  put_c(&t, "}");
  return reply_json(out, t);
}

// ---------------------------------------------------------------------------------------------

// A `send` runs the same commands as a `request`; the host simply has nobody to give the reply to.
bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err) {
  airssys_str rest = {(const char *)m->payload.ptr, m->payload.len};
  airssys_str command = airssys_next_word(&rest);

  if (is(command, "list")) {
    airssys_str prefix = {0, 0}, after = {0, 0};
    for (airssys_str w = airssys_next_word(&rest); w.len; w = airssys_next_word(&rest)) {
      if (starts_with(w, "after=", &after)) {
        if (!valid_name(after)) return usage(err);
      } else if (prefix.len == 0 && valid_name(w)) {
        prefix = w;
      } else {
        return usage(err);
      }
    }
    return list(prefix, after, out, err);
  }

  airssys_str name = airssys_next_word(&rest);
  airssys_str arg = airssys_next_word(&rest);
  if (!valid_name(name) || airssys_next_word(&rest).len) return usage(err);
  if (is(command, "inc")) return inc(name, arg, out, err);
  if (is(command, "get") && arg.len == 0) return get(name, out, err);
  if (is(command, "reset")) return reset(name, arg, out, err);
  return usage(err);
}
