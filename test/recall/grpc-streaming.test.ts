// Interactive gRPC streams through Recall with a real @grpc/grpc-js server and client (TLS, h2, loopback): a bidi
// Chat driven ping-pong (each note sent only after the echo of the previous one, the client half-closing only at
// the end) and a client stream answered before the client half-closes. Reading the request whole before
// forwarding or matching it deadlocked both; now messages are relayed as they come, their interleaving is in the
// archive (`_recall.grpc.events`), and playback replays them frame by frame in that order with the server stopped.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  Archive,
  ArchivedProtocols,
  ArchivingHTTPClient,
  GrpcPlaybackClient,
  H2UpstreamClient,
  HTTPClient,
  HTTPSServer,
  PlaybackHTTPClient,
  UpstreamProtocolProbe,
  type GrpcCallRecord,
} from '../../lib/recall/index.js';
import type { ExchangeOptions, ExchangeResponse, HttpExchanger, RecordedRequest } from '../../lib/recall/http/http-exchanger.js';
import { loopbackLookup } from './http-fixtures.js';
import { clientVia, collectUntilStop, Echo, pingPong, startEchoServer, useEchoStage, type EchoClient, type Note } from './grpc-fixtures.js';
import { frameMessage } from '../../lib/recall/grpc/grpc-messages.js';
import { poll } from '../helpers/device-processes.js';

