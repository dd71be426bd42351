/** Errors of the virtual lab. Match on `code`. */
import { AutotestError, type AutotestErrorOptions } from '../../lib/errors.js';

export type LabErrorCode =
  | 'ERR_LAB_NOT_ROOT'
  | 'ERR_LAB_NAME'
  | 'ERR_LAB_OPTIONS'
  | 'ERR_LAB_EXISTS'
  | 'ERR_LAB_NOT_FOUND'
  | 'ERR_LAB_NO_SLOT'
  | 'ERR_LAB_SETUP'
  | 'ERR_LAB_TEARDOWN';

export class LabError extends AutotestError {
  declare readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: AutotestErrorOptions) {
    super(code, message, options);
  }
}

/** Throws `ERR_LAB_NOT_ROOT` unless running as root: namespaces, veths and mounts need it. */
export function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabError(
      'ERR_LAB_NOT_ROOT',
      'lab needs root (network namespaces, veth links and mounts); run it with sudo',
    );
  }
}
