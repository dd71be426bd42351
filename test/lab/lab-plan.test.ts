// Lab addresses with one server (unchanged from before servers could be several) and with two or more.
import { describe, expect, it } from 'vitest';
import { planLab } from '../../server/lab/lab-plan.js';

describe('planLab', () => {
  it('keeps a one-server lab on one /24 with the server at .1 and devices from .2', () => {
    const plan = planLab('lab', 3, 2);
    expect(plan.servers).toHaveLength(1);
    expect(plan.servers[0]).toMatchObject({
      namespace: 'lab-srv',
      address: '198.18.3.1',
      deviceSubnet: '198.18.3.0/24',
      managementLink: 'lab-mgmt',
    });
    expect(plan.devices.map((d) => [d.address, d.gateway])).toEqual([
      ['198.18.3.2', '198.18.3.1'],
      ['198.18.3.3', '198.18.3.1'],
    ]);
  });

  it('splits devices in order between two servers, each on its own /25 block with its own links', () => {
    const plan = planLab('lab', 3, 5, 2);
    expect(
      plan.servers.map((s) => [
        s.namespace,
        s.address,
        s.deviceSubnet,
        s.managementLink,
        s.managementAddress,
        s.upstreamAddress,
        s.internetPeer,
      ]),
    ).toEqual([
      ['lab-srv', '198.18.3.1', '198.18.3.0/25', 'lab-mgmt', '198.19.3.254', '198.19.3.1', '198.19.3.2'],
      [
        'lab-srv2',
        '198.18.3.129',
        '198.18.3.128/25',
        'lab-mgmt2',
        '198.19.3.250',
        '198.19.3.129',
        '198.19.3.130',
      ],
    ]);
    expect(plan.devices.map((d) => [d.name, d.address, d.server])).toEqual([
      ['dut1', '198.18.3.2', 1],
      ['dut2', '198.18.3.3', 1],
      ['dut3', '198.18.3.4', 1],
      ['dut4', '198.18.3.130', 2],
      ['dut5', '198.18.3.131', 2],
    ]);
  });

  it('refuses a server count or a device count that does not fit, naming the value', () => {
    expect(() => planLab('lab', 1, 2, 5)).toThrow(
      expect.objectContaining({ code: 'ERR_LAB_OPTIONS', message: expect.stringContaining('--servers') }),
    );
    expect(() => planLab('lab', 1, 2, 0)).toThrow(/got 0/);
    expect(() => planLab('lab', 1, 200, 3)).toThrow(/200 devices do not fit 3 servers \(at most 183\)/);
  });
});
