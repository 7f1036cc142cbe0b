// pipeline / store: the end of the orders pipeline   ingest -> enrich -> store.
//
// Orders arrive by send from config `upstream`, as "<id> <item> <quantity> <price> <total>".
// Each one is kept in storage as a JSON record under "order/<id, 10 digits>" (zero-padded, so
// the keys sort by id), added to the running totals, and published on config `topic`, where
// any observer subscribed to it gets a copy.
//
// Questions arrive by request, and the reply is JSON:
//   summary    -> {"orders":3,"revenue":2150}
//   get <id>   -> {"id":2,"item":"gadget","quantity":1,"price":1200,"total":1200}, or not-found
//
// Note: the host stamps each message's `sender` with the address that sent it; a component has
// no parameter to claim another name. So "orders only from `upstream`" below is a guarantee,
// not a convention: another component allowed to message `store` still cannot add orders.
#include "airssys.h"

#define NS AIRSSYS_STR("orders")

static airssys_str upstream, topic;

bool airssys_init(airssys_config config, airssys_error *err) {
  (void)config;
  if (!airssys_config_get(AIRSSYS_STR("upstream"), &upstream) ||
      !airssys_config_get(AIRSSYS_STR("topic"), &topic))
    return airssys_fail(err, "invalid-argument", "config `upstream` and `topic` are required");
  return true;
}

// ---------------------------------------------------------------------------------------------
// text helpers

static airssys_str str_of(airssys_bytes b) { return (airssys_str){(const char *)b.ptr, b.len}; }

static bool number(airssys_str *rest, uint64_t *value) { return airssys_parse_u64(airssys_next_word(rest), value); }

/* The item goes into JSON unescaped, so it must be plain: a-z, 0-9, '-' (as ingest checks). */
static bool plain(airssys_str s) {
  if (s.len == 0 || s.len > 32) return false;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

/* JSON built in one arena buffer, sized by the caller. */
typedef struct {
  char *ptr;
  size_t len, cap;
} text;

static void put(text *t, airssys_str s) {
  if (s.len > t->cap - t->len) __builtin_trap(); /* a sizing bug: restart rather than overrun */
  __builtin_memcpy(t->ptr + t->len, s.ptr, s.len);
  t->len += s.len;
}

static void put_c(text *t, const char *s) { put(t, airssys_cstr(s)); }
static void put_u64(text *t, uint64_t v) { put(t, str_of(airssys_format_i64((int64_t)v))); }
static airssys_bytes bytes(text t) { return (airssys_bytes){(const uint8_t *)t.ptr, t.len}; }

/* "order/" and the id in 10 digits. */
static airssys_str order_key(uint64_t id) {
  char *key = airssys_alloc(16);
  __builtin_memcpy(key, "order/", 6);
  for (int i = 15; i >= 6; i--, id /= 10) key[i] = (char)('0' + id % 10);
  return (airssys_str){key, 16};
}

// ---------------------------------------------------------------------------------------------
// orders in

static bool from_elsewhere(airssys_str sender, airssys_error *err) {
  airssys_str message = str_of(airssys_concat(
      AIRSSYS_BYTES("orders are taken from config `upstream` only, not from "),
      airssys_str_bytes(sender)));
  airssys_log(AIRSSYS_LOG_WARN, message);
  if (err) *err = (airssys_error){AIRSSYS_STR("capability-denied"), message};
  return false;
}

static bool keep(const airssys_message *m, airssys_error *err) {
  if (!airssys_str_eq(m->sender, upstream)) return from_elsewhere(m->sender, err);

  airssys_str rest = str_of(m->payload);
  uint64_t id, quantity, price, total;
  bool ok = number(&rest, &id) && id <= 9999999999ull;
  airssys_str item = airssys_next_word(&rest);
  ok = ok && plain(item) && number(&rest, &quantity) && number(&rest, &price) && number(&rest, &total) &&
       total <= (uint64_t)INT64_MAX && airssys_next_word(&rest).len == 0;
  if (!ok)
    return airssys_fail(err, "invalid-argument", "expected \"<id> <item> <quantity> <price> <total>\"");

  text record = {airssys_alloc(200), 0, 200}; /* 5 numbers of at most 20 digits, a 32-byte item */
  put_c(&record, "{\"id\":");
  put_u64(&record, id);
  put_c(&record, ",\"item\":\"");
  put(&record, item);
  put_c(&record, "\",\"quantity\":");
  put_u64(&record, quantity);
  put_c(&record, ",\"price\":");
  put_u64(&record, price);
  put_c(&record, ",\"total\":");
  put_u64(&record, total);
  put_c(&record, "}");

  // The writes of one turn are committed together before any message leaves the thread, so an
  // observer that sees the publication can already read the record.
  if (!airssys_storage_set(NS, order_key(id), bytes(record), err)) return false;
  if (!airssys_storage_increment(NS, AIRSSYS_STR("count"), 1, 0, err)) return false;
  if (!airssys_storage_increment(NS, AIRSSYS_STR("revenue"), (int64_t)total, 0, err)) return false;
  return airssys_publish(topic, AIRSSYS_CODEC_JSON, bytes(record), err);
}

// ---------------------------------------------------------------------------------------------
// questions

static bool answer(const airssys_message *m, airssys_response *out, airssys_error *err) {
  airssys_str rest = str_of(m->payload);
  airssys_str question = airssys_next_word(&rest);

  if (airssys_str_eq(question, AIRSSYS_STR("summary")) && airssys_next_word(&rest).len == 0) {
    int64_t count, revenue;
    if (!airssys_storage_get_counter(NS, AIRSSYS_STR("count"), &count, err)) return false;
    if (!airssys_storage_get_counter(NS, AIRSSYS_STR("revenue"), &revenue, err)) return false;
    text t = {airssys_alloc(64), 0, 64};
    put_c(&t, "{\"orders\":");
    put_u64(&t, (uint64_t)count);
    put_c(&t, ",\"revenue\":");
    put_u64(&t, (uint64_t)revenue);
    put_c(&t, "}");
    airssys_reply(out, AIRSSYS_CODEC_JSON, bytes(t));
    return true;
  }

  uint64_t id;
  if (airssys_str_eq(question, AIRSSYS_STR("get")) && number(&rest, &id) && airssys_next_word(&rest).len == 0) {
    bool found;
    airssys_bytes record;
    if (!airssys_storage_get(NS, order_key(id), &found, &record, err)) return false;
    if (!found) return airssys_fail(err, "not-found", "no order with that id");
    airssys_reply(out, AIRSSYS_CODEC_JSON, record);
    return true;
  }

  return airssys_fail(err, "invalid-argument", "ask `summary` or `get <id>`");
}

bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err) {
  if (m->kind == AIRSSYS_KIND_SEND) return keep(m, err);
  if (m->kind == AIRSSYS_KIND_REQUEST) return answer(m, out, err);
  return true;
}
