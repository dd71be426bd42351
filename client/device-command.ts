/** Runs the system tools RecallContext needs (`ip`, `certutil`, `update-ca-certificates`) with clear errors. */
import { execFile } from 'node:child_process';
import { RecallContextError } from './recall-context-error.js';

export interface DeviceCommandOptions {
  /** Milliseconds before the command is killed. @default 120000 */
  readonly timeoutMs?: number;
}

/** Runs `file args…` without a shell and resolves with its stdout; rejects with `ERR_RECALL_COMMAND` or `ERR_RECALL_TOOL_MISSING`. */
export function deviceCommand(file: string, args: readonly string[], options: DeviceCommandOptions = {}): Promise<string> {
  const line = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return reject(new RecallContextError('ERR_RECALL_TOOL_MISSING', `\`${file}\` is not installed on this device (needed for \`${line}\`); install it or turn off the step that needs it`, { cause: error }));
      }
      const how = error.killed ? `was killed after ${options.timeoutMs ?? 120_000} ms` : `failed (exit ${String(code ?? 'none')})`;
      const detail = (stderr || stdout || error.message).trim().split('\n').slice(-5).join(' | ');
      reject(new RecallContextError('ERR_RECALL_COMMAND', `\`${line}\` ${how}: ${detail}`, { cause: error }));
    });
  });
}
