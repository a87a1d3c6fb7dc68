import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One webhook call as the receiver saw it. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body (what a signature covers). */
  raw: string;
  /** Status the receiver answered. */
  status: number;
}

/** One e-mail as the SMTP server received it (the raw RFC 5322 message and the envelope). */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A stand-in for a team's webhook endpoint (Slack, an incident tool): records every POST and answers `status`
 * (changeable at run time, e.g. 400 to refuse, 503 to be down). Emits `request` for each call.
 */
export class WebhookReceiver extends EventEmitter {
  readonly requests: ReceivedWebhook[] = [];
  status = 200;
  private server?: Server;
  port = 0;

  /** Listens on `port` (0: any free port) on loopback. */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: ReceivedWebhook = {
          path: req.url ?? '/',
          headers: req.headers,
          raw: Buffer.concat(chunks).toString('utf8'),
          status: this.status,
        };
        this.requests.push(got);
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
        this.emit('request', got);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The URL of `path` on this receiver. */
  url(path = '/hooks/fabrica'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Stops listening (the port is then refused: a channel that is down). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A local SMTP server (the `smtp-server` package) that keeps every message it accepts. Emits `mail`. */
export class SmtpReceiver extends EventEmitter {
  readonly mails: ReceivedMail[] = [];
  private server?: SMTPServer;
  port = 0;

  async start(port = 0): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          };
          this.mails.push(mail);
          callback();
          this.emit('mail', mail);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  /** The `smtp://` URL of this server. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * The demo's alert receivers, for `npm start` with no channel configured: a webhook endpoint and an SMTP server on
 * loopback, each message kept in `<inbox>/` (`webhook-<n>.json`, `mail-<n>.eml`) and announced with `say`. Returns
 * the channel configuration to give the worker and the API.
 */
export async function startDemoAlertReceivers(
  inbox: string,
  say: (line: string) => void,
): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  mkdirSync(inbox, { recursive: true });
  const hook = await new WebhookReceiver().start();
  const smtp = await new SmtpReceiver().start();
  let n = 0;
  hook.on('request', (r: ReceivedWebhook) => {
    const file = path.join(inbox, `webhook-${++n}.json`);
    writeFileSync(file, r.raw);
    const title = (JSON.parse(r.raw) as { title?: string }).title ?? '';
    say(`alert webhook received: ${title} (${file})`);
  });
  smtp.on('mail', (m: ReceivedMail) => {
    const file = path.join(inbox, `mail-${++n}.eml`);
    writeFileSync(file, m.raw);
    const subject = /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? '';
    say(`alert e-mail received for ${m.to.join(', ')}: ${subject} (${file})`);
  });
  const channels = [
    { id: 'demo-webhook', type: 'webhook', url: hook.url(), format: 'json', secret: 'demo-webhook-secret' },
    {
      id: 'demo-mail',
      type: 'email',
      smtpUrl: smtp.url,
      from: 'Fábrica <fabrica@localhost>',
      to: ['oncall@localhost'],
      minSeverity: 'critical',
    },
  ];
  return {
    env: { FABRICA_ALERT_CHANNELS: JSON.stringify(channels) },
    async stop() {
      await Promise.all([hook.stop(), smtp.stop()]);
    },
  };
}
