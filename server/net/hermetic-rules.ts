/**
 * Seals a device in playback: whatever of its traffic Recall does not answer itself is rejected at the
 * gateway instead of being forwarded. The REDIRECT rules (iptables-redirect.ts) take its DNS, HTTP and HTTPS
 * before routing; everything still on its way through this machine passes the filter table's FORWARD chain,
 * where a chain of the device's own (same name as its nat chain) rejects it:
 *
 * - UDP/443 (QUIC) with ICMP port unreachable, so browsers fall back to TCP, where Recall answers;
 * - any other TCP with a reset and anything else with ICMP port unreachable: the client fails at once
 *   instead of waiting for a timeout;
 * - IPv6, which REDIRECT does not cover, matched by the device's MAC address (its IPv6 addresses are its own
 *   to choose): rejected in ip6tables' FORWARD chain, so a recorded AAAA answer or a literal cannot go around
 *   Recall. A device that is not on a link of this machine has no MAC here; its IPv6 does not pass through us
 *   as a neighbour, and the log says so.
 *
 * Traffic the device sends to this machine itself (INPUT) is not touched: it does not leave the server.
 */
import { createSocket } from 'node:dgram';
import { execa } from 'execa';
import { IptablesError } from './iptables-redirect.js';

const COMMENT_PREFIX = 'autotest-recall';
type Tool = 'iptables' | 'ip6tables';

async function table(
  tool: Tool,
  args: string[],
  options: { allowFailure?: boolean } = {},
): Promise<{ ok: boolean; stdout: string }> {
  const result = await execa(tool, ['-w', '-t', 'filter', ...args], { reject: false });
  if (result.exitCode !== 0 && !options.allowFailure) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    throw new IptablesError(
      'ERR_RECALL_IPTABLES',
      missing
        ? `${tool} is not installed: install it (apt-get install iptables)`
        : `${tool} -t filter ${args.join(' ')} failed: ${(result.stderr || result.stdout).trim()}`,
    );
  }
  return { ok: result.exitCode === 0, stdout: result.stdout };
}

function comment(chain: string): string[] {
  return ['-m', 'comment', '--comment', `${COMMENT_PREFIX} ${chain} pid=${process.pid}`];
}

function poke(address: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => socket.close());
    socket.send(Buffer.alloc(0), 9, address, () => socket.close());
    socket.once('close', () => resolve());
  });
}

/** The device's MAC address from the neighbour table, when it is on a link of this machine. */
export async function neighbourMac(address: string, device: string): Promise<string | undefined> {
  const show = async () =>
    (await execa('ip', ['neigh', 'show', address, 'dev', device], { reject: false })).stdout;
  let line = await show();
  if (!/lladdr/.test(line)) {
    // No entry yet (or a failed one): one datagram (to the discard port) makes the kernel resolve it.
    await poke(address);
    for (let i = 0; i < 10 && !/lladdr/.test(line); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      line = await show();
    }
  }
  return /\blladdr ([0-9a-f:]{17})\b/i.exec(line)?.[1]?.toLowerCase();
}

/**
 * What a sealed chain rejects, in order: QUIC (port unreachable, so browsers fall back to TCP), other TCP (reset,
 * so clients fail at once), everything else (port unreachable). IPv6 has no QUIC rule: all of its UDP is refused.
 */
const SEAL_RULES: Record<'iptables' | 'ip6tables', string[][]> = {
  iptables: [
    ['-p', 'udp', '--dport', '443', '--reject-with', 'icmp-port-unreachable'],
    ['-p', 'tcp', '--reject-with', 'tcp-reset'],
    ['--reject-with', 'icmp-port-unreachable'],
  ],
  ip6tables: [
    ['-p', 'tcp', '--reject-with', 'tcp-reset'],
    ['--reject-with', 'icmp6-port-unreachable'],
  ],
};

async function fillChain(tool: 'iptables' | 'ip6tables', chain: string): Promise<void> {
  await table(tool, ['-N', chain]);
  for (const rule of SEAL_RULES[tool]) {
    const at = rule.indexOf('--reject-with');
    await table(tool, ['-A', chain, ...rule.slice(0, at), ...comment(chain), '-j', 'REJECT', ...rule.slice(at)]);
  }
}

/** Creates the device's filter chains (IPv4 by source address, IPv6 by MAC when known) and hooks them into FORWARD. */
export async function installHermetic(chain: string, source: string, mac: string | undefined): Promise<void> {
  await fillChain('iptables', chain);
  await table('iptables', ['-I', 'FORWARD', '-s', source, ...comment(chain), '-j', chain]);
  if (!mac) return;
  await fillChain('ip6tables', chain);
  await table('ip6tables', ['-I', 'FORWARD', '-m', 'mac', '--mac-source', mac, ...comment(chain), '-j', chain]);
}

/** Removes the jumps and chains of `chain` from both tools' filter tables; parts already gone are not errors. */
export async function removeHermetic(chain: string): Promise<void> {
  for (const tool of ['iptables', 'ip6tables'] as const) {
    const rules = await table(tool, ['-S', 'FORWARD'], { allowFailure: tool === 'ip6tables' });
    for (const line of rules.stdout.split('\n')) {
      if (line.startsWith('-A FORWARD') && line.includes(`-j ${chain}`) && line.includes(COMMENT_PREFIX)) {
        await table(tool, ['-D', ...splitRule(line.slice(3))]);
      }
    }
    const chains = await table(tool, ['-S'], { allowFailure: tool === 'ip6tables' });
    if (chains.stdout.split('\n').includes(`-N ${chain}`)) {
      await table(tool, ['-F', chain]);
      await table(tool, ['-X', chain]);
    }
  }
}

/** Names of our chains in either filter table (the leftover sweep removes those whose owner is gone). */
export async function listHermeticChains(prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const tool of ['iptables', 'ip6tables'] as const) {
    const all = await table(tool, ['-S'], { allowFailure: true });
    for (const m of all.stdout.matchAll(new RegExp(`^-N (${prefix}[\\w-]+)$`, 'gm'))) names.add(m[1]!);
  }
  return [...names];
}

/** Splits an `iptables -S` rule into arguments, keeping quoted comments whole. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}
