/**
 * Runs writes to one flag one after another inside this process.
 *
 * Writes to one flag serialise on its row lock anyway; what this changes is where the queue
 * waits. Without it, 200 concurrent edits of one flag each take a pooled connection and sit on
 * the row lock, so the pool is exhausted and every other request of this replica (other flags,
 * token checks, the evaluation API's reloads) waits behind one hot flag until the pool's wait
 * limit turns them into errors. With it, one connection per flag is in use at a time and the
 * rest of the queue waits in memory. Other replicas still order themselves on the row lock.
 */
export function createKeyQueue() {
  const tails = new Map<string, Promise<unknown>>();

  return function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    // A failed write must not fail the ones queued behind it: they wait for it to settle only.
    const result = previous.then(work, work);
    const tail = result.catch(() => {});
    tails.set(key, tail);
    // The last one out removes the entry, so keys written once do not accumulate.
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
