// Small helpers shared by the dashboard's pages: the API client, DOM building (text only, never HTML strings),
// number and time formatting in the plant's zone, hash-route parameters.

/** An error answer of the API, with its status and message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** GET (or another method, with a JSON body) an `/api/v1` path with the session cookie; JSON answer. */
export async function api(path, params, init = {}) {
  const headers = { Accept: 'application/json' };
  if (init.method && init.method !== 'GET') headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}${query(params)}`, {
    credentials: 'same-origin',
    ...init,
    headers: { ...headers, ...(init.headers ?? {}) },
  });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? res.statusText);
    throw new ApiError(res.status, msg);
  }
  return body;
}

/** `el('td', { class: 'num', dataset: { x: 1 } }, 'text', child)` */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv === null ? '' : String(dv);
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A table from header labels and rows of cells (a cell: text, a Node, or `{ text, class, dataset }`). */
export function table(id, headers, rows) {
  return el(
    'table',
    { id },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) =>
          el('th', typeof h === 'string' ? {} : { class: h.class }, typeof h === 'string' ? h : h.text),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((r) =>
        el(
          'tr',
          r.attrs ?? {},
          (r.cells ?? r).map((c) =>
            c !== null && typeof c === 'object' && !(c instanceof Node)
              ? el('td', { class: c.class, dataset: c.dataset, title: c.title }, c.node ?? c.text ?? '')
              : el('td', {}, c ?? ''),
          ),
        ),
      ),
    ),
  );
}

/** A number with at most `digits` decimals, or an en dash for null. */
export function fmt(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Local parts of an instant in a zone. */
function parts(iso, timeZone) {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return Object.fromEntries(f.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
}

/** `2026-11-20 10:00` in the zone. */
export function localTime(iso, timeZone) {
  if (!iso) return '–';
  const p = parts(iso, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** `2026-11-20` in the zone. */
export function localDay(iso, timeZone) {
  const p = parts(iso, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The current hash route: `{ page, params }` from `#/page?a=b`. */
export function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [page, q] = h.split('?');
  return { page: page || 'yield', params: Object.fromEntries(new URLSearchParams(q ?? '')) };
}

/** Navigates to a page with parameters (keeping `now` when the current route has one). */
export function go(page, params) {
  const keep = route().params.now;
  const all = { ...(keep ? { now: keep } : {}), ...params };
  location.hash = `#/${page}${query(all)}`;
}

/** A link to another page of the dashboard. */
export function pageLink(text, page, params, attrs = {}) {
  const keep = route().params.now;
  return el('a', { href: `#/${page}${query({ ...(keep ? { now: keep } : {}), ...params })}`, ...attrs }, text);
}

/** A link that opens outside the dashboard (Temporal Web UI). */
export function externalLink(text, href) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
}

/** A labelled input for the controls bar. */
export function field(label, input) {
  return el('label', {}, label, input);
}
