import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

/** A proxy listening on 127.0.0.1 in front of a plaintext Temporal frontend. */
export interface TestProxy {
  port: number;
  address: string;
  close(): Promise<void>;
}

/** TLS options of a test proxy: its certificate, and the CA its clients must present a certificate of (mTLS). */
export interface ProxyTls {
  cert: Buffer;
  key: Buffer;
  /** Set: mTLS, a client without a certificate signed by this CA is refused in the handshake. */
  clientCa?: Buffer;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closer(server: net.Server, sockets: Set<{ destroy(): void }>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/**
 * A TLS-terminating TCP proxy: the TLS (and, with `clientCa`, mTLS) a production Temporal frontend would do, piping
 * the decrypted bytes to the dev server at `target`.
 */
export async function startTlsProxy(target: string, o: ProxyTls): Promise<TestProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      cert: o.cert,
      key: o.key,
      ALPNProtocols: ['h2'],
      ...(o.clientCa ? { ca: o.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (client) => {
      const upstream = net.connect(port, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream?.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    },
  );
  server.on('tlsClientError', () => undefined);
  const listening = await listen(server);
  return { port: listening, address: `127.0.0.1:${listening}`, close: closer(server, sockets) };
}

/**
 * A gRPC-aware TLS proxy (HTTP/2) that checks each call's `authorization: Bearer <key>` as Temporal Cloud does:
 * a wrong or missing key is answered `UNAUTHENTICATED` (gRPC status 16), a right one forwarded to `target`.
 */
export async function startApiKeyProxy(target: string, o: ProxyTls & { apiKey: string }): Promise<TestProxy> {
  // One upstream session, opened again when the server (or an idle timeout) closed it.
  let upstream: http2.ClientHttp2Session | undefined;
  const session = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${target}`);
      upstream.on('error', () => undefined);
    }
    return upstream;
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({ cert: o.cert, key: o.key, allowHTTP1: false });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers.authorization !== `Bearer ${o.apiKey}`) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'Request unauthorized.',
        },
        { endStream: true },
      );
      return;
    }
    const forward: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers))
      if (!k.startsWith(':') || k === ':method' || k === ':path') forward[k] = v;
    let req: http2.ClientHttp2Stream;
    try {
      req = session().request(forward);
    } catch {
      // The session went away between the check and the call: the caller's gRPC retry comes back.
      upstream = undefined;
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    req.on('error', () => stream.destroy());
    req.on('response', (h) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') || k === ':status') out[k] = v;
      if (h['grpc-status'] !== undefined) {
        // A trailers-only response (an error, typically): the status travels in the headers, the stream ends there.
        stream.respond(out, { endStream: true });
        req.resume();
        return;
      }
      stream.respond(out, { waitForTrailers: true });
      req.pipe(stream);
    });
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('trailers', (t: http2.IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(req);
  });
  const listening = await listen(server);
  return {
    port: listening,
    address: `127.0.0.1:${listening}`,
    close: async () => {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
