// The dashboard shell: sign-in (session cookie), hash routing between pages, and chart lifetimes.
import * as echarts from '/assets/vendor/echarts/echarts.esm.min.mjs';
import { api, ApiError, el, route } from './util.mjs';
import { renderYield } from './yield.mjs';
import { renderFreshness } from './freshness.mjs';
import { renderPipelines } from './pipelines.mjs';
import { renderPartition } from './partition.mjs';

const PAGES = {
  yield: renderYield,
  freshness: renderFreshness,
  pipelines: renderPipelines,
  partition: renderPartition,
};
const $ = (id) => document.getElementById(id);

let session = null;
let charts = [];
let generation = 0;

/** Context handed to pages: who is signed in, and a chart factory whose charts are disposed on navigation. */
function context(gen, hooks) {
  return {
    /** Runs `fn` once the page is in the document (charts measure their containers). */
    mounted: (fn) => hooks.push(fn),
    session,
    canOperate: session?.role === 'operator' || session?.role === 'admin',
    chart(container, option) {
      const c = echarts.init(container, null, { renderer: 'canvas' });
      c.setOption(option);
      charts.push(c);
      return c;
    },
    current: () => gen === generation,
    refresh: () => void show(),
  };
}

async function show() {
  const gen = ++generation;
  for (const c of charts) c.dispose();
  charts = [];
  const { page, params } = route();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const root = $('page');
  root.replaceChildren(el('p', { class: 'hint', id: 'loading' }, 'Loading…'));
  root.dataset.page = page;
  root.dataset.ready = 'false';
  const render = PAGES[page] ?? PAGES.yield;
  try {
    const hooks = [];
    const content = await render(params, context(gen, hooks));
    if (gen !== generation) return;
    root.replaceChildren(content);
    for (const fn of hooks) fn();
  } catch (err) {
    if (gen !== generation) return;
    if (err instanceof ApiError && err.status === 401) return signedOut();
    root.replaceChildren(el('p', { class: 'error', id: 'page-error' }, err.message));
  }
  root.dataset.ready = 'true';
}

function signedOut(message) {
  session = null;
  $('nav').hidden = true;
  $('who').hidden = true;
  $('page').replaceChildren();
  $('sign-in').hidden = false;
  const e = $('sign-in-error');
  e.hidden = !message;
  e.textContent = message ?? '';
  $('page').dataset.ready = 'true';
}

function signedIn(s) {
  session = s;
  $('sign-in').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = `${s.name} (${s.role})`;
  document.body.dataset.role = s.role;
  void show();
}

async function start() {
  $('sign-in-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('api-key');
    api('/session', undefined, { method: 'POST', body: JSON.stringify({ apiKey: input.value }) })
      .then((s) => {
        input.value = '';
        signedIn(s);
      })
      .catch((err) => signedOut(err.message));
  });
  $('sign-out').addEventListener('click', () => {
    void api('/session', undefined, { method: 'DELETE' }).finally(() => signedOut());
  });
  window.addEventListener('hashchange', () => {
    if (session) void show();
  });
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  const s = await api('/session');
  if (s.authenticated) signedIn(s);
  else signedOut();
}

void start();
