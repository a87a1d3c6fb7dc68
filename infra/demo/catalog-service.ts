import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SKU_FAMILIES } from '../generator/catalog.js';

/** A product as the catalog API serves it. */
export interface CatalogProduct {
  sku: string;
  name: string;
  category: string;
  unit_cost: number;
  /** ISO-8601 UTC, milliseconds. */
  updated_at: string;
}

/**
 * A fault the next `/products` request gets (queued with {@link CatalogService.inject}, one request each, in order):
 * - `status`: answer with that status (and `Retry-After` when given: as is, or an HTTP date that many seconds after
 *   the response), e.g. 429, 500, 503;
 * - `delay`: answer normally after `ms` (past the client's timeout, the client gives up first);
 * - `malformed`: answer 200 with this raw body (e.g. not JSON);
 * - `corrupt-item`: answer the page with item `item` (1-based, default 1) having `field` set to `value` (removed when
 *   `value` is undefined).
 */
export type CatalogFault =
  | { kind: 'status'; status: number; retryAfter?: string | { httpDateInSeconds: number } }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed'; body: string }
  | { kind: 'corrupt-item'; field: string; value?: unknown; item?: number };

/** One request as the service saw it (epoch-ms timestamps of its own clock). */
export interface CatalogRequest {
  /** When the request arrived. */
  at: number;
  /** When the response was sent (0 while pending). */
  respondedAt: number;
  path: string;
  query: Record<string, string>;
  /** Status sent (0 while pending). */
  status: number;
  /** The injected fault this request got. */
  fault?: CatalogFault['kind'];
  /** The `Retry-After` header sent. */
  retryAfter?: string;
}

/** Families of the demo catalog: Portuguese names, a category per family, a base cost. */
const FAMILIES: Record<string, { name: (size: number) => string; category: string; baseCost: number }> = {
  PAN: { name: (s) => `Frigideira antiaderente ${s} cm`, category: 'Frigideiras', baseCost: 38.9 },
  POT: { name: (s) => `Panela de inox ${s} cm`, category: 'Panelas', baseCost: 61.4 },
  LID: { name: (s) => `Tampa de vidro temperado ${s} cm`, category: 'Tampas', baseCost: 14.75 },
  KET: {
    name: (s) => `Chaleira esmaltada ${(s / 10).toFixed(1).replace('.', ',')} L`,
    category: 'Chaleiras',
    baseCost: 47.2,
  },
  TRY: { name: (s) => `Assadeira retangular ${s} cm`, category: 'Assadeiras', baseCost: 22.3 },
  COL: { name: (s) => `Escorredor de macarrão ${s} cm`, category: 'Escorredores', baseCost: 18.6 },
};

/** The demo catalog: every SKU the generated machines make (deterministic names, categories, costs and times). */
export function demoProducts(): CatalogProduct[] {
  const base = Date.parse('2026-01-05T12:00:00.000Z');
  return SKU_FAMILIES.flat().map((sku, i) => {
    const [, family, size] = /^SKU-([A-Z]+)-(\d+)$/.exec(sku)!;
    const f = FAMILIES[family!]!;
    return {
      sku,
      name: f.name(Number(size)),
      category: f.category,
      unit_cost: Math.round(f.baseCost * (0.6 + Number(size) / 50) * 100) / 100,
      updated_at: new Date(base + i * 60_000).toISOString(),
    };
  });
}

