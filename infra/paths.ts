import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from this module to the directory holding Fábrica's package.json (works from sources and from dist/). */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'infra'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot locate the Fábrica project root (package.json)');
    dir = parent;
  }
}

/** Absolute path of the project root. */
export const projectRoot = findProjectRoot();

/** Where the Go-built tools (Temporal CLI, MinIO) are cached across runs: `FABRICA_TOOLS_DIR` or `~/.cache/fabrica/tools`. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FABRICA_TOOLS_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'fabrica', 'tools');
}
