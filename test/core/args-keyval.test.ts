import { describe, expect, it } from 'vitest';
import { formatControlArgs, parseControlArgs } from '../../lib/args.js';
import { parseKeyvals, renderKeyvals } from '../../lib/keyval.js';

describe('control-file arguments', () => {
  it('splits words and key=value pairs, keeps values as strings, allows = in values', () => {
    const args = parseControlArgs(`desktopui_UrlFetch num_iterations=100 label="a b" url=http://x/?a=1&b=2 'quoted word'`);
    expect(args._).toEqual(['desktopui_UrlFetch', 'quoted word']);
    expect(args).toMatchObject({ num_iterations: '100', label: 'a b', url: 'http://x/?a=1&b=2' });
  });

  it('reports an unclosed quote', () => {
    expect(() => parseControlArgs('a="b')).toThrow(/unclosed " quote/);
  });

  it('formats back to a string that parses to the same arguments', () => {
    const args = parseControlArgs(`test x=1 msg="it's here" path=/a/b`);
    expect(parseControlArgs(formatControlArgs(args))).toEqual(args);
  });
});

describe('keyval files', () => {
  it('writes sorted keys with type tags and reads numbers back as numbers', () => {
    const text = renderKeyvals({ b: 2, a: 'x', rate: 1.5 }, 'perf');
    expect(text).toBe('a{perf}=x\nb{perf}=2\nrate{perf}=1.5\n');
    expect(parseKeyvals(text, { stripTypes: true })).toEqual({ a: 'x', b: 2, rate: 1.5 });
  });

  it('keeps the last value of a repeated key and ignores comments', () => {
    expect(parseKeyvals('a=1\n# note\na=2 # later\n')).toEqual({ a: 2 });
  });

  it('rejects invalid keys and malformed lines with the line number', () => {
    expect(() => renderKeyvals({ 'bad key': 1 })).toThrow(/bad key/);
    expect(() => parseKeyvals('a=1\nnonsense\n')).toThrow(/line 2/);
  });
});
