// The layout's import rules are enforced by the linter (`npm run check`), not by review alone.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

async function lint(filePath: string, text: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: repoRoot }).lintText(text, { filePath: `${repoRoot}/${filePath}` });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import boundaries', () => {
  it.each([
    ['client/probe.ts', "import { Autotest } from '../server/autotest.js';\nexport const a = Autotest;\n", /client\/ ships to devices/],
    ['lib/probe.ts', "import { ClientJob } from '../client/client-job.js';\nexport const a = ClientJob;\n", /lib\/ imports only lib\//],
    ['lib/recall/probe.ts', "import { ServerJob } from '../../server/server-job.js';\nexport const a = ServerJob;\n", /lib\/ imports only lib\//],
  ])('%s may not import across the boundary', async (file, text, message) => {
    expect(await lint(file, text)).toEqual([expect.stringMatching(message)]);
  });

  it('allows the imports the layout permits', async () => {
    expect(await lint('server/probe.ts', "import { Job } from '../lib/job.js';\nexport const a = Job;\n")).toEqual([]);
    expect(await lint('client/probe.ts', "import { Job } from '../lib/job.js';\nexport const a = Job;\n")).toEqual([]);
  });
});
