// Freshness: per pipeline and entity, the last partition published and its staleness against the SLA; today's
// missing and incomplete partitions with their reasons; open alerts (operators acknowledge them) and the latest
// deliveries of alert messages to their channels.
import { api, el, externalLink, field, fmt, localTime, pageLink, table } from './util.mjs';

/** The acknowledgement cell of an open alert: who acknowledged it, or (for operators) a button. */
function ackCell(a, ctx) {
  const cell = el('span', { class: 'ack' });
  const show = (alert) => {
    cell.replaceChildren(`${alert.acknowledgedBy} at ${localTime(alert.acknowledgedAt, 'UTC')}`);
    cell.dataset.acknowledgedBy = alert.acknowledgedBy;
  };
  if (a.acknowledgedAt) show(a);
  else if (ctx?.canOperate)
    cell.append(
      el(
        'button',
        {
          type: 'button',
          class: 'ack-button',
          onclick: (ev) => {
            ev.target.disabled = true;
            api(`/alerts/${a.id}/ack`, undefined, {
              method: 'POST',
              body: JSON.stringify({ comment: 'acknowledged on the dashboard' }),
            })
              .then(show)
              .catch((err) => {
                ev.target.disabled = false;
                cell.dataset.error = String(err.status);
                cell.append(` refused: ${err.message}`);
              });
          },
        },
        'acknowledge',
      ),
    );
  else cell.append('–');
  return { node: cell };
}

/** An active silence's row: what it matches, until when, why; operators can end it now. */
function silenceRow(x, ctx) {
  const status = el('span', { class: 'silence-status' });
  const end = () =>
    el(
      'button',
      {
        type: 'button',
        class: 'end-silence',
        onclick: (ev) => {
          ev.target.disabled = true;
          api(`/alert-silences/${x.id}/expire`, undefined, { method: 'POST', body: '{}' })
            .then(() => {
              status.textContent = 'ended';
              status.closest('tr').dataset.active = 'false';
              ev.target.remove();
            })
            .catch((err) => {
              ev.target.disabled = false;
              status.dataset.error = String(err.status);
              status.textContent = `refused: ${err.message}`;
            });
        },
      },
      'end now',
    );
  return {
    attrs: { dataset: { silence: x.id, active: String(x.active) } },
    cells: [
      x.pipeline ?? 'all pipelines',
      x.kind ?? 'all kinds',
      x.partitionPrefix ?? '',
      localTime(x.endsAt, 'UTC'),
      x.reason,
      x.createdBy,
      { node: el('span', {}, status, ctx?.canOperate ? end() : '') },
    ],
  };
}

/** Active silences, and (for operators) a form to silence alerts for a while. */
function silencesSection(silences, pipelines, ctx) {
  const silencesTable = (items) =>
    table(
      'silences-table',
      ['pipeline', 'kind', 'partition prefix', 'until (UTC)', 'reason', 'by', ''],
      items.map((x) => silenceRow(x, ctx)),
    );
  const list = silences.items.length
    ? silencesTable(silences.items)
    : el('p', { class: 'hint', id: 'no-silences' }, 'No active silence.');
  const section = el('section', { id: 'silences' }, el('h3', {}, `Silences (${silences.items.length} active)`), list);
  if (!ctx?.canOperate) return section;
  const pipeline = el(
    'select',
    { name: 'pipeline' },
    el('option', { value: '' }, 'all pipelines'),
    pipelines.map((p) => el('option', { value: p }, p)),
  );
  const kind = el(
    'select',
    { name: 'kind' },
    el('option', { value: '' }, 'all kinds'),
    ['run_failed', 'freshness', 'incomplete_file'].map((k) => el('option', { value: k }, k)),
  );
  const prefix = el('input', { name: 'partitionPrefix', placeholder: 'e.g. M07@', maxlength: 120 });
  const minutes = el('input', { name: 'minutes', type: 'number', min: 1, max: 43200, value: 120, required: true });
  const reason = el('input', { name: 'reason', required: true, maxlength: 500, placeholder: 'why (maintenance…)' });
  const result = el('span', { id: 'silence-result', role: 'status' });
  const form = el(
    'form',
    {
      id: 'silence-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        const body = { minutes: Number(minutes.value), reason: reason.value };
        if (pipeline.value) body.pipeline = pipeline.value;
        if (kind.value) body.kind = kind.value;
        if (prefix.value) body.partitionPrefix = prefix.value;
        api('/alert-silences', undefined, { method: 'POST', body: JSON.stringify(body) })
          .then((x) => {
            result.textContent = `silenced until ${localTime(x.endsAt, 'UTC')} UTC`;
            result.dataset.silence = x.id;
            delete result.dataset.error;
            const tbody = section.querySelector('#silences-table tbody');
            if (tbody) tbody.prepend(silencesTable([x]).querySelector('tbody tr'));
            else section.querySelector('#no-silences')?.replaceWith(silencesTable([x]));
          })
          .catch((err) => {
            result.dataset.error = String(err.status);
            result.textContent = `refused: ${err.message}`;
          });
      },
    },
    field('Pipeline', pipeline),
    field('Kind', kind),
    field('Partition prefix', prefix),
    field('Minutes', minutes),
    field('Reason', reason),
    el('button', { type: 'submit' }, 'silence'),
    result,
  );
  section.append(el('h4', {}, 'Silence alerts for a while'), form);
  return section;
}