/** Passes every exchange through and counts the response bodies still being sent (a call left open is a leak). */
class OpenBodies implements HttpExchanger {
  open = 0;
  constructor(readonly inner: HttpExchanger) {}
  get streamsRequestBodies(): boolean {
    return this.inner.streamsRequestBodies === true;
  }
  async exchange(request: RecordedRequest, options?: ExchangeOptions): Promise<ExchangeResponse> {
    const response = await this.inner.exchange(request, options);
    this.open++;
    const done = (): number => this.open--;
    return {
      ...response,
      body: (async function* () {
        try {
          yield* response.body;
        } finally {
          done();
        }
      })(),
    };
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const BIG = 'b'.repeat(1_500_000); // larger than every default HTTP/2 window: flow control both ways

/** Starts a Chat, waits for the first echo, then cancels the call. */
function cancelAfterFirstEcho(client: EchoClient): Promise<string> {
  return new Promise((resolve) => {
    const call = client.chat();
    call.on('data', () => call.cancel());
    call.on('error', (error: grpc.ServiceError) => resolve(`${error.code}`));
    call.write({ text: 'x', number: 1 });
  });
}

const eventsOf = (calls: GrpcCallRecord[], method: string, firstText: string): string[] | undefined =>
  calls
    .find((c) => c.method === method && Buffer.from(c.requestMessages[0] ?? '', 'base64').includes(firstText))
    ?.events?.map((e) => `${e.type}${'message' in e ? e.message : ''}`);

describe('gRPC interactive streams through Recall', () => {
  const stage = useEchoStage('recall-grpc-streams-');
  const file = (): string => join(stage.dir, 'streams.har');

  async function playback(archive: Archive, originPort = stage.origin.port): Promise<{ grpcPlayback: GrpcPlaybackClient; counted: OpenBodies; server: HTTPSServer; client: EchoClient }> {
    const grpcPlayback = new GrpcPlaybackClient(new PlaybackHTTPClient(archive));
    const counted = new OpenBodies(grpcPlayback);
    const server = new HTTPSServer({ exchanger: counted, certificates: stage.ca, protocols: new ArchivedProtocols(archive) });
    const { port } = await server.listen();
    return { grpcPlayback, counted, server, client: clientVia(port, originPort, stage.ca.rootCertificatePem) };
  }

  it('records a ping-pong Chat and a client stream answered early, as they happen, with their interleaving', async () => {
    const archive = Archive.create();
    const upstream = { extraCAs: [stage.labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: () => stage.origin.port });
    const counted = new OpenBodies(new ArchivingHTTPClient(new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }), { archive }));
    await using server = new HTTPSServer({ exchanger: counted, certificates: stage.ca, protocols: probe });
    const { port } = await server.listen();
    const client = clientVia(port, stage.origin.port, stage.ca.rootCertificatePem);

    expect(await pingPong(client, ['x', 'y', 'z'])).toEqual([
      { text: 'echo x', number: 10 },
      { text: 'echo y', number: 20 },
      { text: 'echo z', number: 30 },
    ]);
    expect(await collectUntilStop(client, ['a', 'b', 'stop'])).toEqual({ text: 'a+b', number: 2 });
    expect((await pingPong(client, [BIG, BIG])).map((n: Note) => [n.text.length, n.number])).toEqual([
      [BIG.length + 5, 10],
      [BIG.length + 5, 20],
    ]);
    // Cancelled mid-stream: cancelled upstream too (else the origin's chat would wait for more forever), nothing
    // left open, nothing half-recorded.
    expect(await poll(async () => stage.origin.closedChats === 2)).toBe(true);
    expect(await cancelAfterFirstEcho(client)).toBe(`${grpc.status.CANCELLED}`);
    const settled = await poll(async () => stage.origin.closedChats === 3 && counted.open === 0);
    expect([settled, stage.origin.closedChats, counted.open]).toEqual([true, 3, 0]);
    client.close();

    const calls = archive.toHar().log.entries.map((e) => e._recall?.grpc).filter((c) => c !== undefined);
    expect(calls.map((c) => c.method)).toEqual([
      '/recalltest.Echo/Chat',
      '/recalltest.Echo/CollectUntil',
      '/recalltest.Echo/Chat',
    ]);
    expect(eventsOf(calls, '/recalltest.Echo/Chat', 'x')).toEqual(['send0', 'receive0', 'send1', 'receive1', 'send2', 'receive2', 'end']);
    // The answer came while the client still had its side open: no `end` before it.
    expect(eventsOf(calls, '/recalltest.Echo/CollectUntil', 'a')?.slice(0, 4)).toEqual(['send0', 'send1', 'send2', 'receive0']);
    const times = calls[0]!.events!.map((e) => e.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await archive.save(file());
    await counted.close();
  });

  it('cuts a streamed call past maxRequestBodyBytes, upstream too, answers RESOURCE_EXHAUSTED and records nothing of it', async () => {
    const archive = Archive.create();
    const upstream = { extraCAs: [stage.labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: () => stage.origin.port });
    const recorder = new ArchivingHTTPClient(new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }), { archive });
    await using server = new HTTPSServer({ exchanger: recorder, certificates: stage.ca, protocols: probe, maxRequestBodyBytes: 10_000 });
    const { port } = await server.listen();
    const client = clientVia(port, stage.origin.port, stage.ca.rootCertificatePem);
    const closedBefore = stage.origin.closedChats;
    const outcome = await pingPong(client, ['small', 'x'.repeat(20_000)]).then(
      () => 'completed',
      (error: grpc.ServiceError) => `${error.code} ${error.details}`,
    );
    // The headers were out: the client is told in the trailers why its call ended, not left with a reset.
    expect(outcome).toBe(`${grpc.status.RESOURCE_EXHAUSTED} Recall: the request stream passed 10000 bytes (maxRequestBodyBytes)`);
    client.close();
    expect(await poll(async () => stage.origin.closedChats === closedBefore + 1)).toBe(true);
    expect(archive.size).toBe(0);
    await recorder.close();
  });

