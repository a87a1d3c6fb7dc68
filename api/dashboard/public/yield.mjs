// Plant yield: machines × hours heatmap of a day, per-machine trends with maintenance events, top scrap SKUs with
// their cost, and the QA lab's reject rate per SKU.
import { api, el, field, fmt, go, localDay, localTime, pageLink, table } from './util.mjs';

const STATUS_LABEL = {
  ok: 'OK',
  empty: 'EMPTY',
  failed: 'FAILED',
  incomplete: 'INCOMPLETE',
  missing: 'MISSING',
  running: 'RUNNING',
  pending: 'PENDING',
  not_expected: 'OFF',
};
const STATUS_COLOR = {
  empty: '#607d8b',
  failed: '#c62828',
  incomplete: '#ef6c00',
  missing: '#6a1b9a',
  running: '#1565c0',
  pending: '#bdbdbd',
  not_expected: '#eeeeee',
};
const METRICS = {
  yieldPct: 'Yield %',
  scrap: 'Scrap (items)',
  rework: 'Rework (items)',
  downtimeMinutes: 'Downtime (min)',
  cycleMsMean: 'Cycle time mean (ms)',
  cycleMsP95: 'Cycle time p95 (ms)',
  vibrationMax: 'Max vibration (mm/s)',
  tempCMean: 'Mean temperature (°C)',
  energyWh: 'Energy (Wh)',
};

