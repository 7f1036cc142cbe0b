// pipeline / enrich: the middle of the orders pipeline   ingest -> enrich -> store.
//
// Receives "<id> <item> <quantity>" from ingest, looks up the item's unit price in its own
// `[config]` (key "price-<item>", in cents), and sends "<id> <item> <quantity> <price> <total>"
// to the next stage (config `next`). An item without a price goes on at price 0, with a warning
// in the log, rather than vanishing: the store's totals then show what was not priced.
//
// Prices in config make this one stage re-priceable without a rebuild: deploy the same binary
// with another Component.toml (a new version), and the next order is priced by it.
#include "airssys.h"

static airssys_str next;

bool airssys_init(airssys_config config, airssys_error *err) {
  (void)config;
  if (!airssys_config_get(AIRSSYS_STR("next"), &next))
    return airssys_fail(err, "invalid-argument", "config `next` (the stage after this one) is missing");
  return true;
}

static airssys_str str_of(airssys_bytes b) { return (airssys_str){(const char *)b.ptr, b.len}; }

/* The unit price of `item` in cents: config "price-<item>", 0 when there is none. */
static uint64_t price_of(airssys_str item) {
  airssys_str key = str_of(airssys_concat(AIRSSYS_BYTES("price-"), airssys_str_bytes(item)));
  airssys_str text;
  uint64_t cents;
  if (airssys_config_get(key, &text) && airssys_parse_u64(text, &cents) && cents <= 1000000000) return cents;
  airssys_str note = str_of(airssys_concat(AIRSSYS_BYTES("no price for "), airssys_str_bytes(item)));
  airssys_log(AIRSSYS_LOG_WARN, note);
  return 0;
}

static airssys_bytes then(airssys_bytes text, airssys_bytes more) {
  return airssys_concat(airssys_concat(text, AIRSSYS_BYTES(" ")), more);
}

bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err) {
  (void)out; /* enrich answers nothing: orders arrive by send */
  airssys_str rest = str_of(m->payload);
  airssys_str id = airssys_next_word(&rest);
  airssys_str item = airssys_next_word(&rest);
  uint64_t quantity;
  // Quantities up to 10^6 (ingest's limit) and prices up to 10^9 cents: the total fits.
  if (id.len == 0 || item.len == 0 || !airssys_parse_u64(airssys_next_word(&rest), &quantity) || quantity > 1000000)
    return airssys_fail(err, "invalid-argument", "expected \"<id> <item> <quantity>\"");

  uint64_t price = price_of(item);
  airssys_bytes order = m->payload;
  order = then(order, airssys_format_i64((int64_t)price));
  order = then(order, airssys_format_i64((int64_t)(price * quantity)));
  return airssys_send(next, AIRSSYS_CODEC_RAW, order, err);
}
