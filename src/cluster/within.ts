/**
 * Waits for `work` at most `ms`: leaving a cluster must not hang on a NATS server that is gone
 * (a flush or an acknowledgement would wait for a reconnection that may never come).
 * Resolves true when the work finished in time; its failure counts as finished.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
