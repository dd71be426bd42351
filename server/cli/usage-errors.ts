/**
 * Exit codes of the commands: a usage error (unknown flag, missing option or argument) exits 2, as a job
 * that broke does, so that 1 keeps meaning "a test did not pass"; --help exits 0.
 */
import type { Command } from 'commander';

export const USAGE_EXIT_CODE = 2;

export function exitTwoOnUsageErrors(program: Command): Command {
  return program.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE));
}
