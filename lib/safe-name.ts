/**
 * Names that become a path component or a shell word (test names, tags, iteration tags) come from control files,
 * `-a` arguments and devices, and the server runs as root: they are checked here, where they enter, against one
 * small alphabet. Nothing is escaped or repaired: a name that does not fit is refused with the value shown.
 */
import { AutotestError } from './errors.js';

/** A name with characters outside the safe alphabet, `..`, or too long. */
export class UnsafeNameError extends AutotestError {
  constructor(kind: string, value: string) {
    super(
      'ERR_UNSAFE_NAME',
      `${kind} ${JSON.stringify(value)} is not allowed: it becomes a folder and a shell word, so use letters, digits, '_', '.', '+' and '-' ` +
        `(not starting with '.' or '-', no '..', at most ${MAX_NAME_LENGTH} characters)`,
    );
  }
}

export const MAX_NAME_LENGTH = 200;
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/** Whether `value` may be used as a folder name and an unquoted shell word. */
export function isSafeName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_NAME_LENGTH && SAFE_NAME.test(value) && !value.includes('..');
}

/**
 * Returns `value` when it is a safe name, else throws `ERR_UNSAFE_NAME` naming `kind` and the value.
 * @example checkName('tag', 'iteration1') // 'iteration1'
 */
export function checkName(kind: string, value: unknown): string {
  if (!isSafeName(value)) throw new UnsafeNameError(kind, String(value));
  return value;
}

/** A printable stand-in for a refused name in status.log fields, which must not hold tabs or newlines. */
export function printableName(value: unknown): string {
  return JSON.stringify(String(value)).slice(1, -1);
}

/**
 * `name.tag` (or `name` without a tag) after checking both: the one place a test's results folder name is made.
 * A number is accepted as a tag (`tag=2` arrives as 2 from `-a`).
 */
export function taggedName(name: unknown, tag?: unknown): string {
  checkName('test name', name);
  if (tag === undefined || tag === null || tag === '') return name as string;
  return `${name as string}.${checkName('tag', typeof tag === 'number' ? String(tag) : tag)}`;
}
