/**
 * Redirects one device's DNS, HTTP and HTTPS to local ports with iptables, and nothing else: the rules live
 * in a chain of their own in the nat table, match only the device's source address, and are reached from
 * PREROUTING by one jump tagged with a comment naming the chain and the owning pid. Traffic of this machine
 * itself never passes PREROUTING, so it is never intercepted.
 */
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { AutotestError } from '../../lib/errors.js';

export const CHAIN_PREFIX = 'RECALL-';
const COMMENT_PREFIX = 'autotest-recall';

export interface RedirectPorts {
  dns?: number;
  http?: number;
  https?: number;
}

export class IptablesError extends AutotestError {}

/**
 * A fresh chain name that carries its owner's pid, so another run (or another device of this job) cleaning
 * up leftovers knows whose it is from the moment it exists, before any rule in it could say so.
 */
export function newChainName(): string {
  return `${CHAIN_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
}

async function iptables(args: string[]): Promise<string> {
  const result = await execa('iptables', ['-w', '-t', 'nat', ...args], { reject: false });
  if (result.exitCode !== 0) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    throw new IptablesError(
      'ERR_RECALL_IPTABLES',
      missing
        ? 'iptables is not installed: install it (apt-get install iptables)'
        : `iptables -t nat ${args.join(' ')} failed: ${(result.stderr || result.stdout).trim()}`,
    );
  }
  return result.stdout;
}

function comment(chain: string): string {
  return `${COMMENT_PREFIX} ${chain} pid=${process.pid}`;
}

/** Creates the chain with the device's REDIRECT rules and hooks it into PREROUTING. */
export async function installRedirect(chain: string, source: string, ports: RedirectPorts): Promise<void> {
  await iptables(['-N', chain]);
  const rules: [string, number, number | undefined][] = [
    ['udp', 53, ports.dns],
    ['tcp', 53, ports.dns],
    ['tcp', 80, ports.http],
    ['tcp', 443, ports.https],
  ];
  for (const [protocol, port, to] of rules) {
    if (to === undefined) continue;
    await iptables(['-A', chain, '-s', source, '-p', protocol, '--dport', String(port), '-m', 'comment', '--comment', comment(chain), '-j', 'REDIRECT', '--to-ports', String(to)]);
  }
  await iptables(['-I', 'PREROUTING', '-s', source, '-m', 'comment', '--comment', comment(chain), '-j', chain]);
}

/** Removes the jump and the chain; a part already gone is not an error. */
export async function removeRedirect(chain: string): Promise<void> {
  const rules = await iptables(['-S', 'PREROUTING']);
  for (const line of rules.split('\n')) {
    if (line.startsWith('-A PREROUTING') && line.includes(`-j ${chain}`) && line.includes(COMMENT_PREFIX)) {
      await iptables(['-D', ...splitRule(line.slice(3))]);
    }
  }
  const chains = await iptables(['-S']);
  if (chains.split('\n').includes(`-N ${chain}`)) {
    await iptables(['-F', chain]);
    await iptables(['-X', chain]);
  }
}

/** Chains of ours in this namespace, with the pid that made them (from the name, else a rule's comment). */
export async function listRedirectChains(): Promise<{ chain: string; pid: number | undefined }[]> {
  const all = await iptables(['-S']);
  const chains = [...all.matchAll(new RegExp(`^-N (${CHAIN_PREFIX}[\\w-]+)$`, 'gm'))].map((m) => m[1]!);
  return chains.map((chain) => {
    const pid =
      new RegExp(`^${CHAIN_PREFIX}(\\d+)-[0-9a-f]+$`).exec(chain)?.[1] ??
      new RegExp(`${COMMENT_PREFIX} ${chain} pid=(\\d+)`).exec(all)?.[1];
    return { chain, pid: pid ? Number(pid) : undefined };
  });
}

/** Splits an `iptables -S` rule into arguments, keeping quoted comments whole. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}
