/**
 * Where a script goes in an HTML page, and how a Content-Security-Policy is widened to let exactly that script run.
 * Works on the whole body (tags split across network chunks are found) and on bytes read as latin1, so offsets are
 * byte offsets and a page in any ASCII-compatible charset comes back byte for byte apart from the insertion.
 */

const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
// `(?=[\s/>])` keeps `<header>` and `<heading>` from passing for `<head>` (research/recall.md §15 B13).
const HEAD_OPEN = /<head(?=[\s/>])[^>]*>/i;
const HEAD_END = /<\/head\s*>|<body(?=[\s/>])/i;
const META_CHARSET = /<meta(?=[\s/])[^>]*?\bcharset\s*=[^>]*>/i;
const HTML_OPEN = /<html(?=[\s/>])[^>]*>/i;
const DOCTYPE = /<!doctype[^>]*>/i;
const META_CSP = /<meta(?=[\s/])[^>]*?http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi;
const CONTENT_ATTRIBUTE = /(\bcontent\s*=\s*)(?:"([^"]*)"|'([^']*)')/i;

/**
 * The byte offset to insert a script at: right after `<meta charset>` when the head has one (so the charset stays
 * inside the browser's 1024-byte sniffing window and the script is decoded in the right charset), else right after
 * `<head>`, else after `<html>`, else after the doctype (never before it: that would switch to quirks mode),
 * else at the top (after a byte order mark).
 */
export function scriptInsertionOffset(latin1Html: string): number {
  // Blank out comments, keeping every offset, so a commented-out tag is not taken for a real one.
  const html = latin1Html.replace(COMMENT, (comment) => ' '.repeat(comment.length));
  const head = HEAD_OPEN.exec(html);
  const headEnd = HEAD_END.exec(html);
  const headRegion = html.slice(0, headEnd ? headEnd.index : html.length);
  const meta = META_CHARSET.exec(headRegion);
  if (meta) return meta.index + meta[0].length;
  if (head && (!headEnd || head.index < headEnd.index)) return head.index + head[0].length;
  const root = HTML_OPEN.exec(html);
  if (root) return root.index + root[0].length;
  const doctype = DOCTYPE.exec(html);
  if (doctype) return doctype.index + doctype[0].length;
  return html.startsWith('\xef\xbb\xbf') ? 3 : 0;
}

/**
 * Widens one Content-Security-Policy header value so an inline script with hash `hashSource` (`'sha256-…'`) may
 * run. Each comma-separated policy is enforced on its own, so each is adjusted: the hash goes into
 * `script-src-elem` and `script-src` when present, else into `default-src` when present. A list that already allows
 * every inline script (`'unsafe-inline'` with no nonce, hash or `'strict-dynamic'`) is left alone, because adding
 * a hash would switch `'unsafe-inline'` off for the page's own scripts. `'none'` is dropped where the hash goes.
 */
export function allowScriptHashInCsp(value: string, hashSource: string): string {
  return value
    .split(',')
    .map((policy) => {
      const directives = policy
        .split(';')
        .map((d) => d.trim())
        .filter((d) => d !== '');
      const names = directives.map((d) => (d.split(/\s+/, 1)[0] ?? '').toLowerCase());
      const scriptTargets = ['script-src-elem', 'script-src'].filter((n) => names.includes(n));
      const targets =
        scriptTargets.length > 0 ? scriptTargets : names.includes('default-src') ? ['default-src'] : [];
      if (targets.length === 0) return policy;
      const adjusted = directives.map((directive, index) => {
        const name = names[index] ?? '';
        // Only the first directive of a name counts; browsers ignore repeats.
        if (!targets.includes(name) || names.indexOf(name) !== index) return directive;
        const sources = directive.split(/\s+/).slice(1);
        const lower = sources.map((s) => s.toLowerCase());
        const allowsAllInline =
          lower.includes("'unsafe-inline'") &&
          !lower.some((s) => /^'(nonce-|sha(256|384|512)-|strict-dynamic')/.test(s));
        if (allowsAllInline || sources.includes(hashSource)) return directive;
        return [
          directive.split(/\s+/, 1)[0],
          ...sources.filter((s) => s.toLowerCase() !== "'none'"),
          hashSource,
        ].join(' ');
      });
      return ` ${adjusted.join('; ')}`;
    })
    .join(',')
    .trim();
}

/**
 * Applies `allowScriptHashInCsp` to every `<meta http-equiv="Content-Security-Policy" content="…">` of a page, since
 * a policy given in the markup blocks the script as surely as one given in a header. Tags that need no change keep
 * their exact bytes.
 */
export function allowScriptHashInMetaCsp(latin1Html: string, hashSource: string): string {
  return latin1Html.replace(META_CSP, (tag) =>
    tag.replace(
      CONTENT_ATTRIBUTE,
      (attribute: string, prefix: string, doubleQuoted?: string, singleQuoted?: string) => {
        const policy = decodeAttribute(doubleQuoted ?? singleQuoted ?? '');
        const adjusted = allowScriptHashInCsp(policy, hashSource);
        if (adjusted === policy) return attribute;
        const escaped = adjusted.replace(/&/g, '&amp;');
        return doubleQuoted !== undefined
          ? `${prefix}"${escaped.replace(/"/g, '&quot;')}"`
          : `${prefix}'${escaped.replace(/'/g, '&#39;')}'`;
      },
    ),
  );
}

function decodeAttribute(value: string): string {
  return value
    .replace(/&(quot|apos|#39|#x27|lt|gt);/gi, (entity) => ENTITIES[entity.toLowerCase()] ?? entity)
    .replace(/&amp;/gi, '&');
}

const ENTITIES: Record<string, string> = {
  '&quot;': '"',
  '&apos;': "'",
  '&#39;': "'",
  '&#x27;': "'",
  '&lt;': '<',
  '&gt;': '>',
};
