// http-fetch: fetches a URL through the host's outbound HTTP (airssys:ext-network) and answers
// with the response's status and body.
//
//   request "http://127.0.0.1:8787/hello"  ->  "200\nhello from server.mjs\n"  (raw text: the
//                                               status, a newline, then the body as received)
//   a URL its manifest does not grant      ->  the error capability-denied (and an audit record)
//
// Any status is an answer ("404\n..."); only a refusal or a failure (capability-denied,
// timeout, a connection refused) is an error.
//
// The HTTP call does not block: airssys_http_request starts the fetch and returns an operation
// id at once; the response arrives later as a `reply` message carrying that id. So the
// request is deferred, remembered beside the operation it waits for, and answered with
// airssys_reply_to when the response comes in. Meanwhile the instance handles other messages:
// up to PENDING fetches can be under way.
#include "airssys.h"
#include "airssys_ext.h"

#define PENDING 16
#define FETCH_TIMEOUT_MS 10000 /* the host's default would be 30 s */

/* Requests waiting for a response: the fetch's operation id -> the requester's correlation id. */
static struct {
  bool used;
  uint64_t op;
  uint64_t asker;
} pending[PENDING];

static const airssys_pair headers[] = {
    {{"user-agent", 10}, {"airssys-http-fetch-example", 26}},
};

static bool fetch(const airssys_message *m, airssys_response *out, airssys_error *err) {
  airssys_str url = {(const char *)m->payload.ptr, m->payload.len};
  if (m->codec != AIRSSYS_CODEC_RAW || url.len == 0)
    return airssys_fail(err, "invalid-argument", "send the URL to fetch as raw text");
  int slot = -1;
  for (int i = 0; i < PENDING && slot < 0; i++)
    if (!pending[i].used) slot = i;
  if (slot < 0) return airssys_fail(err, "quota-exceeded", "too many fetches under way");

  // The URL is checked by the host, not here: it must parse, and its host:port must match
  // [permissions] network.outbound. A refusal arrives the way a response does, as an error reply
  // for the operation, and is answered in `arrived` below. This call itself fails only when
  // nothing could be started (too many operations in flight: quota-exceeded).
  uint64_t op;
  if (!airssys_http_request(AIRSSYS_STR("GET"), url, headers, 1, 0, FETCH_TIMEOUT_MS, &op, err))
    return false;
  pending[slot].used = true;
  pending[slot].op = op;
  pending[slot].asker = m->correlation_id;
  airssys_defer(out);
  return true;
}

/* "<status>\n<body>" from an HTTP response (AIRSSYS_CODEC_FRAMED: a JSON head, then the body). */
static bool answer(uint64_t asker, airssys_bytes framed, airssys_error *err) {
  airssys_str head;
  airssys_bytes body;
  int64_t status;
  if (!airssys_framed_split(framed, &head, &body) || !airssys_json_i64(head, "status", &status)) {
    static const char malformed[] = "{\"code\":\"internal\",\"message\":\"malformed HTTP response\"}";
    return airssys_reply_to(asker, AIRSSYS_CODEC_ERROR, AIRSSYS_BYTES(malformed), err);
  }
  airssys_bytes text = airssys_concat(airssys_format_i64(status), AIRSSYS_BYTES("\n"));
  return airssys_reply_to(asker, AIRSSYS_CODEC_RAW, airssys_concat(text, body), err);
}

static bool arrived(const airssys_message *m, airssys_error *err) {
  for (int i = 0; i < PENDING; i++) {
    if (!pending[i].used || pending[i].op != m->correlation_id) continue;
    pending[i].used = false;
    // An error reply ({"code":…,"message":…}) is passed on unchanged: the requester gets the
    // host's error, capability-denied or timeout, as if it had made the call itself.
    if (m->codec == AIRSSYS_CODEC_ERROR) return airssys_reply_to(pending[i].asker, m->codec, m->payload, err);
    return answer(pending[i].asker, m->payload, err);
  }
  return true; /* nobody waits for it any more */
}

bool airssys_handle(const airssys_message *m, airssys_response *out, airssys_error *err) {
  if (m->kind == AIRSSYS_KIND_REQUEST && m->has_correlation_id) return fetch(m, out, err);
  if (m->kind == AIRSSYS_KIND_REPLY && m->has_correlation_id) return arrived(m, err);
  return true; /* a plain send has nobody to answer */
}
