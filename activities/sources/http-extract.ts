import type { HttpJsonSourceSpec, SourcePosition } from '../../workflows/sources/spec.js';
import { heartbeat } from '../activity-context.js';
import { PayloadInvalidError } from '../failures.js';
import { encodeCopyRow } from '../formats/copy-text.js';
import type { PartWriter } from './common.js';
import { getWithRetries } from './http-client.js';
import { jsonFieldAsText } from './validate.js';

/** What an HTTP extract saw. */
export interface HttpExtract {
  maxSeen: SourcePosition;
  extractedAt: string;
  pages: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `updated_since` of a sync: the committed watermark minus the lookback (millisecond precision, rounded down). */
export function sinceParameter(spec: HttpJsonSourceSpec, from: SourcePosition): string | undefined {
  if (from.ts === null) return undefined;
  const ms = Date.parse(`${from.ts.slice(0, 23)}Z`) - spec.lookbackSeconds * 1000;
  return new Date(ms).toISOString();
}

/**
 * Pages through an HTTP JSON source from the committed watermark (minus the lookback): every page is fetched with
 * the spec's timeout and retries, parsed, and every item validated against the spec's fields before anything is
 * written, so a bad payload fails the sync naming the page, the item and the field. Items stream into the lake's part
 * files; memory holds one page.
 */
export async function extractHttp(
  base: string,
  spec: HttpJsonSourceSpec,
  from: SourcePosition,
  rows: PartWriter,
): Promise<HttpExtract> {
  const extractedAt = new Date().toISOString();
  const since = sinceParameter(spec, from);
  let maxSeen: SourcePosition = { ts: null, key: null };
  let token: string | undefined;
  let page = 0;
  const seenTokens = new Set<string>();
  do {
    page++;
    const url = new URL(`${base}${spec.path}`);
    if (since !== undefined) url.searchParams.set(spec.watermarkParam, since);
    url.searchParams.set(spec.paging.limitParam, String(spec.batchSize));
    if (token !== undefined) url.searchParams.set(spec.paging.tokenParam, token);
    const label = `${spec.id}: page ${page} (GET ${url.pathname}${url.search})`;
    const body = await getWithRetries(url, spec.request, label);
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new PayloadInvalidError(`${label}: response is not JSON: ${JSON.stringify(body.slice(0, 80))}`, {
        source: spec.id,
        page,
      });
    }
    const envelope = (problem: string): never => {
      throw new PayloadInvalidError(`${label}: ${problem}`, { source: spec.id, page });
    };
    if (!isObject(doc)) envelope('response is not a JSON object');
    const page_ = doc as Record<string, unknown>;
    const items = page_[spec.paging.itemsField];
    if (!Array.isArray(items)) envelope(`field "${spec.paging.itemsField}" must be an array`);
    const next = page_[spec.paging.nextTokenField];
    if (next !== undefined && next !== null && (typeof next !== 'string' || next === ''))
      envelope(`field "${spec.paging.nextTokenField}" must be a non-empty string or null`);
    const encoded: string[] = [];
    (items as unknown[]).forEach((item, i) => {
      const keyValue = isObject(item) ? item[spec.key] : undefined;
      const where = `page ${page}, item ${i + 1}${typeof keyValue === 'string' || typeof keyValue === 'number' ? ` (${spec.key} ${JSON.stringify(keyValue)})` : ''}`;
      if (!isObject(item))
        throw new PayloadInvalidError(`${spec.id}: ${where}: not a JSON object`, { source: spec.id, where });
      const values = spec.columns.map((c) => jsonFieldAsText(spec, c, item, where));
      const ts = values[spec.columns.findIndex((c) => c.name === spec.watermark)]!;
      const key = values[spec.columns.findIndex((c) => c.name === spec.key)]!;
      if (maxSeen.ts === null || ts > maxSeen.ts || (ts === maxSeen.ts && key > maxSeen.key!)) maxSeen = { ts, key };
      encoded.push(encodeCopyRow(values));
    });
    for (const row of encoded) await rows.add(row);
    token = typeof next === 'string' ? next : undefined;
    if (token !== undefined) {
      if (seenTokens.has(token))
        envelope(`${spec.paging.nextTokenField} ${JSON.stringify(token)} was already returned`);
      seenTokens.add(token);
    }
    heartbeat({ page, rows: rows.rows });
  } while (token !== undefined);
  return { maxSeen, extractedAt, pages: page };
}
