/**
 * A run's Recall archive played back on loopback for a local Chromium: HTTP and HTTPS interceptors on
 * 127.0.0.1 (ports picked free), a throw-away CA whose shared leaf key Chromium is told to accept, and
 * `--host-resolver-rules` sending every host's port 80 and 443 to them. No device, no DNS, no internet.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive, CertificateAuthority, HTTPServer, HTTPSServer, PlaybackHTTPClient, type PlaybackMiss } from '../../lib/recall/index.js';

export class LocalRecall {
  /** Chromium flags that route its traffic here and trust the interceptor's certificates. */
  readonly chromiumFlags: readonly string[];
  readonly #playback: PlaybackHTTPClient;
  readonly #close: () => Promise<void>;

  private constructor(flags: string[], playback: PlaybackHTTPClient, close: () => Promise<void>) {
    this.chromiumFlags = flags;
    this.#playback = playback;
    this.#close = close;
  }

  static async start(archiveFile: string): Promise<LocalRecall> {
    const archive = await Archive.load(archiveFile);
    const playback = new PlaybackHTTPClient(archive);
    const caDir = await mkdtemp(join(tmpdir(), 'session-replay-ca-'));
    const ca = await CertificateAuthority.open('/O=autotest session-replay', { dir: caDir });
    const http = new HTTPServer({ exchanger: playback, host: '127.0.0.1', port: 0 });
    const https = new HTTPSServer({ exchanger: playback, certificates: ca, host: '127.0.0.1', port: 0 });
    const close = async () => {
      await Promise.allSettled([http.close(), https.close()]);
      await playback.close();
      await ca.close();
      await rm(caDir, { recursive: true, force: true });
    };
    try {
      const [httpAddress, httpsAddress] = await Promise.all([http.listen(), https.listen()]);
      // Every leaf shares one key: trusting its SPKI trusts every host's certificate, and nothing else.
      const leaf = await ca.certificateFor('session-replay.invalid');
      const spki = new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'der' });
      const flags = [
        `--host-resolver-rules=MAP *:80 127.0.0.1:${httpAddress.port}, MAP *:443 127.0.0.1:${httpsAddress.port}`,
        `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
      ];
      return new LocalRecall(flags, playback, close);
    } catch (error) {
      await close();
      throw error;
    }
  }

  /** Requests the archive could not answer. */
  misses(): readonly PlaybackMiss[] {
    return this.#playback.misses();
  }

  close(): Promise<void> {
    return this.#close();
  }
}
