// The partition page: "what happened to M07 at 10:00" — files landed, runs and their steps, quality checks,
// quarantined rows, lineage, the published result.
import { api, el, externalLink, field, fmt, go, localTime, table } from './util.mjs';

export async function renderPartition(params) {
  const pipelineInput = el('input', { id: 'partition-pipeline', value: params.pipeline ?? 'factory-machine-signals' });
  const keyInput = el('input', {
    id: 'partition-key',
    value: params.partition ?? '',
    placeholder: 'M07@2026-11-20T10',
  });
  const form = el(
    'form',
    {
      class: 'controls',
      id: 'partition-form',
      onsubmit: (ev) => (
        ev.preventDefault(),
        go('partition', { pipeline: pipelineInput.value, partition: keyInput.value })
      ),
    },
    field('Pipeline', pipelineInput),
    field('Partition', keyInput),
    el('button', { type: 'submit' }, 'Show'),
  );
  if (!params.partition)
    return el(
      'div',
      { id: 'partition-page' },
      el('h2', {}, 'Partition'),
      form,
      el('p', { class: 'hint' }, 'Pick a partition (or click a heatmap cell).'),
    );
  const p = await api('/dashboard/partition', { pipeline: params.pipeline, partition: params.partition });
  const zone = p.timeZone;
  const t = (iso) => (iso ? `${localTime(iso, zone)}` : '–');
  const story = [];
  for (const f of p.landedFiles)
    story.push([
      f.firstSeenAt,
      `File ${f.objectKey} landed (${fmt(f.size, 0)} bytes) — ${f.state}${f.detail ? `: ${f.detail}` : ''}`,
    ]);
  for (const r of p.runs) {
    story.push([r.startedAt, `Run ${r.runId} (${r.runKind}) started`]);
    for (const s of r.steps)
      story.push([
        s.finishedAt,
        `  ${s.step}: ${s.status} in ${fmt(s.durationMs, 0)} ms${s.rowsOut !== null ? `, ${fmt(s.rowsOut, 0)} rows out` : ''}${s.rowsQuarantined ? `, ${fmt(s.rowsQuarantined, 0)} quarantined` : ''}`,
      ]);
    if (r.finishedAt)
      story.push([
        r.finishedAt,
        `Run ${r.runId} ${r.status}${r.failure ? ` — ${r.failure.type}: ${r.failure.message}` : ''}`,
      ]);
  }
  for (const pub of p.published)
    story.push([pub.loadedAt, `Published ${pub.dataset}: ${fmt(pub.rows, 0)} rows (run ${pub.runId})`]);
  story.sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
  const y = p.yield;
  return el(
    'div',
    { id: 'partition-page', dataset: { partition: p.partition, status: p.status } },
    el('h2', {}, `${p.partition} — ${p.status}`),
    form,
    el('p', { class: 'hint' }, `${p.pipeline}; covers ${t(p.window.start)} to ${t(p.window.end)} (${zone}).`),
    el('h3', {}, 'What happened'),
    el(
      'ol',
      { id: 'story' },
      story.map(([when, what]) => el('li', {}, `${t(when)} — ${what}`)),
    ),
    y
      ? el(
          'div',
          {},
          el('h3', {}, 'Yield'),
          table(
            'partition-yield',
            [
              'items',
              'OK',
              'scrap',
              'rework',
              'yield %',
              'downtime min',
              'cycle mean ms',
              'cycle p95 ms',
              'max vibration',
              'mean temp °C',
              'energy Wh',
              'scrap cost',
            ],
            [
              {
                attrs: { dataset: { items: y.items, ok: y.ok, scrap: y.scrap, yield: y.yield_pct ?? '' } },
                cells: [
                  y.items,
                  y.ok,
                  y.scrap,
                  y.rework,
                  fmt(y.yield_pct, 2),
                  fmt(y.downtime_minutes, 2),
                  fmt(y.cycle_ms_mean, 1),
                  fmt(y.cycle_ms_p95, 1),
                  fmt(y.vibration_max, 2),
                  fmt(y.temp_c_mean, 2),
                  fmt(y.energy_wh, 1),
                  y.scrap_cost === null ? 'unknown' : fmt(y.scrap_cost, 2),
                ],
              },
            ],
          ),
        )
      : null,
    el('h3', {}, `Runs (${p.runs.length})`),
    table(
      'partition-runs',
      ['run', 'kind', 'status', 'failure', 'started', 'finished', 'steps', 'links'],
      p.runs.map((r) => ({
        attrs: { dataset: { run: r.runId, status: r.status } },
        cells: [
          r.runId,
          r.runKind,
          r.status,
          r.failure ? `${r.failure.type}: ${r.failure.message}` : '',
          t(r.startedAt),
          t(r.finishedAt),
          r.steps.map((s) => `${s.step} ${s.status}`).join(' → '),
          externalLink('Temporal', r.links.temporalUi),
        ],
      })),
    ),
    el('h3', {}, `Files landed (${p.landedFiles.length})`),
    table(
      'partition-files',
      ['file', 'state', 'detail', 'bytes', 'seen'],
      p.landedFiles.map((f) => [f.objectKey, f.state, f.detail ?? '', fmt(f.size, 0), t(f.firstSeenAt)]),
    ),
    el('h3', {}, 'Quality checks'),
    table(
      'partition-quality',
      ['run', 'check', 'passed', 'observed', 'threshold'],
      p.quality.map((q) => [q.runId, q.check, q.passed ? 'yes' : 'NO', fmt(q.observed, 4), fmt(q.threshold, 4)]),
    ),
    el('h3', {}, `Quarantined rows (${p.quarantine.total})`),
    el(
      'p',
      { id: 'quarantine-reasons' },
      Object.entries(p.quarantine.byReason).map(([r, n]) =>
        el('span', { dataset: { reason: r, count: n } }, `${r}: ${n}  `),
      ),
    ),
    table(
      'partition-quarantine',
      ['line', 'reason', 'column', 'detail', 'raw'],
      p.quarantine.rows.map((q) => [q.lineNo, q.reason, q.column ?? '', q.detail, q.raw]),
    ),
    el('h3', {}, 'Lineage'),
    table(
      'partition-lineage',
      ['step', 'input', 'output', 'run'],
      p.lineage.map((l) => [l.step, l.input, l.output, l.runId]),
    ),
  );
}
