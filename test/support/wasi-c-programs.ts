/**
 * Small C programs (wasi-libc + the preview1 adapter, built by `cComponent`) that exercise the
 * WASI cli/io/clocks/random layer the way real programs do: through `read`, `write`, `poll`,
 * `usleep`, `clock_gettime`, `getrandom`, `isatty` and `exit`.
 */

/** Copies stdin to stdout until EOF; "read N bytes" on stderr; exits with argv[1] (default 0). */
export const CAT = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  static char buf[65536];
  ssize_t n;
  long total = 0;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, n - off);
      if (w < 0) { perror("write"); return 2; }
      off += w;
    }
    total += n;
  }
  if (n < 0) { perror("read"); return 2; }
  fprintf(stderr, "read %ld bytes\n", total);
  return argc > 1 ? atoi(argv[1]) : 0;
}
`;

/**
 * argv[1] says how to sleep argv[2] microseconds — u: usleep, n: nanosleep, s: sleep (argv[2]
 * seconds), q: usleep and print nothing — then prints the monotonic time it took.
 */
export const SLEEP = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}
int main(int argc, char **argv) {
  char how = argv[1][0];
  long n = atol(argv[2]);
  long long t0 = now_ns();
  if (how == 'u' || how == 'q') usleep(n);
  else if (how == 'n') { struct timespec ts = { n / 1000000, (n % 1000000) * 1000 }; nanosleep(&ts, NULL); }
  else if (how == 's') sleep(n);
  if (how == 'q') return 0;
  printf("slept_us=%lld\n", (now_ns() - t0) / 1000);
  return 0;
}
`;

/** argv[1] times usleep(1): every sleep subscribes to the clock and drops the pollable. */
export const MANY_SLEEPS = String.raw`
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  for (long i = 0; i < n; i++) usleep(1);
  return 0;
}
`;

/** The clocks and getentropy, one "key=value" per line. */
export const CLOCKS = String.raw`
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  struct timespec real, mono, res;
  int rc = clock_gettime(CLOCK_REALTIME, &real);
  rc |= clock_gettime(CLOCK_MONOTONIC, &mono);
  rc |= clock_getres(CLOCK_MONOTONIC, &res);
  unsigned char bytes[16];
  int got = getentropy(bytes, sizeof bytes);
  printf("rc=%d\nrealtime=%lld.%09ld\nmonotonic=%lld.%09ld\nresolution_ns=%ld\ngetentropy=%d\nrandom=",
         rc, (long long)real.tv_sec, real.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec, res.tv_nsec, got);
  for (int i = 0; i < 16; i++) printf("%02x", bytes[i]);
  printf("\n");
  return 0;
}
`;

/**
 * Writes argv[1] bytes ('a'..'z' repeated, at most 2 MiB) to stdout in one write(2) call,
 * then "O" and "E" alternately to stdout and stderr, three times each, unbuffered. Note: the
 * buffer is static — after a malloc of ~128 KiB or more, the preview1 adapter's first fd_write
 * fails an assertion (jco's host too: an adapter limit, not the host's).
 */
export const BIG_WRITE = String.raw`
#include <stdlib.h>
#include <unistd.h>
static char p[2 * 1024 * 1024];
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  if (n > (long)sizeof p) return 3;
  for (long i = 0; i < n; i++) p[i] = 'a' + i % 26;
  for (long off = 0; off < n;) {
    ssize_t w = write(1, p + off, n - off);
    if (w <= 0) return 2;
    off += w;
  }
  for (int i = 0; i < 3; i++) { write(1, "O", 1); write(2, "E", 1); }
  return 0;
}
`;

/** "tty=XYZ": isatty of fds 0, 1 and 2. */
export const ISATTY = String.raw`
#include <stdio.h>
#include <unistd.h>
int main(void) {
  printf("tty=%d%d%d\n", isatty(0), isatty(1), isatty(2));
  return 0;
}
`;

/**
 * poll(2) on stdin: first with a 50 ms timeout, then with 2 s; then one read. Prints
 * "first=R1 second=R2 data=…".
 */
export const POLL_STDIN = String.raw`
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  struct pollfd p = { .fd = 0, .events = POLLIN };
  int first = poll(&p, 1, 50);
  int second = poll(&p, 1, 2000);
  char buf[64];
  ssize_t n = read(0, buf, sizeof buf);
  printf("first=%d second=%d data=%.*s\n", first, second, (int)(n > 0 ? n : 0), buf);
  return 0;
}
`;

/** exit(argv[1]) from inside a function, after buffered output. */
export const EXIT = String.raw`
#include <stdio.h>
#include <stdlib.h>
static void quit(int code) { printf("exiting with %d\n", code); exit(code); }
int main(int argc, char **argv) {
  quit(atoi(argv[1]));
  return 99;
}
`;
