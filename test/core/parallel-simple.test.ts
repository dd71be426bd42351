// parallelSimple's bookkeeping without devices: machines whose function records nothing, and machine names that
// must not become folders outside the job.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineFolder, parallelSimple } from '../../server/parallel-simple.js';
import { makeJob } from '../helpers/job.js';

describe('parallelSimple', () => {
  it('accepts machines whose function records no status line', async () => {
    const { job, close } = makeJob();
    try {
      const results = await parallelSimple(job, async (machine) => machine.length, ['a', 'bb']);
      expect(results.map((r) => r.ok && r.value)).toEqual([1, 2]);
    } finally {
      close();
    }
  });

  it('keeps every machine folder inside the job folder', async () => {
    expect(['..', '.', '.hidden', ''].map(machineFolder)).toEqual(['_..', '_.', '_.hidden', '_']);
    const { job, resultsDir, close } = makeJob();
    try {
      await parallelSimple(job, async () => undefined, ['..', 'root@198.18.1.2:2222']);
      expect(readdirSync(resultsDir).sort()).toEqual(expect.arrayContaining(['_..', 'root@198.18.1.2_2222']));
      expect(existsSync(join(dirname(resultsDir), 'keyval'))).toBe(false);
    } finally {
      close();
    }
  });
});
