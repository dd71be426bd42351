// `<command> --version` (or -V) prints the command and the package's version and exits 0, for every bin,
// before the command's own code loads.
import { readFileSync } from 'node:fs';

export function answerVersion(command) {
  const args = process.argv.slice(2);
  const flags = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (!flags.includes('--version') && !flags.includes('-V')) return;
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${command} ${version}\n`);
  process.exit(0);
}
