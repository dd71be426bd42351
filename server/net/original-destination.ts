/**
 * The address a redirected connection was meant for. Under iptables REDIRECT the accepted socket's local
 * address is Recall's own; the kernel keeps the original destination only in the connection's conntrack entry
 * (what getsockopt(SO_ORIGINAL_DST) reads, which Node cannot call). We read that entry:
 *
 * - from /proc/net/nf_conntrack (this network namespace's table) when the kernel offers it: one file read, no
 *   process, no native addon to build on every machine that installs the client;
 * - otherwise with Debian's `conntrack -L` (conntrack-tools), filtered to the connection's source address and
 *   port, which asks the kernel over netlink.
 *
 * An entry matches when its original tuple starts at the client's address and port and its reply tuple comes
 * from the socket's local address and port (the redirect target): exactly one connection can have both.
 */
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { Logger } from '../../lib/logging.js';

const PROC_TABLE = '/proc/net/nf_conntrack';

export interface ConnectionEnds {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export interface OriginalDestination {
  address: string;
  port: number;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Finds the TCP connection in conntrack text (either format) and returns its original destination. */
export function findOriginalDestination(
  table: string,
  ends: Required<ConnectionEnds>,
): OriginalDestination | undefined {
  const client = unmapped(ends.remoteAddress);
  const local = unmapped(ends.localAddress);
  for (const line of table.split('\n')) {
    if (!/\btcp\b/.test(line)) continue;
    const fields = [...line.matchAll(/\b(src|dst|sport|dport)=(\S+)/g)].map((m) => m[2]!);
    // Original tuple src dst sport dport, then the reply tuple in the same order.
    if (fields.length < 8) continue;
    const [src, dst, sport, dport, replySrc, , replySport] = fields;
    if (
      src === client &&
      sport === String(ends.remotePort) &&
      replySrc === local &&
      replySport === String(ends.localPort)
    ) {
      return { address: dst!, port: Number(dport) };
    }
  }
  return undefined;
}

/**
 * Looks up where a redirected TCP connection was going. Undefined when the connection was not redirected
 * (the original destination is the local address itself) or conntrack cannot be read (logged once).
 */
export class OriginalDestinationLookup {
  readonly #logger: Logger;
  readonly #table: string;
  #warned = false;

  /** `table`: where the kernel's table is read first. @default '/proc/net/nf_conntrack' */
  constructor(logger: Logger, options: { table?: string } = {}) {
    this.#logger = logger.child({ component: 'original-destination' });
    this.#table = options.table ?? PROC_TABLE;
  }

  async lookup(ends: ConnectionEnds): Promise<OriginalDestination | undefined> {
    const { remoteAddress, remotePort, localAddress, localPort } = ends;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) return undefined;
    const full = { remoteAddress, remotePort, localAddress, localPort };
    let table: string;
    try {
      table = await readFile(this.#table, 'utf8');
    } catch {
      // No procfs table in this kernel: ask conntrack-tools over netlink instead.
      const result = await execa(
        'conntrack',
        ['-L', '-p', 'tcp', '--orig-src', unmapped(remoteAddress), '--orig-port-src', String(remotePort)],
        { reject: false },
      );
      if (result.exitCode !== 0) {
        if (!this.#warned) {
          this.#warned = true;
          this.#logger.warn(
            { stderr: result.stderr },
            `cannot read connection tracking (no ${this.#table}, conntrack -L failed: ${result.stderr.trim() || result.exitCode}): clients without SNI or Host get the certificate of Recall's own address; install conntrack`,
          );
        }
        return undefined;
      }
      table = result.stdout;
    }
    const found = findOriginalDestination(table, full);
    return found && found.address !== unmapped(localAddress) ? found : undefined;
  }
}
