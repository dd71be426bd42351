#!/usr/bin/env node
// WebSocket ping-pong through Recall (the worker of bench/websocket-playback.js): N text frames, each waiting for
// its echo, sent directly to a `ws` echo origin, through Recall's HTTPServer recording (WebSocketRecorder), and
// through playback with the origin stopped.
// Prints round trips per second and p50/p99 per round trip as JSON:
//   node scripts/build.js && node bench/clients/websocket-ping-pong.js [N=2000]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import {
  Archive,
  HTTPClient,
  HTTPServer,
  PlaybackHTTPClient,
  WebSocketRecorder,
} from '../../dist/lib/recall/index.js';

const N = Number(process.argv[2] ?? 2000);
const server = http.createServer();
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${data}`)));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const originPort = server.address().port;

async function pingPong(port) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/echo`, {
    headers: { Host: `echo.test:${originPort}` },
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const latencies = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await new Promise((resolve) => {
      socket.once('message', resolve);
      socket.send(`frame ${i}`);
    });
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((resolve) => socket.once('close', resolve).close(1000));
  latencies.sort((a, b) => a - b);
  const at = (q) => Number(latencies[Math.floor(N * q)].toFixed(3));
  return { roundTripsPerSec: Math.round(N / seconds), p50ms: at(0.5), p99ms: at(0.99) };
}

const loopback = (_host, options, callback) =>
  options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
const direct = await pingPong(originPort);
const archive = Archive.create();
const webSocket = new WebSocketRecorder({ archive, lookup: loopback, allowLocalUpstreams: true });
const recording = new HTTPServer({ exchanger: new HTTPClient(), webSocket });
const record = await pingPong((await recording.listen()).port);
await recording.close();
for (const client of wss.clients) client.terminate();
await new Promise((resolve) => server.close(resolve));
const replaying = new HTTPServer({ exchanger: new PlaybackHTTPClient(archive) });
const playback = await pingPong((await replaying.listen()).port);
await replaying.close();
console.log(JSON.stringify({ frames: N, direct, record, playback }));
