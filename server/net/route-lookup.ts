/** Which local address and interface reach a host (`ip route get`), and which addresses are this machine's. */
import { execa } from 'execa';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { AutotestError } from '../../lib/errors.js';

export interface RouteToHost {
  /** The host's address. */
  address: string;
  /** The local address packets to the host leave from: what the device sees as us. */
  localAddress: string;
  /** The interface they leave through. */
  device: string;
}

export class RouteError extends AutotestError {}

export async function localAddresses(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-o', 'addr', 'show']);
  return [...stdout.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!);
}

export async function routeTo(host: string): Promise<RouteToHost> {
  const address = isIP(host) ? host : (await lookup(host)).address;
  if (/^127\.|^::1$|^0\.0\.0\.0$/.test(address)) {
    throw new RouteError('ERR_RECALL_LOOPBACK', `Recall cannot intercept ${host} (${address}): it is a loopback address; run the device on a real or lab network`);
  }
  if ((await localAddresses()).includes(address)) {
    throw new RouteError('ERR_RECALL_LOCAL', `Recall cannot intercept ${host} (${address}): it is an address of this machine, not a device`);
  }
  const { stdout } = await execa('ip', ['route', 'get', address], { reject: false });
  const device = /\bdev (\S+)/.exec(stdout)?.[1];
  const localAddress = /\bsrc (\S+)/.exec(stdout)?.[1];
  if (!device || !localAddress) {
    throw new RouteError('ERR_RECALL_NO_ROUTE', `no route from this machine to ${host} (${address}): ip route get said ${JSON.stringify(stdout.trim() || 'nothing')}`);
  }
  if (device === 'lo') {
    throw new RouteError('ERR_RECALL_LOCAL', `Recall cannot intercept ${host} (${address}): the route to it is the loopback interface`);
  }
  return { address, localAddress, device };
}
