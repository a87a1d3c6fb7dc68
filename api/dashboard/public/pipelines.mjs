// Pipelines: runs per hour by status, failures with links, quarantined rows by reason, landing → published latency
// against the SLA, running backfills (operators can pause, resume, cancel), recent feature exports.
import { api, el, externalLink, fmt, localTime, pageLink, table } from './util.mjs';

const STATUS_COLORS = { succeeded: '#2e7d32', unchanged: '#90a4ae', failed: '#c62828', running: '#1565c0' };

function hourAxis(rows, now, hours) {
  const end = Math.floor(Date.parse(now) / 3_600_000) * 3_600_000;
  const out = [];
  for (let t = end - (hours - 1) * 3_600_000; t <= end; t += 3_600_000) out.push(new Date(t).toISOString());
  return out;
}

function backfillRow(b, ctx) {
  const status = el('span', { class: 'bf-status', dataset: { status: b.status } }, b.status);
  const act = (action) =>
    el(
      'button',
      {
        type: 'button',
        class: `bf-${action}`,
        dataset: { action, backfill: b.backfillId },
        onclick: (ev) => {
          ev.target.disabled = true;
          api(`/backfills/${encodeURIComponent(b.backfillId)}/${action}`, undefined, { method: 'POST', body: '{}' })
            .then((v) => {
              status.textContent = v.status;
              status.dataset.status = v.status;
              status.dataset.acted = action;
            })
            .catch((err) => {
              status.textContent = `${action} refused: ${err.message}`;
              status.dataset.error = String(err.status);
            })
            .finally(() => (ev.target.disabled = false));
        },
      },
      action,
    );
  const p = b.progress;
  return {
    attrs: { dataset: { backfill: b.backfillId } },
    cells: [
      externalLink(b.backfillId, b.links.temporalUi),
      `${b.pipeline ?? ''} ${b.from ?? ''} … ${b.to ?? ''}${b.machines ? ` (${b.machines.join(',')})` : ''}`,
      { node: status },
      {
        node: p
          ? el(
              'span',
              {},
              el('progress', { max: p.total || 1, value: p.done + p.failed + p.skipped }),
              ` ${p.done + p.failed + p.skipped}/${p.total} (${p.failed} failed, ${p.running} running)`,
            )
          : '–',
      },
      {
        node: ctx.canOperate
          ? el('span', { class: 'operator-actions' }, act('pause'), act('resume'), act('cancel'))
          : '',
      },
    ],
  };
}

