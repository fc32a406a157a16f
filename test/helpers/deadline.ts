/** Every wait in a test has a deadline: a broken feature fails the test instead of hanging it. */

/** `promise`, or a rejection naming `what` once `ms` have passed (the timer is cleared either way). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${typeof what === 'string' ? what : what()}`)), ms);
  });
  return Promise.race([promise, fail]).finally(() => clearTimeout(timer));
}
