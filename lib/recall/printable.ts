/**
 * Text from an archive or the network, made safe to print on a terminal: control characters (C0, DEL, C1) and
 * the Unicode controls that reorder or hide text are shown as escapes (`\x1b`, `\u202e`), so a hostile archive
 * cannot move the cursor, rewrite earlier lines, or make one URL look like another.
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex -- the same, keeping line breaks and tabs (multi-line bodies)
const UNPRINTABLE_IN_BLOCK = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|\r(?!\n)/g;

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of output: every control character escaped. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/** A block of output (a body): line feeds, CRLF and tabs kept, every other control character escaped. */
export function printableBlock(text: string): string {
  return text.replace(UNPRINTABLE_IN_BLOCK, escape);
}
