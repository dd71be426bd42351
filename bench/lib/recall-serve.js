// `recall serve --mode replay` started as a user starts it (bin/recall.js, default logging, output to a pipe),
// pinned to a core, for the benchmarks that measure what users run (serve.js, dns-playback.js).
import { startPinned } from './processes.js';

const RECALL_BIN = new URL('../../bin/recall.js', import.meta.url).pathname;

/** Starts it over `archive`; resolves with its handle and the ports it printed: { dns, http, https }. */
export async function startRecallServe(core, { archive, caDir }) {
  const handle = startPinned(core, process.execPath, [RECALL_BIN, 'serve', '--mode', 'replay', '--archive', archive, '--ca-dir', caDir]);
  await handle.waitFor(/^ready/m, 30_000);
  const port = (name) => {
    const value = Number(new RegExp(`^${name}\\s+127\\.0\\.0\\.1:(\\d+)`, 'm').exec(handle.stdout())?.[1]);
    if (!Number.isInteger(value)) throw new Error(`recall serve printed no ${name} port: ${handle.stdout().slice(-400)}`);
    return value;
  };
  return { handle, ports: { dns: port('dns'), http: port('http'), https: port('https') } };
}
