/*
 * airssys_ext.c — readers for the extension interfaces' framed replies (AIRSSYS_CODEC_FRAMED);
 * the calls themselves are static inline in airssys_ext.h. Nothing here allocates: every result
 * is a view into the payload it was given.
 *
 * Note: the JSON reader is only as large as the framed heads need (the host writes them with
 * JSON.stringify): it finds one top-level member and reads an integer. It skips what it does not
 * need by counting brackets outside strings, and never trusts a length it has not checked
 * against the buffer, since the payload may come from anywhere a reply can.
 */
#include "airssys_ext.h"

/* The ext calls read their return area as airssys.h's result<u64, error>. */
_Static_assert(__builtin_offsetof(airssys__ret_u64, u.error) == 8, "result<u64, error> error at 8");
_Static_assert(sizeof(airssys__ret_u64) == 24, "result<u64, error> is 24 bytes");
_Static_assert(sizeof(airssys_pair) == 16, "tuple<string, string> is 16 bytes");
_Static_assert(sizeof(airssys_str) == 8, "list<string> items are 8 bytes");

bool airssys_framed_split(airssys_bytes payload, airssys_str *head, airssys_bytes *body) {
  if (payload.len < 4) return false;
  const uint8_t *p = payload.ptr;
  uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  if (n > payload.len - 4) return false;
  if (head) *head = (airssys_str){(const char *)p + 4, n};
  if (body) *body = (airssys_bytes){p + 4 + n, payload.len - 4 - n};
  return true;
}

/* ------------------------------------------------------------------------------------------ */
/* a minimal JSON reader                                                                       */

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t skip_ws(const char *s, size_t n, size_t i) {
  while (i < n && is_ws(s[i])) i++;
  return i;
}

/* `s[i]` is a quote: the index after the closing quote, or n when unterminated. */
static size_t skip_string(const char *s, size_t n, size_t i) {
  for (i++; i < n; i++) {
    if (s[i] == '\\') i++;
    else if (s[i] == '"') return i + 1;
  }
  return n;
}

/* The index after the value starting at `s[i]`, or n. */
static size_t skip_value(const char *s, size_t n, size_t i) {
  if (i >= n) return n;
  if (s[i] == '"') return skip_string(s, n, i);
  if (s[i] == '{' || s[i] == '[') {
    size_t depth = 0;
    while (i < n) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, n, i);
        continue;
      }
      if (c == '{' || c == '[') depth++;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      i++;
    }
    return n;
  }
  while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) i++;
  return i;
}

/* An integer value spanning s[i..end): optional '-', then digits, nothing else. */
static bool read_i64(const char *s, size_t i, size_t end, int64_t *value) {
  bool negative = i < end && s[i] == '-';
  if (negative) i++;
  if (i == end) return false;
  uint64_t limit = negative ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
  uint64_t v = 0;
  for (; i < end; i++) {
    if (s[i] < '0' || s[i] > '9') return false; /* also rejects fractions and exponents */
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  *value = negative ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
  return true;
}

bool airssys_json_i64(airssys_str json, const char *key, int64_t *value) {
  const char *s = json.ptr;
  size_t n = json.len;
  airssys_str want = airssys_cstr(key);
  size_t i = skip_ws(s, n, 0);
  if (i >= n || s[i] != '{') return false;
  i = skip_ws(s, n, i + 1);
  while (i < n && s[i] == '"') {
    size_t key_end = skip_string(s, n, i);
    if (key_end >= n) return false;
    airssys_str name = {s + i + 1, key_end - i - 2};
    i = skip_ws(s, n, key_end);
    if (i >= n || s[i] != ':') return false;
    i = skip_ws(s, n, i + 1);
    size_t value_end = skip_value(s, n, i);
    if (airssys_str_eq(name, want)) return read_i64(s, i, value_end, value);
    i = skip_ws(s, n, value_end);
    if (i >= n || s[i] != ',') return false;
    i = skip_ws(s, n, i + 1);
  }
  return false;
}

bool airssys_process_output(airssys_bytes payload, airssys_str *head, airssys_bytes *out,
                            airssys_bytes *errout) {
  airssys_str h;
  airssys_bytes body;
  int64_t k;
  if (!airssys_framed_split(payload, &h, &body)) return false;
  if (!airssys_json_i64(h, "stdout-bytes", &k) || k < 0 || (uint64_t)k > body.len) return false;
  if (head) *head = h;
  if (out) *out = (airssys_bytes){body.ptr, (size_t)k};
  if (errout) *errout = (airssys_bytes){body.ptr + k, body.len - (size_t)k};
  return true;
}
