// What every command does before its own code loads: `<command> --version` (or -V) prints the command and
// the package's version and exits 0; and a usage error (unknown flag, missing option or argument) exits 2,
// not commander's 1, which the commands keep for "a test did not pass".
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

function exitTwoOnUsageErrors() {
  const error = Command.prototype.error;
  // Commander reports every usage error through Command#error without an exit code; give it 2 by default.
  Command.prototype.error = function (message, options = {}) {
    return error.call(this, message, { exitCode: 2, ...options });
  };
}

export function answerVersion(command) {
  exitTwoOnUsageErrors();
  const args = process.argv.slice(2);
  const flags = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (!flags.includes('--version') && !flags.includes('-V')) return;
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${command} ${version}\n`);
  process.exit(0);
}