export async function renderPipelines(params, ctx) {
  const [p, bf, ex] = await Promise.all([
    api('/dashboard/pipelines', { now: params.now, hours: params.hours, pipeline: params.pipeline }),
    api('/dashboard/backfills'),
    api('/dashboard/exports'),
  ]);
  const axis = hourAxis(p.runsPerHour, p.now, p.hours);
  const label = (iso) => localTime(iso, 'UTC').slice(5);
  const statuses = [...new Set(p.runsPerHour.map((r) => r.status))];
  const totals = {};
  for (const r of p.runsPerHour) totals[r.status] = (totals[r.status] ?? 0) + r.n;
  const reasons = [...new Set(p.quarantine.map((q) => q.reason))];
  const qTotals = {};
  for (const q of p.quarantine) qTotals[q.reason] = (qTotals[q.reason] ?? 0) + q.n;
  const runsChart = el('div', { class: 'chart small', id: 'runs-chart' });
  const quarantineChart = el('div', { class: 'chart small', id: 'quarantine-chart' });
  const latencyChart = el('div', { class: 'chart small', id: 'latency-chart' });
  ctx.mounted(() => {
    const stack = (rows, key, keyOf, valueOf) =>
      key.map((k) => ({
        name: k,
        type: 'bar',
        stack: 'all',
        itemStyle: STATUS_COLORS[k] ? { color: STATUS_COLORS[k] } : undefined,
        data: axis.map((h) =>
          rows
            .filter((r) => keyOf(r) === k && new Date(r.hour).toISOString() === h)
            .reduce((a, r) => a + valueOf(r), 0),
        ),
      }));
    const base = {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { top: 30, left: 50, right: 20, bottom: 30 },
      xAxis: { type: 'category', data: axis.map(label) },
      yAxis: { type: 'value' },
    };
    ctx.chart(runsChart, {
      ...base,
      series: stack(
        p.runsPerHour,
        statuses,
        (r) => r.status,
        (r) => r.n,
      ),
    });
    ctx.chart(quarantineChart, {
      ...base,
      series: stack(
        p.quarantine,
        reasons,
        (r) => r.reason,
        (r) => r.n,
      ),
    });
    ctx.chart(latencyChart, {
      ...base,
      yAxis: { type: 'value', name: 'seconds' },
      series: [
        {
          name: 'p50',
          type: 'line',
          data: axis.map((h) => p.latencyHourly.find((r) => new Date(r.hour).toISOString() === h)?.p50Seconds ?? null),
        },
        {
          name: 'p95',
          type: 'line',
          data: axis.map((h) => p.latencyHourly.find((r) => new Date(r.hour).toISOString() === h)?.p95Seconds ?? null),
          markLine: {
            symbol: 'none',
            data: [{ yAxis: p.latencySlaSeconds, name: 'SLA' }],
            label: { formatter: 'SLA 10 min' },
            lineStyle: { color: '#c62828' },
          },
        },
      ],
    });
  });
  return el(
    'div',
    { id: 'pipelines-page' },
    el('h2', {}, 'Pipelines'),
    el('p', { class: 'hint' }, `The ${p.hours} hours up to ${p.now} (UTC axis).`),
    el(
      'div',
      { class: 'grid2' },
      el(
        'div',
        {},
        el('h3', {}, 'Runs per hour by status'),
        runsChart,
        table(
          'runs-totals',
          ['status', { text: 'runs', class: 'num' }],
          Object.entries(totals).map(([s, n]) => ({
            attrs: { dataset: { status: s, count: n } },
            cells: [s, { class: 'num', text: n }],
          })),
        ),
      ),
      el(
        'div',
        {},
        el('h3', {}, 'Quarantined rows by reason'),
        quarantineChart,
        table(
          'quarantine-totals',
          ['reason', { text: 'rows', class: 'num' }],
          Object.entries(qTotals).map(([r, n]) => ({
            attrs: { dataset: { reason: r, count: n } },
            cells: [r, { class: 'num', text: n }],
          })),
        ),
      ),
    ),
    el('h3', {}, 'Landing → published latency (SLA 10 min)'),
    latencyChart,
    table(
      'latency-table',
      [
        'pipeline',
        { text: 'runs', class: 'num' },
        { text: 'p50 s', class: 'num' },
        { text: 'p95 s', class: 'num' },
        { text: 'max s', class: 'num' },
        { text: 'over SLA', class: 'num' },
        'SLA',
      ],
      p.latency.map((l) => ({
        attrs: { dataset: { pipeline: l.pipeline, runs: l.runs, p50: l.p50Seconds, p95: l.p95Seconds } },
        cells: [
          l.pipeline,
          { class: 'num', text: l.runs },
          { class: 'num', text: fmt(l.p50Seconds) },
          { class: 'num', text: fmt(l.p95Seconds) },
          { class: 'num', text: fmt(l.maxSeconds) },
          { class: 'num', text: l.overSla },
          {
            class: l.p95Seconds > p.latencySlaSeconds ? 'status-red' : 'status-green',
            text: l.p95Seconds > p.latencySlaSeconds ? 'p95 over SLA' : 'within SLA',
          },
        ],
      })),
    ),
    el('h3', {}, `Failures (${p.failures.length})`),
    table(
      'failures-table',
      ['started', 'pipeline', 'partition', 'type', 'message', 'links'],
      p.failures.map((f) => ({
        attrs: { dataset: { partition: f.partition, type: f.type ?? '' } },
        cells: [
          localTime(f.startedAt, 'UTC'),
          f.pipeline,
          pageLink(f.partition, 'partition', { pipeline: f.pipeline, partition: f.partition }),
          f.type ?? '',
          f.message ?? '',
          externalLink('Temporal', f.links.temporalUi),
        ],
      })),
    ),
    el('h3', {}, `Running backfills (${bf.backfills.length})`),
    ctx.canOperate
      ? null
      : el(
          'p',
          { class: 'hint', id: 'viewer-note' },
          'Pausing, resuming and cancelling backfills needs an operator key.',
        ),
    bf.backfills.length
      ? table(
          'backfills-table',
          ['backfill', 'range', 'status', 'progress', ctx.canOperate ? 'actions' : ''],
          bf.backfills.map((b) => backfillRow(b, ctx)),
        )
      : el('p', { class: 'hint', id: 'no-backfills' }, 'No backfill is running.'),
    el('h3', {}, 'Recent feature exports'),
    ex.exports.length
      ? table(
          'exports-table',
          [
            'export',
            'feature set',
            'range',
            'status',
            { text: 'rows', class: 'num' },
            { text: 'bytes', class: 'num' },
            'manifest',
          ],
          ex.exports.map((e) => ({
            attrs: { dataset: { export: e.exportId, status: e.status } },
            cells: [
              e.exportId,
              `${e.featureSet} v${e.version}`,
              `${e.from} … ${e.to}`,
              e.status + (e.error ? `: ${e.error}` : ''),
              { class: 'num', text: fmt(e.rows, 0) },
              { class: 'num', text: fmt(e.bytes, 0) },
              {
                node: e.manifest
                  ? el(
                      'details',
                      {},
                      el('summary', {}, e.manifestKey ?? 'manifest'),
                      el('pre', {}, JSON.stringify(e.manifest, null, 2)),
                    )
                  : '–',
              },
            ],
          })),
        )
      : el('p', { class: 'hint' }, 'No export yet.'),
  );
}
