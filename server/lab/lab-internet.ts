/**
 * Starting the internet namespace's process (DNS and origin sites) from the built code in dist/, detached so
 * it outlives `lab up`; `lab down` kills it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { InternetConfig } from './internet.js';
import { LabError } from './lab-errors.js';
import type { LabCertificates } from './lab-ca.js';
import { SITE_ZONE, type LabPlan } from './lab-plan.js';

const READY_TIMEOUT_MS = 20_000;

/**
 * The script to run: internet.js beside this file when running from dist/; when running from the TypeScript
 * sources (tests), a bundle esbuild makes into the lab's folder, so a lab never depends on dist/ being current
 * (or on another build emptying it while the lab starts).
 */
export async function internetEntry(dir: string): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    const entry = join(dirname(here), 'internet.js');
    if (!existsSync(entry))
      throw new LabError('ERR_LAB_SETUP', `${entry} does not exist; run \`npm run build\` first`);
    return entry;
  }
  const outfile = join(dir, 'internet.cjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(dirname(here), 'internet.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export async function startInternet(
  plan: LabPlan,
  dir: string,
  certificates: LabCertificates,
): Promise<number> {
  const configPath = join(dir, 'internet.json');
  const readyFile = join(dir, 'internet.ready');
  const config: InternetConfig = {
    zone: SITE_ZONE,
    dnsAddress: plan.dnsAddress,
    sites: plan.sites,
    certPath: certificates.siteCertPath,
    keyPath: certificates.siteKeyPath,
    readyFile,
  };
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  await rm(readyFile, { force: true });
  const logPath = join(dir, 'internet.log');
  const entry = await internetEntry(dir);
  const log = await open(logPath, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(
      'ip',
      ['netns', 'exec', plan.internetNamespace, process.execPath, entry, configPath],
      {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    child.unref();
    pid = child.pid;
  } finally {
    await log.close();
  }
  if (pid === undefined)
    throw new LabError('ERR_LAB_SETUP', `cannot start the internet process; see ${logPath}`);
  return pid;
}

/** Polls for the ready file the internet process writes once DNS, HTTP and HTTPS listen. */
export async function waitInternetReady(dir: string, pid: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const readyFile = join(dir, 'internet.ready');
  while (Date.now() < deadline) {
    if (existsSync(readyFile)) return;
    try {
      process.kill(pid, 0);
    } catch {
      break; // it exited: report its log below
    }
    await sleep(50);
  }
  const log = await readFile(join(dir, 'internet.log'), 'utf8').catch(() => '');
  throw new LabError(
    'ERR_LAB_SETUP',
    `the internet process did not become ready; end of ${join(dir, 'internet.log')}:\n${log.slice(-1500)}`,
  );
}
