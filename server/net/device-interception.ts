/**
 * Sends one device's DNS, HTTP and HTTPS to Recall's servers on this machine: iptables REDIRECT rules for
 * that device only, and ICMP redirects turned off on the interface that reaches it (else the kernel would
 * tell the device to bypass us when its traffic enters and leaves by the same interface). Every change is
 * written to a state file before it is made, so a killed run is undone by the next one or `recall cleanup`.
 * In playback, `seal()` also rejects everything else the device sends through this machine (hermetic-rules.ts).
 */
import { reasonOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/logging.js';
import { currentNetns, isAlive, listStates, removeState, saveState, type InterceptionState } from './interception-state.js';
import { installHermetic, listHermeticChains, neighbourMac, removeHermetic } from './hermetic-rules.js';
import { CHAIN_PREFIX, installRedirect, listRedirectChains, newChainName, removeRedirect, type RedirectPorts } from './iptables-redirect.js';
import type { RouteToHost } from './route-lookup.js';
import { holdSysctl, releaseSysctl } from './sysctl-holds.js';

export class DeviceInterception {
  readonly state: InterceptionState;
  readonly #route: RouteToHost;
  #removed = false;

  private constructor(state: InterceptionState, route: RouteToHost) {
    this.state = state;
    this.#route = route;
  }

  static async install(route: RouteToHost, ports: RedirectPorts, logger: Logger): Promise<DeviceInterception> {
    const interception = new DeviceInterception({ chain: newChainName(), pid: process.pid, netns: currentNetns(), host: route.address, sysctls: [] }, route);
    const state = interception.state;
    await exclusive(async () => {
      try {
        await saveState(state);
        for (const key of ['net/ipv4/conf/all/send_redirects', `net/ipv4/conf/${route.device}/send_redirects`]) {
          await holdSysctl(state, key, '0');
        }
        await installRedirect(state.chain, route.address, ports);
      } catch (error) {
        await undoState(state, logger);
        throw error;
      }
    });
    logger.info({ chain: state.chain, host: route.address, ports, sysctls: state.sysctls }, `intercepting ${route.address}'s DNS, HTTP and HTTPS`);
    return interception;
  }

  /**
   * Seals the device for playback (hermetic-rules.ts): every packet of it that Recall does not answer is rejected
   * here instead of forwarded, IPv4 and IPv6, QUIC included. Undone with the rest by `remove` or a leftover sweep.
   * Idempotent.
   */
  async seal(logger: Logger): Promise<void> {
    if (this.state.hermetic || this.#removed) return;
    const state = this.state;
    await exclusive(async () => {
      state.hermetic = true;
      await saveState(state);
      const mac = await neighbourMac(this.#route.address, this.#route.device);
      try {
        await installHermetic(state.chain, this.#route.address, mac);
      } catch (error) {
        await removeHermetic(state.chain).catch(() => {
          // The state file still says hermetic: the next sweep tries again.
        });
        throw error;
      }
      if (mac) logger.info({ chain: state.chain, mac }, `sealed ${state.host} for playback: everything else it sends is rejected, IPv4 and IPv6`);
      else logger.warn({ chain: state.chain }, `sealed ${state.host} for playback (IPv4 only: it has no MAC address on ${this.#route.device}, so its IPv6 does not pass through this machine as a neighbour)`);
    });
  }

  /** Undoes every change, newest first; each step runs even when another failed. Idempotent. */
  async remove(logger: Logger): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    const errors = await exclusive(() => undoState(this.state, logger));
    if (errors.length > 0) throw errors[0];
  }
}

// One interception changes things at a time in this process: a job serving many devices must never have one
// device's start-up take another's half-made chain for a leftover, nor two devices race over a sysctl.
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

async function undoState(state: InterceptionState, logger: Logger): Promise<unknown[]> {
  const errors: unknown[] = [];
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
      logger.error({ err: error, chain: state.chain }, `could not ${what}: ${reasonOf(error)}`);
    }
  };
  if (state.hermetic) await step(`remove the playback seal ${state.chain}`, () => removeHermetic(state.chain));
  await step(`remove iptables chain ${state.chain}`, () => removeRedirect(state.chain));
  for (const { key, previous } of [...state.sysctls].reverse()) {
    await step(`restore ${key}=${previous}`, () => releaseSysctl(state, key));
  }
  if (errors.length === 0) removeState(state.chain);
  return errors;
}

/**
 * Undoes what killed runs left in this network namespace: their state files, and any chain of ours whose
 * owner is gone. With `all`, also the changes of runs still alive (an operator's `recall cleanup --all`).
 */
export function cleanupLeftovers(logger: Logger, options: { all?: boolean } = {}): Promise<string[]> {
  return exclusive(() => cleanupLeftoversNow(logger, options));
}

async function cleanupLeftoversNow(logger: Logger, options: { all?: boolean }): Promise<string[]> {
  const cleaned: string[] = [];
  for (const state of listStates({ deadOnly: !options.all })) {
    if (state.pid === process.pid && !options.all) continue;
    await undoState(state, logger);
    cleaned.push(state.chain);
  }
  for (const { chain, pid } of await listRedirectChains()) {
    if (cleaned.includes(chain) || (!options.all && pid !== undefined && isAlive(pid))) continue;
    await removeHermetic(chain);
    await removeRedirect(chain);
    cleaned.push(chain);
  }
  // A seal whose nat chain is already gone (a run killed while removing).
  for (const chain of await listHermeticChains(CHAIN_PREFIX)) {
    const pid = Number(new RegExp(`^${CHAIN_PREFIX}(\\d+)-`).exec(chain)?.[1]);
    if (cleaned.includes(chain) || (!options.all && pid > 0 && isAlive(pid))) continue;
    await removeHermetic(chain);
    cleaned.push(chain);
  }
  if (cleaned.length > 0) logger.warn({ chains: cleaned }, `removed leftovers of earlier Recall runs: ${cleaned.join(', ')}`);
  return cleaned;
}
