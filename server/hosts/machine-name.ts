/**
 * Machine names as users write them on the command line and in control files: `host`, `user@host`,
 * `host:port`, `user@host:port`, and IPv6 addresses in brackets (`[2001:db8::1]:2222`).
 */
import { AutotestError } from '../../lib/errors.js';

export interface MachineName {
  /** User name, when the machine name carried one. */
  readonly user?: string;
  /** Host name or address, without brackets. */
  readonly host: string;
  /** Port, when the machine name carried one. */
  readonly port?: number;
}

/** Splits a machine name. Throws `ERR_HOST_MACHINE_NAME` with the value received when it cannot be read. */
export function parseMachineName(machine: string): MachineName {
  const bad = (why: string): AutotestError =>
    new AutotestError(
      'ERR_HOST_MACHINE_NAME',
      `Cannot read machine name "${machine}": ${why}; expected host, user@host, host:port or user@[ipv6]:port`,
    );
  const text = machine.trim();
  if (!text) throw bad('it is empty');
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  if (user !== undefined && !user) throw bad('the user before "@" is empty');
  let rest = at >= 0 ? text.slice(at + 1) : text;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('"[" has no matching "]"');
    const after = rest.slice(close + 1);
    if (after && !after.startsWith(':')) throw bad(`unexpected "${after}" after "]"`);
    portText = after ? after.slice(1) : undefined;
    rest = rest.slice(1, close);
  } else if (rest.split(':').length === 2) {
    [rest, portText] = rest.split(':') as [string, string];
  }
  // More than one colon without brackets: a bare IPv6 address, which cannot carry a port.
  if (!rest) throw bad('the host is empty');
  if (/\s/.test(rest)) throw bad('the host contains white space');
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      throw bad(`port "${portText}" is not a number from 1 to 65535`);
  }
  return { ...(user === undefined ? {} : { user }), host: rest, ...(port === undefined ? {} : { port }) };
}

/** The `[host]:port` spelling OpenSSH uses in known_hosts for a non-standard port, or just `host` for port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
