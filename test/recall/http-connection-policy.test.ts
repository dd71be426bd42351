// Who may connect to the HTTP and HTTPS interceptors and for how long: allowedClients, header and body deadlines
// on HTTPS (it had none after the handshake), and no-delay on the sockets the HTTPS listener accepts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Archive,
  CertificateAuthority,
  HTTPSServer,
  HTTPServer,
  PlaybackHTTPClient,
} from '../../lib/recall/index.js';
import { curl } from './http-fixtures.js';

/** Seconds until the server closes a connection that keeps sending `drip` bytes every 100 ms; -1 if it never does. */
function closedWhileDripping(
  socket: net.Socket,
  head: string,
  drip: string,
  guardMs = 8000,
): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    socket.on('error', () => undefined);
    socket.write(head);
    const timer = setInterval(() => socket.writable && socket.write(drip), 100);
    const guard = setTimeout(() => {
      clearInterval(timer);
      resolve(-1);
      socket.destroy();
    }, guardMs);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve((Date.now() - started) / 1000);
    });
  });
}

function tlsConnect(port: number, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'a.test', ca }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('HTTP and HTTPS connection policy', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-policy-'));
    ca = await CertificateAuthority.open('/O=Recall Policy Test', { dir: join(dir, 'ca') });
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.rootCertificatePem);
  });

  afterAll(async () => {
    await ca.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves only allowedClients on HTTP and HTTPS', async () => {
    const exchanger = new PlaybackHTTPClient(Archive.create());
    await using http = new HTTPServer({ exchanger, allowedClients: ['127.0.0.2'] });
    await using https = new HTTPSServer({ exchanger, certificates: ca, allowedClients: ['127.0.0.2'] });
    const httpPort = (await http.listen()).port;
    const httpsPort = (await https.listen()).port;
    await expect(curl('http://a.test/x', httpPort)).rejects.toThrow(/Empty reply|reset|closed/i);
    await expect(curl('https://a.test/x', httpsPort, ['--cacert', caFile])).rejects.toThrow(/curl/);
    const from2 = ['--interface', '127.0.0.2'];
    expect((await curl('http://a.test/x', httpPort, from2)).status).toBe(404);
    expect((await curl('https://a.test/x', httpsPort, [...from2, '--cacert', caFile])).status).toBe(404);
  });

  it('closes an HTTPS connection whose headers or body trickle in past their deadline', async () => {
    await using https = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      certificates: ca,
      headersTimeoutMs: 700,
      bodyTimeoutMs: 700,
    });
    const { port } = await https.listen();
    const headers = await closedWhileDripping(
      await tlsConnect(port, ca.rootCertificatePem),
      'GET / HTTP/1.1\r\n',
      'X',
    );
    expect(headers).toBeGreaterThan(0);
    const body = await closedWhileDripping(
      await tlsConnect(port, ca.rootCertificatePem),
      'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n',
      'x',
    );
    expect(body).toBeGreaterThan(0);
    // An idle connection after its handshake is closed by the header deadline too.
    const idle = await closedWhileDripping(await tlsConnect(port, ca.rootCertificatePem), '', '');
    expect(idle).toBeGreaterThan(0);
  });

  it('gives an Expect: 100-continue upload the body deadline, not the header one', async () => {
    await using http = new HTTPServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      headersTimeoutMs: 500,
      bodyTimeoutMs: 10_000,
    });
    const { port } = await http.listen();
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          'POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n',
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text === 'HTTP/1.1 100 Continue\r\n\r\n') {
          let sent = 0;
          const timer = setInterval(() => {
            socket.write('x'); // ten bytes over 1.5 s: past the header deadline, within the body one
            if (++sent === 10) clearInterval(timer);
          }, 150);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
      setTimeout(() => socket.destroy(), 8000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 404 /);
  });

  it('sets no-delay on every TCP connection the HTTPS listener accepts', async () => {
    await using https = new HTTPSServer({
      exchanger: new PlaybackHTTPClient(Archive.create()),
      certificates: ca,
    });
    const { port } = await https.listen();
    // Node cannot read TCP_NODELAY back from a socket, so this watches the call itself.
    const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    try {
      const client = await tlsConnect(port, ca.rootCertificatePem);
      const accepted = setNoDelay.mock.contexts.findIndex(
        (socket) =>
          (socket as net.Socket).remotePort === client.localPort && !(socket instanceof tls.TLSSocket),
      );
      expect(accepted).toBeGreaterThanOrEqual(0);
      expect(setNoDelay.mock.calls[accepted]).toEqual([true]);
      client.destroy();
    } finally {
      setNoDelay.mockRestore();
    }
  });
});
