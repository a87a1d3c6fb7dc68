import { createInterface } from 'node:readline';
import type { ObjectStore } from './storage/object-store.js';

/** Streams the UTF-8 lines of a lake object (bounded memory). */
export async function* readLines(store: ObjectStore, key: string): AsyncGenerator<string> {
  const lines = createInterface({ input: await store.get(key), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) yield line;
}
