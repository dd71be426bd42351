/**
 * DNS names between wire form and text, byte-exact. dns-packet reads each label as UTF-8 and writes text back split
 * at every dot, so a label of 0xFF bytes came back as U+FFFD (three bytes each) and a label holding a dot came back
 * as two labels. Here text is the RFC 1035 §5.1 presentation form: `\.` and `\\` for a dot or backslash inside a
 * label, `\DDD` for any byte outside printable ASCII, so every wire name has one text and back.
 * The root is the empty string in text (as `normalizeDnsName('.')` gives), one zero byte on the wire.
 */

const HEADER = 12;

/** Where the first question's name ends (after its zero byte), if written in plain labels; undefined otherwise. */
export function endOfQuestionName(message: Buffer): number | undefined {
  if (message.length < HEADER) return undefined;
  let offset = HEADER;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined; // cut short, or a compression pointer
    offset += 1 + length;
    if (offset > message.length) return undefined;
    if (length === 0) return offset;
  }
}

/** Where the first question (name, type and class) ends, if its name is in plain labels; undefined otherwise. */
export function endOfQuestion(message: Buffer): number | undefined {
  const nameEnd = endOfQuestionName(message);
  return nameEnd !== undefined && nameEnd + 4 <= message.length ? nameEnd + 4 : undefined;
}

/** The text of a name written in plain labels from `start` to `end` (as `endOfQuestionName` found it). */
export function textOfWireName(message: Buffer, start = HEADER, end?: number): string {
  let text = '';
  let offset = start;
  while (end === undefined || offset < end) {
    const length = message[offset] ?? 0;
    if (length === 0) break;
    if (offset !== start) text += '.';
    const labelEnd = Math.min(offset + 1 + length, message.length);
    // Runs of bytes that stand for themselves are sliced at once: a name is mostly such a run, one per label.
    let run = offset + 1;
    for (let i = run; i < labelEnd; i += 1) {
      const byte = message[i] as number;
      if (byte > 0x20 && byte < 0x7f && byte !== 0x2e && byte !== 0x5c) continue;
      if (i > run) text += message.toString('latin1', run, i);
      text += textOfByte(byte);
      run = i + 1;
    }
    if (labelEnd > run) text += message.toString('latin1', run, labelEnd);
    offset += 1 + length;
  }
  return text;
}

function textOfByte(byte: number): string {
  if (byte === 0x2e || byte === 0x5c) return `\\${String.fromCharCode(byte)}`;
  if (byte > 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\${String(byte).padStart(3, '0')}`;
}

/** The wire form of a name in presentation text (a trailing dot is allowed); undefined when it cannot be one. */
export function wireOfName(text: string): Buffer | undefined {
  if (!text.includes('\\')) return wireOfPlainName(text);
  const bytes: number[] = [];
  let label: number[] = [];
  const close = (): boolean => {
    if (label.length === 0 || label.length > 63) return false;
    bytes.push(label.length, ...label);
    label = [];
    return true;
  };
  const body = text === '.' ? '' : text;
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] as string;
    if (char === '.') {
      if (!close()) return undefined;
      continue;
    }
    if (char === '\\') {
      const digits = /^\d{3}/.exec(body.slice(i + 1))?.[0];
      if (digits !== undefined) {
        if (Number(digits) > 255) return undefined;
        label.push(Number(digits));
        i += 3;
      } else if (i + 1 < body.length) {
        label.push(...Buffer.from(body[i + 1] as string, 'utf8'));
        i += 1;
      } else return undefined;
      continue;
    }
    label.push(...Buffer.from(char, 'utf8'));
  }
  if (label.length > 0 && !close()) return undefined;
  bytes.push(0);
  return bytes.length > 255 ? undefined : Buffer.from(bytes);
}

/** `wireOfName` for text without escapes, the common case, written straight into one buffer. */
function wireOfPlainName(text: string): Buffer | undefined {
  const body = text.endsWith('.') ? text.slice(0, -1) : text;
  if (body === '') return Buffer.from([0]);
  const out = Buffer.allocUnsafe(Buffer.byteLength(body) + 2);
  let offset = 0;
  for (const label of body.split('.')) {
    const length = out.write(label, offset + 1);
    if (length === 0 || length > 63) return undefined;
    out[offset] = length;
    offset += 1 + length;
  }
  out[offset] = 0;
  return offset + 1 > 255 ? undefined : out;
}

/** True when two wire names are equal, ASCII letters compared without case (RFC 4343). */
export function sameWireName(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y && (x | 0x20) !== (y | 0x20)) return false;
    if (x !== y && !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a)) return false;
  }
  return true;
}