  it('plays them back frame by frame in the recorded order with the server stopped', async () => {
    stage.origin.server.forceShutdown();
    const { grpcPlayback, counted, server, client } = await playback(await Archive.load(file()));
    await using _server = server;
    expect(await pingPong(client, ['x', 'y', 'z'])).toEqual([
      { text: 'echo x', number: 10 },
      { text: 'echo y', number: 20 },
      { text: 'echo z', number: 30 },
    ]);
    expect(await collectUntilStop(client, ['a', 'b', 'stop'])).toEqual({ text: 'a+b', number: 2 });
    expect((await pingPong(client, [BIG, BIG])).map((n: Note) => [n.text.length, n.number])).toEqual([
      [BIG.length + 5, 10],
      [BIG.length + 5, 20],
    ]);
    expect([grpcPlayback.hits, grpcPlayback.unused(), grpcPlayback.mismatches()]).toEqual([3, [], []]);
    // Cancelled mid-stream in playback: the replay stops, nothing stays open, nothing is reported.
    expect(await cancelAfterFirstEcho(client)).toBe(`${grpc.status.CANCELLED}`);
    expect(await poll(async () => counted.open === 0)).toBe(true);
    expect(grpcPlayback.mismatches()).toEqual([]);
    client.close();
  });

  it('goes on past a client message that differs from the recording, and reports it', async () => {
    const { grpcPlayback, server, client } = await playback(await Archive.load(file()));
    await using _server = server;
    expect(await pingPong(client, ['x', 'Y', 'z'])).toEqual([
      { text: 'echo x', number: 10 },
      { text: 'echo y', number: 20 },
      { text: 'echo z', number: 30 },
    ]);
    client.close();
    const [mismatch] = grpcPlayback.mismatches();
    expect(mismatch).toMatchObject({ recording: 0, differentMessages: 1, extraMessages: 0, missingMessages: 0 });
    expect(mismatch!.firstDifferent).toEqual({ message: 1, sent: Buffer.from('\n\x01Y\x10\x02').toString('hex'), recorded: Buffer.from('\n\x01y\x10\x02').toString('hex') });
    expect(grpcPlayback.mismatchSummary()).toEqual([
      `GRPC MISMATCH https://grpc.test:${stage.origin.port}/recalltest.Echo/Chat (recording 0): 1 client message(s) differ from the recording (first: message 1, sent 0a01591002, recorded 0a01791002)`,
    ]);
  });

  it('plays an archive recorded before events existed in its one possible order: the whole request first', async () => {
    const har = JSON.parse(await readFile(file(), 'utf8')) as { log: { entries: Array<{ _recall?: { grpc?: { events?: unknown } } }> } };
    for (const entry of har.log.entries) delete entry._recall?.grpc?.events;
    await writeFile(join(stage.dir, 'old.har'), JSON.stringify(har));
    const { grpcPlayback, server, client } = await playback(await Archive.load(join(stage.dir, 'old.har')));
    await using _server = server;
    const replies = await new Promise<Note[]>((resolve, reject) => {
      const got: Note[] = [];
      const call = client.chat().on('data', (n: Note) => got.push(n)).on('end', () => resolve(got)).on('error', reject);
      for (const [i, text] of ['x', 'y', 'z'].entries()) call.write({ text, number: i + 1 });
      call.end();
    });
    expect(replies.map((n) => n.text)).toEqual(['echo x', 'echo y', 'echo z']);
    client.close();
    expect(grpcPlayback.mismatches()).toEqual([]);
  });

