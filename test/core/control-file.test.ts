import { describe, expect, it } from 'vitest';
import { loadControlFile } from '../../lib/control-file.js';

const fixture = (name: string) => new URL(`../fixtures/control/${name}`, import.meta.url).pathname;

describe('loading control files', () => {
  it('loads a TypeScript control file and its metadata', async () => {
    const loaded = await loadControlFile(fixture('lifecycle.ts'));
    expect(loaded.control).toMatchObject({ name: 'fixture_lifecycle_job', testType: 'server', time: 'SHORT' });
  });

  it('names file, line and column when it does not compile', async () => {
    await expect(loadControlFile(fixture('syntax-error.ts'))).rejects.toMatchObject({
      code: 'ERR_CONTROL_COMPILE',
      message: expect.stringMatching(/syntax-error\.ts:7:\d+: Expected "\)" but found "}"/),
    });
  });

  it('names file and line when it throws while loading', async () => {
    await expect(loadControlFile(fixture('throws-on-load.ts'))).rejects.toMatchObject({
      code: 'ERR_CONTROL_LOAD',
      message: expect.stringMatching(/throws-on-load\.ts:4:\d+: settings\.board is missing/),
    });
  });

  it('says what the default export must be', async () => {
    await expect(loadControlFile(fixture('no-default.ts'))).rejects.toMatchObject({
      code: 'ERR_CONTROL_EXPORT',
      message: expect.stringMatching(/default export must be serverControl\(\{\.\.\.\}\) or clientControl/),
    });
  });

  it('says which file is missing', async () => {
    await expect(loadControlFile('/nonexistent/control.ts')).rejects.toMatchObject({ code: 'ERR_CONTROL_NOT_FOUND' });
  });
});
