// Cutting a gRPC byte stream into messages as its chunks arrive: whatever the chunk boundaries (every split of a
// body with an empty, a small, a compressed and a 70 kB message), the same messages come out whole and in order;
// a bad flag byte stops the cutting (the stream is not gRPC framed) instead of inventing messages.
import { describe, expect, it } from 'vitest';
import { ClientMessages, GrpcFrameReader } from '../../lib/recall/grpc/grpc-frame-reader.js';
import { frameMessage, splitMessages, wireMessages } from '../../lib/recall/grpc/grpc-messages.js';

const compressed = Buffer.concat([Buffer.from([1, 0, 0, 0, 3]), Buffer.from('abc')]);
const BODY = Buffer.concat([frameMessage(Buffer.alloc(0)), frameMessage(Buffer.from('hello')), compressed, frameMessage(Buffer.alloc(70_000, 7))]);
const WHOLE = wireMessages(BODY)!;

/** The messages cut from `chunks`, as hex (Buffer.equals speed; a deep equal of 70 kB Buffers is slow). */
function cut(chunks: Buffer[]): string[] {
  const reader = new GrpcFrameReader();
  return chunks.flatMap((chunk) => reader.push(chunk)).map((m) => m.toString('hex'));
}
const WHOLE_HEX = WHOLE.map((m) => m.toString('hex'));

describe('GrpcFrameReader', () => {
  it('gives the same whole messages for every split of the body in two and in three', () => {
    expect(WHOLE.map((m) => m.length)).toEqual([5, 10, 8, 70_005]);
    for (let a = 0; a <= 40; a++) expect(cut([BODY.subarray(0, a), BODY.subarray(a)])).toEqual(WHOLE_HEX);
    for (const a of [3, 11, 20, 24]) for (let b = a; b < BODY.length; b += 997) expect(cut([BODY.subarray(0, a), BODY.subarray(a, b), BODY.subarray(b)])).toEqual(WHOLE_HEX);
    expect(cut([...BODY].map((byte) => Buffer.from([byte])))).toEqual(WHOLE_HEX); // a client dripping byte by byte
  });

  it('stops at a bad flag byte and keeps what was whole before it', () => {
    const reader = new GrpcFrameReader();
    const bad = Buffer.concat([frameMessage(Buffer.from('ok')), Buffer.from([9, 0, 0, 0, 1, 0]), frameMessage(Buffer.from('late'))]);
    expect(reader.push(bad)).toEqual([frameMessage(Buffer.from('ok'))]);
    expect([reader.broken, reader.push(frameMessage(Buffer.from('more')))]).toEqual([true, []]);
    expect(splitMessages(bad)).toBeUndefined();
  });

  it('reads a live body one message at a time and says when the client is done', async () => {
    async function* body(): AsyncIterable<Buffer> {
      yield BODY.subarray(0, 7);
      yield BODY.subarray(7, 30);
      yield BODY.subarray(30);
    }
    const messages = new ClientMessages(body());
    const read: Array<Buffer | undefined> = [];
    for (let i = 0; i < 5; i++) read.push(await messages.next());
    expect(read.map((m) => m?.toString('hex'))).toEqual([...WHOLE_HEX, undefined]);
  });
});
