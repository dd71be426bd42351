import { CertificateAuthority, DNSClient, HTTPClient } from 'autotest/recall';
import { RecallServerTest, type RecallServerArgs } from 'autotest';

/**
 * The smallest server test built on Recall, as the original documentation showed it: set the clients, let
 * the base class do the rest, run a client test through it. This one only proxies (nothing is recorded);
 * see test_RecallServer for recording and playback.
 */
export class test_MyTest extends RecallServerTest<RecallServerArgs & { test?: string; extra_ca?: string }> {
  override async initialize(args: RecallServerArgs & { test?: string; extra_ca?: string }): Promise<void> {
    this.certificateAuthority = await CertificateAuthority.open('/O=Test', { dir: '/var/lib/autotest-recall/ca' });
    this.dnsClient = new DNSClient();
    this.httpClient = new HTTPClient({ extraCAs: await systemCAs() });
    const ca = this.certificateAuthority;
    this.onCleanup('close the CA', () => ca.close());
    await super.initialize(args);
  }

  async runOnce({ host, test = 'desktopui_UrlFetch' }: RecallServerArgs & { test?: string }): Promise<void> {
    await this.runTestOnHost(test, host);
  }
}

/** The server's own trust store, so upstream servers are checked as the server's other tools check them. */
async function systemCAs(): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const bundle = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8').catch(() => undefined);
  return bundle ? [bundle] : [];
}