const position = (p: CatalogProduct): [number, string] => [Date.parse(p.updated_at), p.sku];
const after = (a: [number, string], b: [number, string]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/**
 * A stand-in for the product catalog API (a system we do not own), for `npm start` and the tests:
 * `GET /products?updated_since=<iso>&limit=<n>&page_token=<t>` → `{items: [{sku, name, category, unit_cost,
 * updated_at}], next_page_token: string | null}`, items with `updated_at >= updated_since` in (updated_at, sku) order;
 * the page token is the last item's position, so paging is stable while products change. Tests queue faults and
 * read the request log.
 */
export class CatalogService {
  /** Every request to `/products`, in order of arrival. */
  readonly requests: CatalogRequest[] = [];
  private readonly items: CatalogProduct[];
  private readonly faults: CatalogFault[] = [];
  private server: Server | undefined;
  private base = '';

  constructor(private readonly options: { products?: CatalogProduct[]; maxPageSize?: number } = {}) {
    this.items = (options.products ?? demoProducts()).map((p) => ({ ...p }));
  }

  /** Listens on `host:port` (default: a free loopback port); resolves with the base URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.base = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  /** The base URL (after {@link start}). */
  get url(): string {
    return this.base;
  }

  /** Stops listening and drops open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queues faults for the next `/products` requests, one each. */
  inject(...faults: CatalogFault[]): void {
    this.faults.push(...faults);
  }

  /** The catalog as it is now. */
  products(): CatalogProduct[] {
    return this.items.map((p) => ({ ...p }));
  }

  /** Changes a product (or adds one); its `updated_at` becomes now, strictly after every other product's. */
  upsert(sku: string, changes: Partial<Omit<CatalogProduct, 'sku' | 'updated_at'>>): CatalogProduct {
    const latest = Math.max(0, ...this.items.map((p) => Date.parse(p.updated_at)));
    const updated_at = new Date(Math.max(Date.now(), latest + 1)).toISOString();
    let product = this.items.find((p) => p.sku === sku);
    if (!product) {
      product = { sku, name: sku, category: 'Outros', unit_cost: 0, updated_at };
      this.items.push(product);
    }
    Object.assign(product, changes, { updated_at });
    return { ...product };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://catalog');
    const entry: CatalogRequest = {
      at: Date.now(),
      respondedAt: 0,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    if (url.pathname === '/products') this.requests.push(entry);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      Object.assign(entry, { status, respondedAt: Date.now() });
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body);
    };
    res.on('error', () => undefined);
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (url.pathname === '/health') return send(200, JSON.stringify({ status: 'ok' }));
    if (url.pathname !== '/products') return send(404, JSON.stringify({ error: 'not found' }));

    const fault = this.faults.shift();
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) {
        const value =
          typeof fault.retryAfter === 'string'
            ? fault.retryAfter
            : new Date(Date.now() + fault.retryAfter.httpDateInSeconds * 1000).toUTCString();
        headers['retry-after'] = entry.retryAfter = value;
      }
      return send(fault.status, JSON.stringify({ error: `injected ${fault.status}` }), headers);
    }
    if (fault?.kind === 'malformed') return send(200, fault.body);
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));

    const page = this.page(url.searchParams);
    if ('error' in page) return send(400, JSON.stringify({ error: page.error }));
    const items: Record<string, unknown>[] = page.items.map((p) => ({ ...p }));
    if (fault?.kind === 'corrupt-item') {
      const item = items[(fault.item ?? 1) - 1];
      if (item) {
        if (fault.value === undefined) delete item[fault.field];
        else item[fault.field] = fault.value;
      }
    }
    return send(200, JSON.stringify({ items, next_page_token: page.next }));
  }

  private page(params: URLSearchParams): { items: CatalogProduct[]; next: string | null } | { error: string } {
    const sinceText = params.get('updated_since');
    const since = sinceText === null ? -Infinity : Date.parse(sinceText);
    if (Number.isNaN(since)) return { error: 'updated_since must be an ISO-8601 instant' };
    const max = this.options.maxPageSize ?? 100;
    const limitText = params.get('limit');
    const limit = limitText === null ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) return { error: 'limit must be a positive integer' };
    let from: [number, string] | undefined;
    const token = params.get('page_token');
    if (token !== null) {
      try {
        from = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [number, string];
        if (!Array.isArray(from) || typeof from[0] !== 'number' || typeof from[1] !== 'string') throw new Error();
      } catch {
        return { error: 'invalid page_token' };
      }
    }
    const matching = this.items
      .filter((p) => Date.parse(p.updated_at) >= since && (!from || after(position(p), from)))
      .sort((a, b) => (after(position(a), position(b)) ? 1 : -1));
    const items = matching.slice(0, Math.min(limit, max));
    const last = items.at(-1);
    const next =
      matching.length > items.length && last ? Buffer.from(JSON.stringify(position(last))).toString('base64url') : null;
    return { items: items.map((p) => ({ ...p })), next };
  }
}