function shiftDay(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function heatmapChart(ctx, container, heat) {
  const hours = heat.hours.map((h) => String(h).padStart(2, '0'));
  const x = new Map(heat.hours.map((h, i) => [h, i]));
  const y = new Map(heat.machines.map((m, i) => [m, i]));
  const ok = heat.cells.filter((c) => c.status === 'ok').map((c) => [x.get(c.hour), y.get(c.machine), c.yieldPct]);
  const values = ok.map((v) => v[2]).filter((v) => v !== null);
  const statuses = Object.keys(STATUS_COLOR);
  ctx.chart(container, {
    animation: false,
    tooltip: {
      formatter: (p) => {
        const c = heat.cells.find((k) => x.get(k.hour) === p.value[0] && y.get(k.machine) === p.value[1]);
        if (!c) return '';
        return `${c.partition}: ${c.status === 'ok' ? `${fmt(c.yieldPct)} % yield (${c.items} items)` : `${STATUS_LABEL[c.status]} — ${c.reason ?? ''}`}`;
      },
    },
    grid: { top: 10, left: 60, right: 110, bottom: 40 },
    xAxis: {
      type: 'category',
      data: hours,
      name: 'hour',
      nameLocation: 'middle',
      nameGap: 25,
      splitArea: { show: true },
    },
    yAxis: { type: 'category', data: heat.machines, inverse: true, splitArea: { show: true } },
    visualMap: {
      seriesIndex: 0,
      min: values.length ? Math.floor(Math.min(...values)) : 0,
      max: 100,
      calculable: true,
      orient: 'vertical',
      right: 0,
      top: 'center',
      inRange: { color: ['#fff3e0', '#aed581', '#1b5e20'] },
      text: ['100 %', 'yield'],
    },
    series: [
      { name: 'yield', type: 'heatmap', data: ok, label: { show: true, formatter: (p) => fmt(p.value[2]) } },
      ...statuses.map((s) => ({
        name: s,
        type: 'heatmap',
        itemStyle: { color: STATUS_COLOR[s], borderColor: '#fff', borderWidth: 1 },
        label: {
          show: true,
          color: s === 'pending' || s === 'not_expected' ? '#616161' : '#fff',
          fontSize: 9,
          formatter: STATUS_LABEL[s],
        },
        data: heat.cells.filter((c) => c.status === s).map((c) => [x.get(c.hour), y.get(c.machine), 0]),
      })),
    ],
  });
}

function heatmapTable(heat) {
  const by = new Map(heat.cells.map((c) => [c.partition, c]));
  return table(
    'heatmap-table',
    ['machine', ...heat.hours.map((h) => ({ text: String(h).padStart(2, '0'), class: 'cell' }))],
    heat.machines.map((m) => [
      m,
      ...heat.hours.map((h) => {
        const c = heat.cells.find((k) => k.machine === m && k.hour === h) ?? by.get('');
        if (!c) return '';
        return {
          class: `cell status-${c.status}`,
          dataset: { partition: c.partition, status: c.status, yield: c.yieldPct ?? '', items: c.items ?? '' },
          title: c.reason ?? `${c.items} items, ${c.ok} OK, ${c.scrap} scrap`,
          node: pageLink(c.status === 'ok' ? fmt(c.yieldPct) : STATUS_LABEL[c.status], 'partition', {
            pipeline: heat.pipeline,
            partition: c.partition,
          }),
        };
      }),
    ]),
  );
}

function trendsChart(ctx, container, trends, metric) {
  const label = (t) => (trends.bucket === 'hour' ? localTime(t, trends.timeZone) : localDay(t, trends.timeZone));
  // Every bucket of the range on the axis (days or hours without data stay gaps).
  const all = [];
  if (trends.bucket === 'hour')
    for (let t = Date.parse(trends.start); t < Date.parse(trends.end); t += 3_600_000)
      all.push(label(new Date(t).toISOString()));
  else for (let d = trends.from; d <= trends.to; d = shiftDay(d, 1)) all.push(d);
  const uniq = [...new Set(all)];
  const bucketOf = (iso) => {
    const l = label(iso);
    if (trends.bucket === 'hour') return `${l.slice(0, 13)}:00`;
    return l;
  };
  ctx.chart(container, {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { top: 40, left: 60, right: 30, bottom: 60 },
    xAxis: { type: 'category', data: uniq },
    yAxis: { type: 'value', name: METRICS[metric], scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
    series: trends.machines.map((m) => {
      const byLabel = new Map(m.points.map((p) => [label(p.t), p[metric]]));
      const events = trends.maintenance.filter((e) => e.machine === m.machine && uniq.includes(bucketOf(e.startedAt)));
      return {
        name: m.machine,
        type: 'line',
        connectNulls: false,
        showSymbol: uniq.length < 60,
        data: uniq.map((l) => byLabel.get(l) ?? null),
        markLine: events.length
          ? {
              symbol: 'none',
              label: { formatter: (p) => p.name, fontSize: 9 },
              lineStyle: { type: 'dashed' },
              data: events.map((e) => ({ xAxis: bucketOf(e.startedAt), name: `${m.machine} ${e.kind}` })),
            }
          : undefined,
      };
    }),
  });
}

function trendsTable(trends) {
  const count = (m) => trends.maintenance.filter((e) => e.machine === m).length;
  return table(
    'trends-table',
    [
      'machine',
      ...['items', 'OK', 'scrap', 'rework', 'yield %', 'downtime min', 'max vibration', 'energy Wh', 'maintenance'].map(
        (t) => ({ text: t, class: 'num' }),
      ),
    ],
    trends.machines.map((m) => {
      const sum = (k) => m.points.reduce((a, p) => a + (p[k] ?? 0), 0);
      const items = sum('items');
      const ok = sum('ok');
      const energy = m.points.some((p) => p.energyWh !== null) ? sum('energyWh') : null;
      const vib = m.points.reduce(
        (a, p) => (p.vibrationMax === null ? a : Math.max(a ?? -Infinity, p.vibrationMax)),
        null,
      );
      const cells = [
        items,
        ok,
        sum('scrap'),
        sum('rework'),
        items ? (100 * ok) / items : null,
        sum('downtimeMinutes'),
        vib,
        energy,
        count(m.machine),
      ];
      const keys = ['items', 'ok', 'scrap', 'rework', 'yield', 'downtime', 'vibration', 'energy', 'maintenance'];
      return {
        attrs: { dataset: { machine: m.machine } },
        cells: [
          m.machine,
          ...cells.map((v, i) => ({ class: 'num', dataset: { key: keys[i], value: v ?? '' }, text: fmt(v, 2) })),
        ],
      };
    }),
  );
}

/** Renders the page for `day` (default: the day of `now`), trends over `from..to`. */
export async function renderYield(params, ctx) {
  const heat = await api('/dashboard/yield/heatmap', { day: params.day, now: params.now });
  const to = params.to ?? heat.day;
  const from = params.from ?? shiftDay(to, -6);
  const metric = METRICS[params.metric] ? params.metric : 'yieldPct';
  const [trends, scrap, lab] = await Promise.all([
    api('/dashboard/yield/trends', { from, to, machines: params.machines, now: params.now }),
    api('/dashboard/yield/scrap', { from, to, now: params.now }),
    api('/dashboard/yield/lab', { from, to, now: params.now }),
  ]);
  const dayInput = el('input', { type: 'date', id: 'day', value: heat.day });
  const fromInput = el('input', { type: 'date', id: 'from', value: from });
  const toInput = el('input', { type: 'date', id: 'to', value: to });
  const machinesInput = el('input', { id: 'machines', placeholder: 'M01,M07 (all)', value: params.machines ?? '' });
  const metricSelect = el(
    'select',
    { id: 'metric' },
    Object.entries(METRICS).map(([k, v]) => el('option', { value: k, selected: k === metric }, v)),
  );
  const apply = () =>
    go('yield', {
      day: dayInput.value,
      from: fromInput.value,
      to: toInput.value,
      machines: machinesInput.value || undefined,
      metric: metricSelect.value,
    });
  for (const i of [dayInput, fromInput, toInput, metricSelect]) i.addEventListener('change', apply);
  machinesInput.addEventListener('change', apply);

  const heatChart = el('div', { class: 'chart', id: 'heatmap-chart' });
  const trendChart = el('div', { class: 'chart', id: 'trends-chart' });
  const scrapChart = el('div', { class: 'chart small', id: 'scrap-chart' });
  const counts = Object.entries(heat.counts).map(([s, n]) =>
    el('span', { class: `status-${s}`, dataset: { status: s, count: n } }, `${STATUS_LABEL[s]} ${n}`),
  );
  const root = el(
    'div',
    { id: 'yield-page' },
    el('h2', {}, 'Plant yield'),
    el(
      'div',
      { class: 'controls' },
      field('Heatmap day', dayInput),
      field('Trends from', fromInput),
      field('to', toInput),
      field('Machines', machinesInput),
      field('Metric', metricSelect),
    ),
    el('h3', {}, `Yield % by machine and hour — ${heat.day} (${heat.timeZone})`),
    el('p', { class: 'legend', id: 'heatmap-legend' }, counts),
    heatChart,
    heatmapTable(heat),
    el(
      'h3',
      {},
      `${METRICS[metric]} per machine, ${trends.from} … ${trends.to} (${trends.bucket}ly; dashed lines: maintenance)`,
    ),
    trendChart,
    trendsTable(trends),
    el(
      'div',
      { class: 'grid2' },
      el(
        'div',
        {},
        el('h3', {}, 'Top scrap SKUs'),
        scrapChart,
        table(
          'scrap-table',
          [
            'SKU',
            'product',
            { text: 'scrapped', class: 'num' },
            { text: 'unit cost', class: 'num' },
            { text: 'scrap cost', class: 'num' },
          ],
          scrap.skus.map((s) => ({
            attrs: { dataset: { sku: s.sku, items: s.scrapItems, cost: s.scrapCost ?? '' } },
            cells: [
              s.sku,
              s.productName ?? '(not in catalog)',
              { class: 'num', text: fmt(s.scrapItems, 0) },
              { class: 'num', text: s.unitCost === null ? 'unknown' : fmt(s.unitCost, 2) },
              { class: 'num', text: s.scrapCost === null ? 'unknown' : fmt(s.scrapCost, 2) },
            ],
          })),
        ),
      ),
      el(
        'div',
        {},
        el('h3', {}, 'QA lab reject rate per SKU'),
        lab.available
          ? table(
              'lab-table',
              [
                'SKU',
                { text: 'samples', class: 'num' },
                { text: 'rejected', class: 'num' },
                { text: 'reject %', class: 'num' },
              ],
              lab.skus.map((s) => ({
                attrs: { dataset: { sku: s.sku, rate: s.rejectRate ?? '' } },
                cells: [
                  s.sku,
                  { class: 'num', text: fmt(s.samples, 0) },
                  { class: 'num', text: fmt(s.rejected, 0) },
                  { class: 'num', text: fmt(s.rejectRate === null ? null : 100 * s.rejectRate, 2) },
                ],
              })),
            )
          : el('p', { class: 'hint', id: 'lab-unavailable' }, 'The QA lab flow is not deployed here.'),
        lab.available && lab.skus.length === 0 ? el('p', { class: 'hint' }, 'No lab days in this range.') : null,
      ),
    ),
  );
  // Charts need their containers in the document to measure them.
  ctx.mounted(() => {
    heatmapChart(ctx, heatChart, heat);
    trendsChart(ctx, trendChart, trends, metric);
    ctx.chart(scrapChart, {
      animation: false,
      tooltip: {},
      grid: { top: 10, left: 90, right: 20, bottom: 30 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', inverse: true, data: scrap.skus.map((s) => s.sku) },
      series: [{ type: 'bar', data: scrap.skus.map((s) => s.scrapItems), itemStyle: { color: '#c62828' } }],
    });
  });
  return root;
}