  it('answers a one-message conversation on its message as soon as it is whole, with or without events', async () => {
    const solo = await startEchoServer(stage.labCa.issue('grpc.test'));
    const archive = Archive.create();
    const upstream = { extraCAs: [stage.labCa.pem], lookup: loopbackLookup, allowLocalUpstreams: true };
    const probe = new UpstreamProtocolProbe({ ...upstream, archive, portOf: () => solo.port });
    const recorder = new ArchivingHTTPClient(new H2UpstreamClient({ ...upstream, inner: new HTTPClient(upstream), protocols: probe }), { archive });
    {
      await using server = new HTTPSServer({ exchanger: recorder, certificates: stage.ca, protocols: probe });
      const client = clientVia((await server.listen()).port, solo.port, stage.ca.rootCertificatePem);
      expect(await pingPong(client, ['solo'])).toEqual([{ text: 'echo solo', number: 10 }]);
      client.close();
    }
    solo.server.forceShutdown();
    await archive.save(join(stage.dir, 'solo-events.har'));
    const har = archive.toHar();
    expect(har.log.entries[0]!._recall?.grpc?.events?.map((e) => e.type)).toEqual(['send', 'receive', 'end']);
    delete har.log.entries[0]!._recall!.grpc!.events;
    await writeFile(join(stage.dir, 'solo.har'), JSON.stringify(har));
    for (const file of [join(stage.dir, 'solo-events.har'), join(stage.dir, 'solo.har')]) {
      const { server, client } = await playback(await Archive.load(file), solo.port);
      await using _server = server;
      // Unary in shape (one message each way): matched on the message, without waiting for the client's end.
      expect(await pingPong(client, ['solo'])).toEqual([{ text: 'echo solo', number: 10 }]);
      client.close();
    }
  });

  it('sends each server message as long after the step before as recorded, a long gap capped', async () => {
    const service = Echo.service as unknown as Record<string, { requestSerialize(n: Note): Buffer; responseSerialize(n: Note): Buffer }>;
    const tick = (number: number) => frameMessage(service.Count!.responseSerialize({ text: `tick ${number}`, number }));
    const archive = Archive.create();
    archive.recall.alpn = { 'grpc.test': 'h2' };
    const headers: Array<[string, string]> = [['content-type', 'application/grpc']];
    await archive.add({
      startedDateTime: new Date().toISOString(),
      timeMs: 60_400,
      request: { method: 'POST', scheme: 'https', host: `grpc.test:${stage.origin.port}`, target: '/recalltest.Echo/Count', httpVersion: '2.0', headers, body: frameMessage(service.Count!.requestSerialize({ text: 'tick', number: 3 })) },
      response: { status: 200, statusText: 'OK', httpVersion: '2.0', headers, body: Buffer.concat([tick(1), tick(2), tick(3)]), trailers: [['grpc-status', '0']] },
      // A tick 300 ms after the first, the third a minute later.
      grpcEvents: [
        { type: 'send', message: 0, time: 0 },
        { type: 'end', time: 0.5 },
        { type: 'receive', message: 0, time: 1 },
        { type: 'receive', message: 1, time: 301 },
        { type: 'receive', message: 2, time: 60_301 },
      ],
    });
    const { server, client } = await playback(archive);
    await using _server = server;
    const arrived: number[] = [];
    await new Promise<void>((resolve, reject) => {
      client.count({ text: 'tick', number: 3 }).on('data', () => arrived.push(performance.now())).on('end', resolve).on('error', reject);
    });
    client.close();
    expect(arrived).toHaveLength(3);
    expect(arrived[1]! - arrived[0]!).toBeGreaterThanOrEqual(290); // the recorded pace
    expect(arrived[2]! - arrived[1]!).toBeGreaterThanOrEqual(1990); // the minute, capped at maxMessageDelayMs (2 s)
    expect(arrived[2]! - arrived[1]!).toBeLessThan(30_000);
  }, 60_000);

  it('refuses an archive whose recorded order is malformed, naming the value', async () => {
    const har = JSON.parse(await readFile(file(), 'utf8')) as { log: { entries: Array<{ _recall?: { grpc?: { events?: Array<{ message?: number }> } } }> } };
    har.log.entries[0]!._recall!.grpc!.events![2]!.message = 7;
    await writeFile(join(stage.dir, 'bad.har'), JSON.stringify(har));
    await expect(Archive.load(join(stage.dir, 'bad.har'))).rejects.toMatchObject({
      code: 'ERR_ARCHIVE_INVALID',
      message: expect.stringContaining('log.entries[0]._recall.grpc.events[2].message is number 7, expected 1 (the next send message)'),
    });
  });
});
