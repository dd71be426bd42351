// The lab internet's gRPC site, grpc.lab.test, recorded and played back by `recall serve` as a user runs it:
// `recall serve --mode record` in the lab's server namespace (where the lab DNS and sites are reachable; upstream
// TLS verified with the lab public CA), a real @grpc/grpc-js client (loaded from the shipped lab-grpc.proto) making
// a unary call and all three streaming kinds through it; then the lab's internet namespace is deleted with its
// processes, a direct call fails, and `recall serve --mode replay` answers the same calls from the archive alone.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { listLabNamespaces } from '../../server/lab/lab-network.js';
import { repoRoot } from '../helpers/cli.js';
import { deleteInternet, useLab } from '../helpers/lab.js';
import { labEchoClient, labEchoExercise, LAB_ECHO_EXPECTED } from '../helpers/lab-grpc-client.js';
import { startRecallServe, type Served } from '../helpers/recall-serve.js';
import { isRoot } from '../helpers/root.js';

const PROTO = join(repoRoot, 'server/lab/lab-grpc.proto');

// One unary call straight to the real site from the server namespace (no Recall): what a device would get.
const DIRECT_CALL = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const [root, caFile] = process.argv.slice(2);
const require = createRequire(root + '/package.json');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const Echo = grpc.loadPackageDefinition(protoLoader.loadSync(root + '/server/lab/lab-grpc.proto', { defaults: true })).lab.Echo;
const client = new Echo('grpc.lab.test:443', grpc.credentials.createSsl(readFileSync(caFile)));
client.Say({ text: 'direct', number: 41 }, { deadline: Date.now() + 10000 }, (error, reply) => {
  console.log(JSON.stringify(error ? { code: error.code } : { reply }));
  client.close();
});
`;

async function stop(served: Served): Promise<number | null> {
  served.child.kill('SIGINT');
  return served.exited;
}

describe.skipIf(!isRoot)('the lab gRPC site recorded and replayed by recall serve (needs root)', () => {
  const lab = useLab({ devices: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'recall-grpc-lab-'));
  const archive = join(dir, 'grpc.har');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const directCall = async (): Promise<unknown> => {
    const script = join(dir, 'direct.mjs');
    writeFileSync(script, DIRECT_CALL);
    const result = await lab.lab().run([process.execPath, script, repoRoot, lab().publicCaPath]);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as unknown;
  };
  // recall serve in the server namespace, on its management address, which this (root namespace) process reaches.
  const serve = (args: string[]): Promise<Served> =>
    startRecallServe(
      [...args, '--archive', archive, '--listen', lab().managementAddress],
      ['ip', 'netns', 'exec', lab().serverNamespace],
    );

  /** Runs the fixed conversation through `recall serve` started with `args`; resolves with its output once stopped. */
  async function exerciseThrough(args: string[]): Promise<string> {
    const served = await serve(args);
    try {
      const client = labEchoClient(PROTO, `${lab().managementAddress}:${served.ports.https}`, await readFile(served.caFile));
      try {
        expect(await labEchoExercise(client)).toEqual(LAB_ECHO_EXPECTED);
      } finally {
        client.close();
      }
    } finally {
      expect(await stop(served), served.output()).toBe(0);
    }
    return served.output();
  }

  it('records unary, server-, client- and bidi-streaming calls (one ping-pong) to grpc.lab.test through recall serve', async () => {
    expect(await directCall()).toEqual({ reply: { text: 'said direct', number: 42 } });
    const output = await exerciseThrough(['--mode', 'record', '--extra-ca', lab().publicCaPath]);
    expect(output).toMatch(/saved 7 exchanges/);
  }, 180_000);

  it('shows the recorded messages as text with recall show --proto', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(repoRoot, 'bin/recall.js'),
      'show',
      archive,
      '--proto',
      PROTO,
    ]);
    expect(stdout).toContain('gRPC /lab.Echo/Say status 0');
    expect(stdout).toContain('gRPC /lab.Echo/Say status 9 (trailers-only)');
    expect(stdout).toContain('{"text":"said hi","number":2}');
    expect(stdout).toContain('gRPC /lab.Echo/Chat status 0');
    expect(stdout).toContain('{"text":"echo y","number":20}');
  }, 60_000);

  it('plays the calls back with the internet namespace deleted: same replies, no misses', async () => {
    await deleteInternet(lab());
    expect(await listLabNamespaces(lab().internet.namespace)).toEqual([]);
    expect(await directCall()).toEqual({ code: 14 }); // UNAVAILABLE: no lab DNS, no route, no site
    const output = await exerciseThrough(['--mode', 'replay']);
    expect(output).toContain('served 7 from the archive, 0 misses, 0 unused');
  }, 180_000);

  it('removes the rest of the lab although its internet is already gone', async () => {
    await lab.lab().down();
    expect(await listLabNamespaces(`${lab.lab().name}-`)).toEqual([]);
  }, 120_000);
});
