// wrk, one thread pinned to the load core, cycling through the page set's paths with a fixed Host header.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPinned } from './processes.js';

export function writePathsScript(dir, paths) {
  const file = join(dir, 'paths.lua');
  writeFileSync(
    file,
    `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
`,
  );
  return file;
}

function ms(value, unit) {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

/** Runs wrk and returns { rps, p50Ms, p99Ms, requests, errors, non2xx }. */
export async function runWrk({ url, connections, durationSec, host, script, core }) {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${durationSec}s`,
    '--latency',
    '--timeout',
    '5s',
    '-H',
    `Host: ${host}`,
    '-s',
    script,
    url,
  ];
  const { code, stdout, stderr } = await runPinned(core, 'wrk', args, {
    timeoutMs: (durationSec + 15) * 1000,
  });
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${code}): ${stderr || stdout}`);
  const pick = (re) => re.exec(stdout);
  const lat = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(stdout);
    return m ? ms(m[1], m[2]) : NaN;
  };
  const rps = Number(pick(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN);
  const requests = Number(pick(/(\d+) requests in/)?.[1] ?? 0);
  const socketErrors = pick(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = Number(pick(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { rps, p50Ms: lat(50), p99Ms: lat(99), requests, errors, non2xx };
}
