// Freshness: per pipeline and entity, the last partition published and its staleness against the SLA; today's
// missing and incomplete partitions with their reasons; open alerts (operators acknowledge them) and the latest
// deliveries of alert messages to their channels.
import { api, el, externalLink, fmt, localTime, pageLink, table } from './util.mjs';

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
  const [f, open, deliveries] = await Promise.all([
    api('/dashboard/freshness', { now: params.now }),
    api('/alerts', { state: 'open', limit: 200 }),
    api('/alert-deliveries', { limit: 20 }),
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
  );
}
