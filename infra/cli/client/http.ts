/** The API answered with an error status; `message` is the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API could not be reached (refused, DNS, TLS, timeout). */
export class ApiUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnreachableError';
  }
}

/** A successful response: its status, raw text and parsed JSON body (undefined when empty or not JSON). */
export interface ApiResponse {
  status: number;
  text: string;
  body: unknown;
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function errorMessage(res: Response, text: string, body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string' && message) return message;
  const plain = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return plain || res.statusText || 'error';
}

function unreachable(base: string, err: unknown): ApiUnreachableError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const reason = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message);
  return new ApiUnreachableError(`cannot reach the API at ${base}: ${reason}`);
}

/** A minimal JSON client of the Fábrica REST API (global fetch), sending the API key when there is one. */
export class ApiClient {
  constructor(
    /** Base URL ending in `/api/v1`. */
    readonly base: string,
    private readonly key: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Calls the API; throws {@link ApiError} for a non-2xx answer, {@link ApiUnreachableError} when there is none. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    o: { query?: Record<string, string>; body?: Record<string, unknown> } = {},
  ): Promise<ApiResponse> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key) headers['x-api-key'] = this.key;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw unreachable(this.base, err);
    }
    const body = parseJson(text);
    if (!res.ok) throw new ApiError(res.status, errorMessage(res, text, body));
    return { status: res.status, text, body };
  }
}
