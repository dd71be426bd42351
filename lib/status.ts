/**
 * Status words of autotest's status.log, in severity order: when rolling up a group, the status that comes
 * first in this list wins (autotest's `job_statuses`).
 */
export const TEST_STATUSES = ['TEST_NA', 'ABORT', 'ERROR', 'FAIL', 'WARN', 'GOOD', 'BUG', 'ALERT', 'RUNNING', 'NOSTATUS'] as const;

export type TestStatus = (typeof TEST_STATUSES)[number];

export function isTestStatus(word: string): word is TestStatus {
  return (TEST_STATUSES as readonly string[]).includes(word);
}

/** Severity of a status for roll-ups, where a lower number is worse (TEST_NA aside, see `worstStatus`). */
// BUG (upstream autotest, 2017) sits between GOOD and ALERT, as in autotest's list.
const ROLLUP_ORDER: readonly TestStatus[] = ['ABORT', 'ERROR', 'FAIL', 'WARN', 'TEST_NA', 'GOOD', 'BUG', 'ALERT', 'RUNNING', 'NOSTATUS'];

/**
 * The worse of two statuses. autotest's list puts TEST_NA first, but a test that was NA and then failed is a
 * failure to a human reader, so failures outrank TEST_NA here; GOOD never outranks anything.
 */
export function worstStatus(a: TestStatus, b: TestStatus): TestStatus {
  return ROLLUP_ORDER.indexOf(a) <= ROLLUP_ORDER.indexOf(b) ? a : b;
}

/** generate_test_report's rule: GOOD, WARN and TEST_NA count as passing. */
export function isPassing(status: TestStatus): boolean {
  return status === 'GOOD' || status === 'WARN' || status === 'TEST_NA';
}
