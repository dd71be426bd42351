/** Running the system tools the lab is built with (ip, ssh-keygen, openssl), with errors that name the command. */
import { execa } from 'execa';
import { LabError } from './lab-errors.js';

export interface SystemCommandOptions {
  /** Return stdout even when the command fails, instead of throwing. @default false */
  readonly allowFailure?: boolean;
  readonly input?: string;
}

/** Runs `file args…` and returns its stdout; throws `ERR_LAB_SETUP` with the command line and stderr. */
export async function system(
  file: string,
  args: readonly string[],
  options: SystemCommandOptions = {},
): Promise<string> {
  const result = await execa(file, args, {
    reject: false,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.exitCode !== 0 && !options.allowFailure) {
    const line = [file, ...args].join(' ');
    const reason = String(result.stderr || result.stdout || result.shortMessage).trim();
    throw new LabError('ERR_LAB_SETUP', `\`${line}\` failed (exit ${result.exitCode ?? 'none'}): ${reason}`, {
      cause: result,
    });
  }
  return String(result.stdout);
}

/** `ip -n NS args…`, or `ip args…` in the root namespace when `namespace` is undefined. */
export function ip(namespace: string | undefined, ...args: string[]): Promise<string> {
  return system('ip', namespace ? ['-n', namespace, ...args] : args);
}

/** Runs a command inside a network namespace. */
export function inNamespace(
  namespace: string,
  file: string,
  args: readonly string[],
  options?: SystemCommandOptions,
): Promise<string> {
  return system('ip', ['netns', 'exec', namespace, file, ...args], options);
}
