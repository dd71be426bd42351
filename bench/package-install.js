// 8. Packaging: installing the client on 1 and on 8 lab devices, the first time and with nothing changed.
// The unchanged case should cost about one SSH round trip per device; the peer row is that round trip.
import { createHost } from '../dist/server/hosts/index.js';
import { PackageManager, packageRef, sourcesFromTree } from '../dist/lib/packages/index.js';
import { clientPackageDir } from '../dist/server/device-build.js';
import { median, round } from './lib/stats.js';

async function timed(fn) {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export async function runPackageInstall({ status, config, log }) {
  const { devices: count, rounds } = config.packages;
  const devices = status.devices.slice(0, count);
  const hosts = await Promise.all(devices.map((d) => createHost(d.address, { sshKey: status.sshKey, knownHostsFile: status.knownHosts })));
  try {
    const managers = hosts.map((runner) => new PackageManager({ runner, sources: sourcesFromTree({ clientDir: clientPackageDir }) }));
    const install = (list) => Promise.all(list.map((m) => m.install(packageRef('client'))));
    // The install folder is a mount point on lab devices: empty it rather than remove it.
    const wipe = (list) => Promise.all(list.map((h) => h.run('find /usr/local/autotest -mindepth 1 -delete')));
    const samples = { first1: [], same1: [], first8: [], same8: [], rtt: [] };
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      await wipe(hosts);
      samples.first1.push((await timed(() => install(managers.slice(0, 1)))).ms);
      samples.same1.push((await timed(() => install(managers.slice(0, 1)))).ms);
      await wipe(hosts);
      samples.first8.push((await timed(() => install(managers))).ms);
      const same = await timed(() => install(managers));
      if (same.value.some(([result]) => result.action !== 'up-to-date')) throw new Error('an unchanged reinstall installed something');
      samples.same8.push(same.ms);
      for (let i = 0; i < 10; i++) samples.rtt.push((await timed(() => hosts[0].run('true'))).ms);
    }
    const m = (k) => median(samples[k]);
    const rows = [
      { what: `Packages: client first install on 1 device, ms (median of ${rounds})`, ours: round(m('first1')) },
      { what: `Packages: client first install on ${count} devices at once, ms`, ours: round(m('first8')), peer: round(m('first1')), peerName: '1 device', ratio: m('first8') / m('first1') },
      { what: 'Packages: nothing changed, 1 device, ms', ours: round(m('same1')), peer: round(m('rtt')), peerName: 'one SSH round trip', ratio: m('same1') / m('rtt') },
      { what: `Packages: nothing changed, ${count} devices at once, ms`, ours: round(m('same8')), peer: round(m('rtt')), peerName: 'one SSH round trip', ratio: m('same8') / m('rtt') },
    ];
    return { rows, raw: samples };
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
}
