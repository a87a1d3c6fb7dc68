/** A Node system error (`ENOSPC`, `EIO`, `EACCES`…): it has a `code` and the `syscall` that failed. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException & { syscall: string } {
  const e = error as { code?: unknown; syscall?: unknown } | null;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

/**
 * The error of a failed write to `file`, with the file in its message: Node's `write`, `fsync` and `close` errors say
 * only `ENOSPC: no space left on device, write`, which does not tell an operator which disk is full. `code`, `errno`
 * and `syscall` are kept (and the original is the `cause`); any other error is returned as it is.
 */
export function writeError<E>(error: E, file: string): E | Error {
  if (!isSystemError(error) || error.message.includes(file)) return error;
  const named = new Error(`writing ${file}: ${error.message}`, { cause: error }) as NodeJS.ErrnoException;
  named.code = error.code;
  named.errno = error.errno;
  named.syscall = error.syscall;
  named.path = file;
  return named;
}
