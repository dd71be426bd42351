import { describe, expect, it } from 'vitest';
import { knownHostsName, parseMachineName } from '../../server/hosts/machine-name.js';

describe('parseMachineName', () => {
  it.each([
    ['dut1', { host: 'dut1' }],
    ['root@198.18.1.2', { user: 'root', host: '198.18.1.2' }],
    ['198.18.1.2:2222', { host: '198.18.1.2', port: 2222 }],
    ['tester@dut.lab:22', { user: 'tester', host: 'dut.lab', port: 22 }],
    ['2001:db8::1', { host: '2001:db8::1' }],
    ['[2001:db8::1]:2200', { host: '2001:db8::1', port: 2200 }],
    ['me@[::1]', { user: 'me', host: '::1' }],
  ])('reads %s', (machine, expected) => {
    expect(parseMachineName(machine)).toEqual(expected);
  });

  it.each(['', 'host:0', 'host:99999', 'host:ssh', '@host', '[::1', '[::1]x'])(
    'refuses %j with the value in the message',
    (machine) => {
      expect(() => parseMachineName(machine)).toThrow(
        expect.objectContaining({
          code: 'ERR_HOST_MACHINE_NAME',
          message: expect.stringContaining(`"${machine}"`),
        }),
      );
    },
  );

  it('spells non-standard ports the way known_hosts does', () => {
    expect(knownHostsName('10.0.0.1', 22)).toBe('10.0.0.1');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });
});
