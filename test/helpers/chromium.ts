// Debian's Chromium, headless, as every browser test starts it (playwright-core drives it; no browser download).
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { chromium, type Browser } from 'playwright-core';

/** Flags for a root-run headless Chromium on a machine with no network: no sandbox, no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches /usr/bin/chromium with `CHROMIUM_ARGS` and the test's own flags. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * The base64 SHA-256 of the public key a TLS server on loopback presents for `servername`, for Chromium's
 * `--ignore-certificate-errors-spki-list` (Recall's leaves share one key, so one hash trusts every host).
 */
export async function spkiHash(port: number, servername: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const der = socket.getPeerX509Certificate()!.publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(der).digest('base64');
  } finally {
    socket.destroy();
  }
}
