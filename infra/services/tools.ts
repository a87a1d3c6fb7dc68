import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { toolsDir } from '../paths.js';

const execFileAsync = promisify(execFile);

/** A Go-built tool pinned to one version and cached under the tools directory. */
export interface GoTool {
  name: string;
  module: string;
  version: string;
  /** The executable `go install` produces (the module path's last element) when it differs from `name`. */
  binary?: string;
}

/** The official Temporal CLI (its `server start-dev` is the dev server with the Web UI). Later versions cannot be go-installed. */
export const TEMPORAL_CLI: GoTool = {
  name: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal',
  version: 'v1.5.1',
};

/** MinIO, the real S3-protocol server the tests use; pinned to what `@latest` resolved to when it was adopted. */
export const MINIO: GoTool = {
  name: 'minio',
  module: 'github.com/minio/minio',
  version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
};

/**
 * The Temporal server itself (`go.temporal.io/server/cmd/server`), the same release the CLI v1.5.1 embeds
 * (its go.mod requires go.temporal.io/server v1.29.1), so both builds share Go's module and build caches.
 */
export const TEMPORAL_SERVER: GoTool = {
  name: 'temporal-server',
  module: 'go.temporal.io/server/cmd/server',
  version: 'v1.29.1',
  binary: 'server',
};

/** `temporal-sql-tool`, which creates and upgrades the server's SQL schemas; from the same server release. */
export const TEMPORAL_SQL_TOOL: GoTool = {
  name: 'temporal-sql-tool',
  module: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER.version,
  binary: 'sql',
};

/** Helm, which lints and renders the chart in `infra/deploy/helm/fabrica` (the deploy files' test). */
export const HELM: GoTool = {
  name: 'helm',
  module: 'helm.sh/helm/v4/cmd/helm',
  version: 'v4.3.2',
};

/** kubeconform, which checks rendered manifests against the Kubernetes schemas kept in `infra/deploy/schemas`. */
export const KUBECONFORM: GoTool = {
  name: 'kubeconform',
  module: 'github.com/yannh/kubeconform/cmd/kubeconform',
  version: 'v0.8.0',
};

/** Every tool `fabrica tools` builds, in build order. */
export const GO_TOOLS: readonly GoTool[] = [
  TEMPORAL_CLI,
  MINIO,
  TEMPORAL_SERVER,
  TEMPORAL_SQL_TOOL,
  HELM,
  KUBECONFORM,
];

/** Path the tool has in the cache (whether or not it is built yet). */
export function cachedToolPath(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsDir(env), `${tool.name}-${tool.version}`, tool.binary ?? tool.name);
}

/** Finds an executable on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** True when a Go toolchain is available to build the tools. */
export function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns the cached binary, building it with `go install module@version` first when it is missing.
 * Cold builds take minutes; the cache makes every later run instant.
 */
export async function ensureGoTool(tool: GoTool, log: (line: string) => void = () => {}): Promise<string> {
  const target = cachedToolPath(tool);
  if (existsSync(target)) return target;
  if (!hasGo())
    throw new Error(
      `${tool.name} is not built and no Go toolchain is available to build ${tool.module}@${tool.version}`,
    );
  log(`building ${tool.module}@${tool.version} into ${path.dirname(target)} (first time only, takes minutes)…`);
  await execFileAsync('go', ['install', `${tool.module}@${tool.version}`], {
    env: {
      ...process.env,
      GOBIN: path.dirname(target),
      CGO_ENABLED: process.env.CGO_ENABLED ?? '0',
      GOFLAGS: '-trimpath',
    },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(
      `building ${tool.name} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-5).join(' | ')}`,
    );
  });
  if (!existsSync(target)) throw new Error(`building ${tool.name} produced no binary at ${target}`);
  return target;
}

/**
 * The folder Go's module cache holds `module@version` in (downloaded first when missing), as
 * `go mod download -json` reports it: e.g. the server module's `schema/` files for `temporal-sql-tool`.
 */
export async function goModuleDir(module: string, version: string): Promise<string> {
  if (!hasGo()) throw new Error(`no Go toolchain to find ${module}@${version} in the module cache`);
  const { stdout } = await execFileAsync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: Error & { stdout?: string }) => {
    const reported = (() => {
      try {
        return (JSON.parse(err.stdout ?? '') as { Error?: string }).Error;
      } catch {
        return undefined;
      }
    })();
    throw new Error(`go mod download ${module}@${version} failed: ${reported ?? err.message}`);
  });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? 'no Dir reported'}`);
  return info.Dir;
}

/**
 * The Temporal CLI to run, in this order: `FABRICA_TEMPORAL_BIN`, `temporal` on PATH, the tools cache (built with Go
 * when possible). Returns undefined when none is available, so the caller can fall back to the SDK's download.
 */
export async function resolveTemporalCli(log?: (line: string) => void): Promise<string | undefined> {
  const explicit = process.env.FABRICA_TEMPORAL_BIN;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`FABRICA_TEMPORAL_BIN: no file at ${explicit}`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  if (existsSync(cachedToolPath(TEMPORAL_CLI)) || hasGo()) return ensureGoTool(TEMPORAL_CLI, log);
  return undefined;
}
