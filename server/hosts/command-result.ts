/** What one remote command produced. Shapes shared by `SSHHost.run` and its errors. */
export interface CommandResult {
  /** The command as the caller gave it (without the wrapper that exports env and records the process id). */
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status; 128 + N when the command was killed by signal N. */
  readonly exitStatus: number;
  /** Wall time from sending the command to its exit, in milliseconds. */
  readonly durationMs: number;
}

export interface RunOptions {
  /** Seconds before the command and every process in its process group are killed. @default 3600 */
  readonly timeout?: number;
  /** Return a non-zero exit status instead of throwing `HostRunError`. @default false */
  readonly ignoreStatus?: boolean;
  /** Bytes written to the command's stdin, which is then closed. @default nothing (stdin closed at once) */
  readonly stdin?: string | Buffer;
  /** Variables exported before the command runs (names must be shell identifiers). */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborting kills the remote command like a timeout does and rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}
