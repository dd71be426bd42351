import { Test, type SSHHost } from 'autotest';

/** A server test that always passes; with a host, it also checks the host answers a command. */
export class dummy_PassServer extends Test<{ host?: SSHHost }> {
  async runOnce({ host }: { host?: SSHHost }): Promise<void> {
    if (host) {
      const result = await host.run('true');
      this.logger.info({ durationMs: result.durationMs }, `${host.hostname} answered`);
    }
    await this.writePerfKeyval({ iteration: this.iteration });
  }
}
