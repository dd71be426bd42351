// WebSocket round trips through Recall: clients/websocket-ping-pong.js sends N text frames, each waiting for its
// echo, directly to a `ws` origin (the peer), through recording and through playback with the origin stopped; one
// process pinned to the server core (client, Recall and origin share it, the same for all three), interleaved
// rounds, medians.
import { runPinned } from './lib/processes.js';
import { median, round } from './lib/stats.js';

const WORKER = new URL('./clients/websocket-ping-pong.js', import.meta.url).pathname;

export async function runWebSocketPlayback({ config, log }) {
  const { serverCore, rounds, frames } = config.websocket;
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}`);
    const { code, stdout, stderr } = await runPinned(serverCore, process.execPath, [WORKER, String(frames)], { timeoutMs: 60_000 });
    if (code !== 0) throw new Error(`websocket-ping-pong exited ${code}: ${stderr.slice(-400)}`);
    samples.push(JSON.parse(stdout.trim().split('\n').pop()));
  }
  const m = (mode, key) => median(samples.map((s) => s[mode][key]));
  const rows = [];
  for (const [mode, label] of [
    ['record', 'recording'],
    ['playback', 'playback'],
  ]) {
    rows.push({
      what: `WebSocket ${label}: round trips/s (one frame each way, ${frames} per round)`,
      ours: round(m(mode, 'roundTripsPerSec')),
      peer: round(m('direct', 'roundTripsPerSec')),
      peerName: 'direct to the ws origin',
      ratio: m(mode, 'roundTripsPerSec') / m('direct', 'roundTripsPerSec'),
    });
    rows.push({
      what: `WebSocket ${label}: p50 / p99 ms per round trip`,
      ours: `${round(m(mode, 'p50ms'))} / ${round(m(mode, 'p99ms'))}`,
      peer: `${round(m('direct', 'p50ms'))} / ${round(m('direct', 'p99ms'))}`,
      peerName: 'direct to the ws origin',
      ratio: m(mode, 'p99ms') / m('direct', 'p99ms'),
      ratioLabel: 'p99',
    });
  }
  return { rows, raw: { samples } };
}
