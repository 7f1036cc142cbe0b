// pipeline / ingest: the entry of the orders pipeline   ingest -> enrich -> store.
//
// Takes an order as one line of text, "<item> <quantity>" ("widget 3"), checks it, numbers it,
// and sends "<id> <item> <quantity>" to the next stage (config `next`).
//
//   send    "widget 3"   fire and forget. A malformed order is refused with invalid-argument,
//                        which nobody hears: the host counts it in the component's stats
//                        (`errors`, `lastError`) and the log line below says which one it was.
//   request "widget 3"   the reply is the order's id ("17"), or the invalid-argument error. The
//                        id means "accepted and passed on", not "stored": ask `store` for that.
//
// Note: ids come from storage-increment, so they keep counting across restarts and upgrades,
// and they are given in arrival order. Messages from one sender to one receiver are delivered in
// the order they were sent (FIFO), at every hop, so `store` receives the orders in id order.
#include "airssys.h"

#define ITEM_MAX 32
#define QUANTITY_MAX 1000000

static airssys_str next; /* where numbered orders go: config `next` */

/* A config-get answer read during init stays valid for the life of the instance: no copy. */
bool airssys_init(airssys_config config, airssys_error *err) {
  (void)config;
  if (!airssys_config_get(AIRSSYS_STR("next"), &next))
    return airssys_fail(err, "invalid-argument", "config `next` (the stage after this one) is missing");
  return true;
}

/* Item names are 1 to 32 of a-z, 0-9, '-': later stages build config keys and JSON from them. */
static bool valid_item(airssys_str s) {
  if (s.len == 0 || s.len > ITEM_MAX) return false;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

static bool reject(airssys_bytes line, airssys_error *err) {
  airssys_bytes note = airssys_concat(AIRSSYS_BYTES("refused order: "), line);
  airssys_log(AIRSSYS_LOG_WARN, (airssys_str){(const char *)note.ptr, note.len});
  return airssys_fail(err, "invalid-argument",
                      "an order is \"<item> <quantity>\": item 1-32 of a-z 0-9 -, quantity 1-1000000");
}

bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err) {
  airssys_str rest = {(const char *)m->payload.ptr, m->payload.len};
  airssys_str item = airssys_next_word(&rest);
  airssys_str quantity = airssys_next_word(&rest);
  uint64_t n;
  if (!valid_item(item) || !airssys_parse_u64(quantity, &n) || n == 0 || n > QUANTITY_MAX ||
      airssys_next_word(&rest).len)
    return reject(m->payload, err);

  int64_t id;
  if (!airssys_storage_increment(AIRSSYS_STR("ids"), AIRSSYS_STR("last"), 1, &id, err)) return false;

  // "<id> <item> <quantity>"
  airssys_bytes order = airssys_format_i64(id);
  order = airssys_concat(order, AIRSSYS_BYTES(" "));
  order = airssys_concat(order, airssys_str_bytes(item));
  order = airssys_concat(order, AIRSSYS_BYTES(" "));
  order = airssys_concat(order, airssys_str_bytes(quantity));
  // A send to a full mailbox fails at once (mailbox-full): the error reaches a requester, and
  // the order is not half-passed-on. (The id is used up; ids may have gaps, never repeats.)
  if (!airssys_send(next, AIRSSYS_CODEC_RAW, order, err)) return false;

  if (m->kind == AIRSSYS_KIND_REQUEST) airssys_reply(out, AIRSSYS_CODEC_RAW, airssys_format_i64(id));
  return true;
}
