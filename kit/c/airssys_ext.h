/*
 * airssys_ext.h — the host's extension interfaces for C components built with the kit:
 *
 *   airssys:ext-filesystem/filesystem@1.0.0   files beneath the manifest's granted roots
 *   airssys:ext-network/http@1.0.0            outbound HTTP to the granted hosts
 *   airssys:ext-process/process@1.0.0         child processes from the granted executables
 *
 * Every call is asynchronous, like airssys_request: it checks its arguments, starts the
 * operation and returns a correlation id (`*op`). The outcome arrives later as a `reply`
 * message carrying that id: the result on success, or an error reply (AIRSSYS_CODEC_ERROR,
 * JSON {"code":…,"message":…}) when the host refused or the operation failed. A call returns
 * false (and fills `*err`) only when nothing was started: too many operations in flight
 * (`quota-exceeded`) or an argument no operation could take (`invalid-argument`).
 *
 * Include this header and compile airssys_ext.c (the framed-reply helpers) alongside airssys.c.
 * The world to embed is `airssys:core/component@1.0.0` plus an import of each extension
 * interface the component calls (scripts/build-fixtures.mjs composes it: `cComponent(…, { ext })`).
 *
 * Like airssys.h's host-services wrappers, these are static inline: a core import is emitted only
 * when some code calls it, so a component imports just the extension functions it uses, and one
 * that never includes this header imports no extension interface at all.
 *
 * Memory: the wrappers allocate nothing; arguments only need to live for the call. The framed
 * helpers return views into the payload they are given (for a reply, the message's arena).
 */
#ifndef AIRSSYS_EXT_H
#define AIRSSYS_EXT_H

#include "airssys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reply codec of HTTP responses and process results: a 4-byte little-endian length `n`, then
 * `n` bytes of JSON head, then the body. See airssys_framed_split. */
enum { AIRSSYS_CODEC_FRAMED = 0x300003 };

/* ------------------------------------------------------------------------------------------ */
/* raw imports                                                                                 */
/*
 * Flattened as in airssys.h: string and list<T> are (ptr, len), list<string> points at
 * airssys_str records (8 bytes), list<tuple<string, string>> at airssys_pair records (16 bytes),
 * option<list<u8>> is (discriminant, ptr, len), bool is an i32. The most any of these functions
 * takes is 10 flat values (request and spawn: 2 + 2 + 2 + 3 + 1), within the 16 that may be
 * passed directly. Every result is result<u64, error>, which does not fit one core value: the
 * last parameter points at a return area laid out as airssys__ret_u64 (discriminant at 0, the
 * u64 or the error at 8); the ext interfaces' `error` record has the same fields as
 * `types.error`, so it is read as an airssys_error.
 */

#define AIRSSYS_EXT_FS(name) \
  __attribute__((import_module("airssys:ext-filesystem/filesystem@1.0.0"), import_name(name)))
#define AIRSSYS_EXT_HTTP(name) \
  __attribute__((import_module("airssys:ext-network/http@1.0.0"), import_name(name)))
#define AIRSSYS_EXT_PROCESS(name) \
  __attribute__((import_module("airssys:ext-process/process@1.0.0"), import_name(name)))

AIRSSYS_EXT_FS("read-file")
void airssys__fs_read_file(const char *path, size_t path_len, uint32_t max_bytes, void *ret);
AIRSSYS_EXT_FS("write-file")
void airssys__fs_write_file(const char *path, size_t path_len, const uint8_t *data,
                            size_t data_len, int32_t append, void *ret);
AIRSSYS_EXT_FS("list-dir") void airssys__fs_list_dir(const char *path, size_t path_len, void *ret);
AIRSSYS_EXT_FS("stat") void airssys__fs_stat(const char *path, size_t path_len, void *ret);
AIRSSYS_EXT_FS("create-dir")
void airssys__fs_create_dir(const char *path, size_t path_len, void *ret);
AIRSSYS_EXT_FS("remove-file")
void airssys__fs_remove_file(const char *path, size_t path_len, void *ret);

AIRSSYS_EXT_HTTP("request")
void airssys__http_request(const char *method, size_t method_len, const char *url, size_t url_len,
                           const airssys_pair *headers, size_t headers_len, int32_t has_body,
                           const uint8_t *body, size_t body_len, uint32_t timeout_ms, void *ret);

AIRSSYS_EXT_PROCESS("spawn")
void airssys__process_spawn(const char *command, size_t command_len, const airssys_str *args,
                            size_t args_len, const airssys_pair *env, size_t env_len,
                            int32_t has_stdin, const uint8_t *stdin_ptr, size_t stdin_len,
                            uint32_t timeout_ms, void *ret);

/* The operation id of an ext call's result<u64, error>. */
static inline bool airssys__ext_started(const airssys__ret_u64 *r, uint64_t *op,
                                        airssys_error *err) {
  if (r->is_err) {
    if (err) *err = r->u.error;
    return false;
  }
  if (op) *op = r->u.value;
  return true;
}

