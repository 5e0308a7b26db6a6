import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ConfigStorage } from '../client.js';

/**
 * The last good config in a file, written atomically (temp file + rename) so a crash never
 * leaves half a config behind. A missing file is simply no stored config.
 */
export function fileStorage(path: string): ConfigStorage {
  return {
    async load() {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async save(text: string) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, path);
    },
  };
}

/** Reads a bootstrap file (the SDK config or a `rampart snapshot export`) for `createClient({ bootstrap })`. */
export async function readBootstrap(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
