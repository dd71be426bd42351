import { describe, expect, it } from 'vitest';
import {
  formatChecksumFile,
  installDirFor,
  packageRef,
  parseChecksumFile,
  parsePackageSpec,
  parseTarballName,
  tarballName,
} from '../../lib/packages/index.js';

describe('package names', () => {
  it('spells files and install folders as autotest does', () => {
    expect(tarballName(packageRef('client'))).toBe('client-autotest.tar.bz2');
    expect(tarballName(packageRef('dep', 'pyauto_dep'))).toBe('dep-pyauto_dep.tar.bz2');
    expect(parseTarballName('test-login_LoginSuccess.tar.bz2')).toEqual({
      type: 'test',
      name: 'login_LoginSuccess',
    });
    expect(parseTarballName('test-a-b.tar.bz2')).toEqual({ type: 'test', name: 'a-b' });
    expect(parseTarballName('packages.checksum')).toBeUndefined();
    expect(installDirFor('/usr/local/autotest', packageRef('client'))).toBe('/usr/local/autotest');
    expect(installDirFor('/usr/local/autotest', packageRef('profiler', 'perf'))).toBe(
      '/usr/local/autotest/profilers/perf',
    );
    expect(parsePackageSpec('test:sleeptest')).toEqual({ type: 'test', name: 'sleeptest' });
    expect(parsePackageSpec('client')).toEqual({ type: 'client', name: 'autotest' });
  });

  it('refuses names that are not plain', () => {
    for (const [type, name] of [
      ['test', '../x'],
      ['test', 'a/b'],
      ['test', "it's"],
      ['kernel', 'x'],
      ['client', 'other'],
    ]) {
      expect(() => packageRef(type!, name)).toThrow(expect.objectContaining({ code: 'ERR_PACKAGE_NAME' }));
    }
  });
});

describe('packages.checksum', () => {
  it("reads autotest's and md5sum's forms and writes autotest's, sorted", () => {
    const map = parseChecksumFile(
      'd41d8cd98f00b204e9800998ecf8427e test-b.tar.bz2\n' +
        '0CC175B9C0F1B6A831C399E269772661  *dep-a.tar.bz2\n' +
        'not a line\n\n',
    );
    expect([...map]).toEqual([
      ['test-b.tar.bz2', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['dep-a.tar.bz2', '0cc175b9c0f1b6a831c399e269772661'],
    ]);
    expect(formatChecksumFile(map)).toBe(
      '0cc175b9c0f1b6a831c399e269772661 dep-a.tar.bz2\nd41d8cd98f00b204e9800998ecf8427e test-b.tar.bz2\n',
    );
    expect(parseChecksumFile('')).toEqual(new Map());
  });
});
