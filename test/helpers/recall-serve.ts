// `recall serve` as users start it (bin/recall.js from dist/), waited for until it prints `ready`.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { repoRoot } from './cli.js';

export interface Served {
  child: ChildProcess;
  ports: Record<'dns' | 'http' | 'https', number>;
  caFile: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `recall serve ARGS`, optionally under a command prefix (prlimit …), and reads its ports and CA file. */
export async function startRecallServe(args: string[], prefix: string[] = []): Promise<Served> {
  const command = [...prefix, process.execPath, `${repoRoot}/bin/recall.js`, 'serve', ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 2000 && !text.includes('ready') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  expect(text).toContain('ready');
  const port = (name: string) => Number(new RegExp(`^${name}\\s+[^\\s]+:(\\d+)`, 'm').exec(text)?.[1]);
  return {
    child,
    ports: { dns: port('dns'), http: port('http'), https: port('https') },
    caFile: /^ca\s+(\S+)/m.exec(text)![1]!,
    output: () => text,
    exited,
  };
}
