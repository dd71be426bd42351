/**
 * The error hierarchy. Every error a caller may handle carries a stable `code`; match on it, not on the message.
 * Errors cross process boundaries (the client bundle, SSH), so `isAutotestError` checks a brand, not `instanceof`.
 */
import type { TestStatus } from './status.js';

const BRAND = Symbol.for('autotest.error');

export interface AutotestErrorOptions {
  cause?: unknown;
}

export class AutotestError extends Error {
  readonly code: string;
  readonly [BRAND] = true;

  constructor(code: string, message: string, options: AutotestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

export function isAutotestError(value: unknown): value is AutotestError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Base of the errors a test throws on purpose; `status` is the word recorded in status.log. */
export class TestBaseError extends AutotestError {
  readonly status: TestStatus;
  constructor(status: TestStatus, code: string, message: string, options?: AutotestErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

/** The test ran and found the device misbehaving: FAIL. */
export class TestFail extends TestBaseError {
  constructor(message: string, options?: AutotestErrorOptions) {
    super('FAIL', 'ERR_TEST_FAIL', message, options);
  }
}

/** The test does not apply to this device or configuration: TEST_NA. */
export class TestNA extends TestBaseError {
  constructor(message: string, options?: AutotestErrorOptions) {
    super('TEST_NA', 'ERR_TEST_NA', message, options);
  }
}

/** The test passed with something worth a human's look: WARN. */
export class TestWarn extends TestBaseError {
  constructor(message: string, options?: AutotestErrorOptions) {
    super('WARN', 'ERR_TEST_WARN', message, options);
  }
}

/** The test could not do its job (broken setup, missing tool): ERROR. */
export class TestError extends TestBaseError {
  constructor(message: string, options?: AutotestErrorOptions) {
    super('ERROR', 'ERR_TEST_ERROR', message, options);
  }
}

/** The test was stopped: a timeout, or the job was interrupted: ABORT. */
export class TestAbort extends TestBaseError {
  constructor(message: string, options?: AutotestErrorOptions) {
    super('ABORT', 'ERR_TEST_ABORT', message, options);
  }
}

/** The job itself cannot go on (bad control file, broken infrastructure). */
export class JobError extends AutotestError {}

/** The status word an error records: its own for test errors, ERROR for anything else. */
export function statusOfError(error: unknown): TestStatus {
  if (isAutotestError(error) && typeof (error as Partial<TestBaseError>).status === 'string') {
    return (error as TestBaseError).status;
  }
  return 'ERROR';
}

/** One line for status.log and summaries: the message, without the stack. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
