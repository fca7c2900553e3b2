// Small helpers shared by the test files.

// Calls `fn` until `pred(value)` holds; returns that value. Throws with the
// last value after timeoutMs. Order answers wait for the engine, so tests
// no longer need it for order state; it stays for anything asynchronous.
export async function waitFor(fn, pred, { timeoutMs = 10000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
