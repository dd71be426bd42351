#!/usr/bin/env node
// Runs a trivial command `count` times on one device and prints each duration in ms, as JSON.
//   sshhost: through one SSHHost (one ssh2 connection, an exec channel per command)
//   sshhost-shell: through one SSHHost with persistentShell: true (one long-lived driver, perl on the lab's devices,
//                  runs every command)
//   ssh:     the OpenSSH client, a new connection per command
//   ssh-cm:  the OpenSSH client through a ControlMaster (the first command opens the master, not timed)
//   ssh2-nodelay: ssh2 directly (SSHHost's library) on one connection with TCP_NODELAY, a channel per command:
//                 what SSHHost would cost with Nagle's algorithm off on its socket
import { execFileSync, execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHost } from '../../dist/server/hosts/index.js';

const o = JSON.parse(process.argv[2]);
const run = promisify(execFile);
const times = [];
const deadline = Date.now() + o.maxMs;
const baseArgs = [
  '-F',
  '/dev/null',
  '-i',
  o.sshKey,
  '-o',
  `UserKnownHostsFile=${o.knownHosts}`,
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'LogLevel=ERROR',
];

if (o.mode === 'sshhost' || o.mode === 'sshhost-shell') {
  const host = await createHost(`root@${o.address}`, {
    sshKey: o.sshKey,
    knownHostsFile: o.knownHosts,
    persistentShell: o.mode === 'sshhost-shell',
  });
  try {
    for (let i = 0; i < 5; i++) await host.run(o.command);
    for (let i = 0; i < o.count && Date.now() < deadline; i++) {
      const start = performance.now();
      await host.run(o.command);
      times.push(performance.now() - start);
    }
  } finally {
    await host.close();
  }
} else if (o.mode === 'ssh2-nodelay') {
  const { Client } = createRequire(import.meta.url)('ssh2');
  const client = new Client();
  await new Promise((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({
      host: o.address,
      username: 'root',
      privateKey: readFileSync(o.sshKey),
      readyTimeout: 20_000,
    });
  });
  client.setNoDelay(true);
  const once = () =>
    new Promise((resolve, reject) =>
      client.exec(o.command, (error, channel) => {
        if (error) return reject(error);
        channel.once('close', resolve);
        channel.resume();
        channel.stderr.resume();
      }),
    );
  try {
    for (let i = 0; i < 5; i++) await once();
    for (let i = 0; i < o.count && Date.now() < deadline; i++) {
      const start = performance.now();
      await once();
      times.push(performance.now() - start);
    }
  } finally {
    client.end();
  }
} else {
  const cm =
    o.mode === 'ssh-cm'
      ? ['-o', 'ControlMaster=auto', '-o', `ControlPath=${o.controlPath}`, '-o', 'ControlPersist=60']
      : [];
  const args = [...baseArgs, ...cm, `root@${o.address}`, o.command];
  try {
    for (let i = 0; i < 2; i++) await run('ssh', args);
    for (let i = 0; i < o.count && Date.now() < deadline; i++) {
      const start = performance.now();
      await run('ssh', args);
      times.push(performance.now() - start);
    }
  } finally {
    if (o.mode === 'ssh-cm') {
      try {
        execFileSync('ssh', [...baseArgs, ...cm, '-O', 'exit', `root@${o.address}`], { stdio: 'ignore' });
      } catch {
        // the master is already gone
      }
    }
  }
}
process.stdout.write(`${JSON.stringify({ times })}\n`);