/* ------------------------------------------------------------------------------------------ */
/* filesystem: paths are resolved beneath the roots granted by `[permissions] filesystem`       */

/* Reply: the file's bytes (raw). `max_bytes` 0 means the host's limit; a larger file is refused. */
static inline bool airssys_fs_read_file(airssys_str path, uint32_t max_bytes, uint64_t *op,
                                        airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_read_file(path.ptr, path.len, max_bytes, &r);
  return airssys__ext_started(&r, op, err);
}

/* Creates or replaces the file, or appends to it; needs `filesystem.write`. Reply: empty. */
static inline bool airssys_fs_write_file(airssys_str path, airssys_bytes data, bool append,
                                         uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_write_file(path.ptr, path.len, data.ptr, data.len, append, &r);
  return airssys__ext_started(&r, op, err);
}

/* Reply: JSON [{"name": "a.txt", "type": "file" | "directory" | "symlink" | "other"}, ...]. */
static inline bool airssys_fs_list_dir(airssys_str path, uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_list_dir(path.ptr, path.len, &r);
  return airssys__ext_started(&r, op, err);
}

/* Reply: JSON {"type": ..., "size": <bytes>, "modified-ms": <ms since the epoch>}. */
static inline bool airssys_fs_stat(airssys_str path, uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_stat(path.ptr, path.len, &r);
  return airssys__ext_started(&r, op, err);
}

/* Needs `filesystem.write`. Reply: empty. */
static inline bool airssys_fs_create_dir(airssys_str path, uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_create_dir(path.ptr, path.len, &r);
  return airssys__ext_started(&r, op, err);
}

/* Removes a file; needs `filesystem.write`. Reply: empty. */
static inline bool airssys_fs_remove_file(airssys_str path, uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__fs_remove_file(path.ptr, path.len, &r);
  return airssys__ext_started(&r, op, err);
}

/* ------------------------------------------------------------------------------------------ */
/* network: the URL's host and port must match `[permissions] network.outbound`                */

/* `headers` is an array of `headers_len` (name, value) pairs; `body` NULL for none. `timeout_ms`
 * 0 means the host's default. Reply (AIRSSYS_CODEC_FRAMED): head JSON
 * {"status": 200, "headers": [["content-type", "text/plain"], ...]}, then the response body. */
static inline bool airssys_http_request(airssys_str method, airssys_str url,
                                        const airssys_pair *headers, size_t headers_len,
                                        const airssys_bytes *body, uint32_t timeout_ms,
                                        uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__http_request(method.ptr, method.len, url.ptr, url.len, headers, headers_len, body != 0,
                        body ? body->ptr : 0, body ? body->len : 0, timeout_ms, &r);
  return airssys__ext_started(&r, op, err);
}

/* ------------------------------------------------------------------------------------------ */
/* process: `command` must be an executable listed in `[permissions] process.spawn`            */

/* `args` (never a shell) and `env` (the child's whole environment) are arrays of `args_len` and
 * `env_len` items; `stdin_bytes` NULL for none. `timeout_ms` 0 means the host's default. Reply
 * (AIRSSYS_CODEC_FRAMED): head JSON {"exit-code": 0 | null, "signal": null | "SIGKILL",
 * "stdout-bytes": <k>}, then stdout, then stderr (airssys_process_output splits them). */
static inline bool airssys_process_spawn(airssys_str command, const airssys_str *args,
                                         size_t args_len, const airssys_pair *env, size_t env_len,
                                         const airssys_bytes *stdin_bytes, uint32_t timeout_ms,
                                         uint64_t *op, airssys_error *err) {
  airssys__ret_u64 r;
  airssys__process_spawn(command.ptr, command.len, args, args_len, env, env_len, stdin_bytes != 0,
                         stdin_bytes ? stdin_bytes->ptr : 0, stdin_bytes ? stdin_bytes->len : 0,
                         timeout_ms, &r);
  return airssys__ext_started(&r, op, err);
}

/* ------------------------------------------------------------------------------------------ */
/* framed replies (airssys_ext.c)                                                              */

/* Splits a AIRSSYS_CODEC_FRAMED payload into its JSON head and its body, both views into
 * `payload`; false when the payload is shorter than its 4-byte head length says. */
bool airssys_framed_split(airssys_bytes payload, airssys_str *head, airssys_bytes *body);

/* The integer value of the top-level member `key` of the JSON object `json` (such as a framed
 * head's "status", "exit-code" or "stdout-bytes"); false when the member is absent, null or not
 * an integer. Keys are compared as written, without decoding escapes. */
bool airssys_json_i64(airssys_str json, const char *key, int64_t *value);

/* A process reply's head and its stdout and stderr (split with the head's "stdout-bytes");
 * false when the payload is malformed. */
bool airssys_process_output(airssys_bytes payload, airssys_str *head, airssys_bytes *out,
                            airssys_bytes *errout);

#ifdef __cplusplus
}
#endif

#endif /* AIRSSYS_EXT_H */