/** Open alerts with their acknowledgement, and the latest deliveries with their status. */
function alertsSection(open, deliveries, ctx) {
  return el(
    'section',
    { id: 'alerts' },
    el('h3', {}, `Open alerts (${open.items.length})`),
    ctx?.canOperate
      ? null
      : el('p', { class: 'hint', id: 'ack-viewer-note' }, 'Acknowledging an alert needs an operator key.'),
    open.items.length
      ? table(
          'open-alerts-table',
          ['kind', 'severity', 'pipeline', 'partition', 'message', 'since (UTC)', 'acknowledged'],
          open.items.map((a) => ({
            attrs: { dataset: { alert: a.id, kind: a.kind } },
            cells: [
              a.kind,
              { class: `severity-${a.severity}`, text: a.severity },
              a.pipeline,
              a.partition ? pageLink(a.partition, 'partition', { pipeline: a.pipeline, partition: a.partition }) : '',
              a.message,
              localTime(a.createdAt, 'UTC'),
              ackCell(a, ctx),
            ],
          })),
        )
      : el('p', { class: 'hint' }, 'No open alerts.'),
    el('h3', {}, 'Latest alert deliveries'),
    deliveries.items.length
      ? table(
          'deliveries-table',
          ['channel', 'event', 'alerts', 'status', { text: 'attempts', class: 'num' }, 'last error', 'at (UTC)'],
          deliveries.items.map((d) => ({
            attrs: { dataset: { delivery: d.id, status: d.status } },
            cells: [
              d.channel,
              d.event,
              d.alertIds.join(', '),
              { class: `status-${d.status}`, text: d.status },
              { class: 'num', text: String(d.attempts) },
              d.lastError ?? '',
              localTime(d.deliveredAt ?? d.createdAt, 'UTC'),
            ],
          })),
        )
      : el('p', { class: 'hint' }, 'No deliveries yet (no channel configured, or nothing to say).'),
  );
}

function problems(id, title, list, zoneNote) {
  return el(
    'div',
    {},
    el('h4', {}, `${title} (${list.length})`),
    list.length
      ? table(
          id,
          ['partition', 'status', 'reason', 'links'],
          list.map((p) => ({
            attrs: { dataset: { partition: p.partition, status: p.status } },
            cells: [
              pageLink(p.partition, 'partition', { pipeline: p.pipeline, partition: p.partition }),
              { class: `status-${p.status}`, text: p.status },
              p.reason ?? '',
              p.links.temporalUi ? externalLink('Temporal', p.links.temporalUi) : '',
            ],
          })),
        )
      : el('p', { class: 'hint' }, `None today${zoneNote}.`),
  );
}

export async function renderFreshness(params, ctx) {
  const [f, open, deliveries, silences] = await Promise.all([
    api('/dashboard/freshness', { now: params.now }),
    api('/alerts', { state: 'open', limit: 200 }),
    api('/alert-deliveries', { limit: 20 }),
    api('/alert-silences'),
  ]);
  return el(
    'div',
    { id: 'freshness-page', dataset: { now: f.now } },
    el('h2', {}, 'Freshness'),
    el(
      'p',
      { class: 'hint' },
      `As of ${f.now} (UTC). Staleness = now − end of the last published partition; overdue = how long the calendar's next partition has been due; red when overdue over the SLA during working hours.`,
    ),
    f.pipelines.map((p) =>
      el(
        'section',
        { class: 'pipeline', dataset: { pipeline: p.pipeline } },
        el(
          'h3',
          {},
          `${p.pipeline} — SLA ${p.slaMinutes} min, ${p.workingHours ? 'working hours' : 'outside working hours'}, today ${p.today}`,
        ),
        table(
          `freshness-${p.pipeline}`,
          [
            p.kind === 'day' ? 'pipeline' : 'entity',
            'last partition published',
            'published at',
            { text: 'staleness (min)', class: 'num' },
            'next due',
            { text: 'overdue (min)', class: 'num' },
            'status',
          ],
          p.entities.map((e) => ({
            attrs: {
              dataset: {
                entity: e.entity ?? '',
                status: e.status,
                staleness: e.stalenessMinutes ?? '',
                overdue: e.overdueMinutes ?? '',
                last: e.lastPartition ?? '',
              },
            },
            cells: [
              e.entity ?? p.pipeline,
              e.lastPartition
                ? pageLink(e.lastPartition, 'partition', { pipeline: p.pipeline, partition: e.lastPartition })
                : 'never',
              e.lastPublishedAt ? localTime(e.lastPublishedAt, 'UTC') + ' UTC' : '–',
              { class: 'num', text: fmt(e.stalenessMinutes, 0) },
              e.nextDue ?? '–',
              { class: 'num', text: fmt(e.overdueMinutes, 0) },
              { class: `status-${e.status}`, text: e.status },
            ],
          })),
        ),
        problems(`missing-${p.pipeline}`, 'Missing or failed today', p.missing, ''),
        problems(`incomplete-${p.pipeline}`, 'Incomplete today', p.incomplete, ''),
        p.inFlight.length ? problems(`inflight-${p.pipeline}`, 'In flight', p.inFlight, '') : null,
      ),
    ),
    alertsSection(open, deliveries, ctx),
    silencesSection(
      silences,
      f.pipelines.map((p) => p.pipeline),
      ctx,
    ),
  );
}
