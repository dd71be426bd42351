// `recall serve --mode replay` speaks h2 to clients of hosts recorded over h2 and answers gRPC calls (real curl and
// a real @grpc/grpc-js client against the built command), and `recall show` prints trailers and gRPC messages as hex.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Archive } from '../../lib/recall/index.js';
import { frameMessage } from '../../lib/recall/grpc/grpc-messages.js';
import { runCli } from '../helpers/cli.js';
import { startRecallServe as serve } from '../helpers/recall-serve.js';
import { curlProtocol } from './h2-fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/recall.js', import.meta.url));
const PROTO = fileURLToPath(new URL('../fixtures/grpc/echo.proto', import.meta.url));
const SAY_HI = Buffer.from('0a026869', 'hex'); // recalltest.Note { text: "hi" }
const SAID_HI = Buffer.from('0a07736169642068691001', 'hex'); // { text: "said hi", number: 1 }

describe('recall command with HTTP/2 and gRPC', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recall-h2-cli-'));
    file = join(dir, 'h2.har');
    const archive = Archive.create();
    archive.recall.alpn = { 'h2.test': 'h2', 'grpc.test': 'h2', 'h1.test': 'http/1.1' };
    const started = new Date().toISOString();
    const response = { status: 200, statusText: 'OK', httpVersion: '2.0' };
    await archive.add({
      startedDateTime: started,
      timeMs: 1,
      request: { method: 'GET', scheme: 'https', host: 'h2.test', target: '/page', httpVersion: '2.0', headers: [], body: Buffer.alloc(0) },
      response: { ...response, headers: [['content-type', 'text/plain']], body: Buffer.from('h2 page'), trailers: [['x-checksum', 'c0ffee']] },
    });
    await archive.add({
      startedDateTime: started,
      timeMs: 1,
      request: { method: 'GET', scheme: 'https', host: 'h1.test', target: '/page', httpVersion: '1.1', headers: [], body: Buffer.alloc(0) },
      response: { ...response, httpVersion: '1.1', headers: [['content-type', 'text/plain']], body: Buffer.from('h1 page') },
    });
    await archive.add({
      startedDateTime: started,
      timeMs: 1,
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'grpc.test',
        target: '/recalltest.Echo/Say',
        httpVersion: '2.0',
        headers: [['content-type', 'application/grpc']],
        body: frameMessage(SAY_HI),
      },
      response: { ...response, headers: [['content-type', 'application/grpc']], body: frameMessage(SAID_HI), trailers: [['grpc-status', '0']] },
    });
    await archive.save(file);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays h2 per host and gRPC calls', async () => {
    const served = await serve(['--mode', 'replay', '--archive', file, '--ca-dir', join(dir, 'ca')]);
    try {
      const h2 = await curlProtocol('https://h2.test/page', served.ports.https, '--http2', served.caFile);
      expect([h2.version, h2.body.toString()]).toEqual(['2', 'h2 page']);
      const h1 = await curlProtocol('https://h1.test/page', served.ports.https, '--http2', served.caFile);
      expect([h1.version, h1.body.toString()]).toEqual(['1.1', 'h1 page']);
      const client = new grpc.Client(`127.0.0.1:${served.ports.https}`, grpc.credentials.createSsl(await readFile(served.caFile)), {
        'grpc.ssl_target_name_override': 'grpc.test',
        'grpc.default_authority': 'grpc.test',
      });
      const call = (message: Buffer): Promise<Buffer | grpc.ServiceError> =>
        new Promise((resolve) =>
          client.makeUnaryRequest('/recalltest.Echo/Say', (b: Buffer) => b, (b: Buffer) => b, message, (error, reply) =>
            resolve(error ?? reply!),
          ),
        );
      expect(await call(SAY_HI)).toEqual(SAID_HI);
      expect(((await call(Buffer.from('0a02686f', 'hex'))) as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
      client.close();
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    expect(served.output()).toContain('MISS POST https://grpc.test/recalltest.Echo/Say');
    // h2.test/page, h1.test/page and the gRPC call answered; the one miss is the unrecorded gRPC message.
    expect(served.output()).toContain('served 3 from the archive, 1 misses, 0 unused');
  });

  it('replays a ping-pong bidi call message by message in its recorded order', async () => {
    // Chat: { text: "x", number: 1 } then { text: "y", number: 2 }, each echoed before the next is sent.
    const sent = [Buffer.from('0a01781001', 'hex'), Buffer.from('0a01791002', 'hex')];
    const echoed = [Buffer.from('0a066563686f2078100a', 'hex'), Buffer.from('0a066563686f20791014', 'hex')];
    const archive = Archive.create();
    archive.recall.alpn = { 'grpc.test': 'h2' };
    await archive.add({
      startedDateTime: new Date().toISOString(),
      timeMs: 3,
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'grpc.test',
        target: '/recalltest.Echo/Chat',
        httpVersion: '2.0',
        headers: [['content-type', 'application/grpc']],
        body: Buffer.concat(sent.map(frameMessage)),
      },
      response: {
        status: 200,
        statusText: 'OK',
        httpVersion: '2.0',
        headers: [['content-type', 'application/grpc']],
        body: Buffer.concat(echoed.map(frameMessage)),
        trailers: [['grpc-status', '0']],
      },
      grpcEvents: [
        { type: 'send', message: 0, time: 0.5 },
        { type: 'receive', message: 0, time: 1 },
        { type: 'send', message: 1, time: 1.5 },
        { type: 'receive', message: 1, time: 2 },
        { type: 'end', time: 2.5 },
      ],
    });
    const chatFile = join(dir, 'chat.har');
    await archive.save(chatFile);
    // `recall show` prints the messages in the order they went, with their time in the call.
    const shown = await runCli('recall', ['show', chatFile]);
    expect(shown.stdout.split('\n').filter((line) => / ms [<>] /.test(line)).map((line) => line.trim())).toEqual([
      '0.5 ms > 0a01781001',
      '1.0 ms < 0a066563686f2078100a',
      '1.5 ms > 0a01791002',
      '2.0 ms < 0a066563686f20791014',
      '2.5 ms > (the client is done sending)',
    ]);
    const served = await serve(['--mode', 'replay', '--archive', chatFile, '--ca-dir', join(dir, 'ca')]);
    try {
      const client = new grpc.Client(`127.0.0.1:${served.ports.https}`, grpc.credentials.createSsl(await readFile(served.caFile)), {
        'grpc.ssl_target_name_override': 'grpc.test',
        'grpc.default_authority': 'grpc.test',
      });
      const chat = (messages: Buffer[]) =>
        new Promise<Buffer[]>((resolve, reject) => {
          const got: Buffer[] = [];
          const call = client.makeBidiStreamRequest<Buffer, Buffer>('/recalltest.Echo/Chat', (b) => b, (b) => b);
          call.on('data', (reply: Buffer) => {
            got.push(reply);
            if (got.length < messages.length) call.write(messages[got.length]!);
            else call.end();
          });
          call.on('end', () => resolve(got)).on('error', reject);
          call.write(messages[0]!);
        });
      expect(await chat(sent)).toEqual(echoed);
      // A second conversation whose second message differs: replayed all the same, and named at the end.
      expect(await chat([sent[0]!, Buffer.from('0a017a1002', 'hex')])).toEqual(echoed);
      client.close();
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    expect(served.output()).toContain('served 2 from the archive, 0 misses, 0 unused');
    expect(served.output()).toMatch(/GRPC MISMATCH https:\/\/grpc\.test\/recalltest\.Echo\/Chat .*1 client message\(s\) differ from the recording/);
  });

  it('shows trailers and gRPC messages as hex', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BIN, 'show', file], (error, out) => (error ? reject(error) : resolve(out))),
    );
    expect(stdout).toContain('trailer x-checksum: c0ffee');
    expect(stdout).toContain('gRPC /recalltest.Echo/Say status 0');
    expect(stdout).toContain(`> ${SAY_HI.toString('hex')}`);
    expect(stdout).toContain(`< ${SAID_HI.toString('hex')}`);
  });

  it('shows gRPC messages as text with --proto, and refuses a .proto it cannot load in one line', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const shown = await run(['show', file, '--proto', PROTO]);
    expect(shown.stdout).toContain(`> ${SAY_HI.toString('hex')}\n  {"text":"hi"}`);
    expect(shown.stdout).toContain(`< ${SAID_HI.toString('hex')}\n  {"text":"said hi","number":1}`);
    const bad = await run(['show', file, '--proto', join(dir, 'missing.proto')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(`cannot load the .proto ${join(dir, 'missing.proto')}`);
  });
});
