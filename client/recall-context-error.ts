/** The error `RecallContext` throws: a stable `code`, and every failure it collected while restoring the device. */
import { AutotestError, type AutotestErrorOptions } from '../lib/errors.js';

/**
 * Codes:
 * - `ERR_RECALL_CONTEXT_OPTIONS`: an option that cannot be used (the message shows the value received).
 * - `ERR_RECALL_CA_FETCH`: the root certificate could not be fetched or is not a CA certificate.
 * - `ERR_RECALL_CA_MISMATCH`: the certificate served is not the root the server named by its SHA-256; refused.
 * - `ERR_RECALL_COMMAND`: a system command failed (the message has the command line and its stderr).
 * - `ERR_RECALL_TOOL_MISSING`: `update-ca-certificates`, `certutil` or `ip` is not installed.
 * - `ERR_RECALL_SETUP`: a setup step failed; everything already changed was restored (see `restoreErrors`).
 * - `ERR_RECALL_RESTORE`: at least one restore step failed; the others still ran (see `restoreErrors`).
 */
export class RecallContextError extends AutotestError {
  /** Failures of individual restore steps, in the order they ran; empty when everything was restored. */
  readonly restoreErrors: readonly Error[];

  constructor(code: string, message: string, options: AutotestErrorOptions & { restoreErrors?: readonly Error[] } = {}) {
    super(code, message, options);
    this.restoreErrors = options.restoreErrors ?? [];
  }
}
