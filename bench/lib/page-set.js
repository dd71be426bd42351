// The page set every HTTP benchmark serves: a small site (a page, its script, stylesheet, images, JSON, icons)
// written to a folder nginx serves as is, and which the recorder and mitmproxy record from nginx.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Deterministic pseudo-random bytes, so every run serves the same bytes. */
function bytes(size, seed) {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function text(size, seed, line) {
  let out = '';
  for (let i = 0; out.length < size; i++) out += `${line} ${seed}-${i}\n`;
  return out.slice(0, size);
}

/** Paths with their sizes in bytes (about 8 KiB on average). */
export const PAGES = [
  { path: '/index.html', size: 14_000, kind: 'html' },
  { path: '/app.js', size: 30_000, kind: 'js' },
  { path: '/style.css', size: 6_000, kind: 'css' },
  { path: '/logo.png', size: 16_000, kind: 'bin' },
  { path: '/photo.jpg', size: 8_000, kind: 'bin' },
  { path: '/api/items.json', size: 2_000, kind: 'json' },
  { path: '/icons/a.svg', size: 900, kind: 'svg' },
  { path: '/icons/b.svg', size: 700, kind: 'svg' },
  { path: '/icons/c.svg', size: 1_100, kind: 'svg' },
  { path: '/favicon.ico', size: 1_500, kind: 'bin' },
];

export function writePageSet(root) {
  PAGES.forEach((page, i) => {
    const file = join(root, page.path);
    mkdirSync(join(file, '..'), { recursive: true });
    let body;
    if (page.kind === 'bin') body = bytes(page.size, i + 1);
    else if (page.kind === 'html')
      body = `<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>\n${text(page.size - 120, i, '<p>bench page line</p>')}</body></html>\n`;
    else if (page.kind === 'json')
      body = JSON.stringify({ items: text(page.size - 20, i, 'item').split('\n') }).slice(0, page.size);
    else body = text(page.size, i, page.kind === 'js' ? '// bench script line' : '/* bench line */');
    writeFileSync(file, body);
  });
  return PAGES.map((p) => p.path);
}
