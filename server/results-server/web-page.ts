/** The web view's HTML: one layout, and escaping for every value that came from a user, a device or a drone. */

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tagged template that escapes every interpolated value unless it is already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    const parts = Array.isArray(value) ? value : [value];
    out += parts.map((part) => (part instanceof SafeHtml ? part.html : escapeHtml(part))).join('');
    out += strings[index + 1] ?? '';
  });
  return new SafeHtml(out);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
nav{background:#263238;padding:.5em 1em}nav a{color:#fff;margin-right:1.5em;text-decoration:none}
main{padding:1em}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f5f5f5}form{margin-bottom:1em}form label{margin-right:1em}
.GOOD{color:#1b5e20;font-weight:bold}.FAIL,.ERROR,.ABORT{color:#b71c1c;font-weight:bold}.RUNNING{color:#0d47a1;font-weight:bold}
.QUEUED,.CANCELLED{color:#555}.muted{color:#777}.warn{color:#b71c1c}`;

/** A table: one header row of `columns`, then `rows` (each a `<tr>`). */
export function table(id: string, columns: readonly string[], rows: readonly SafeHtml[]): SafeHtml {
  return html`<table id="${id}">
    <thead>
      <tr>
        ${columns.map((column) => html`<th>${column}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${title}</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <nav>
          <a href="/jobs">Jobs</a><a href="/hosts">Devices</a><a href="/queue">Queue</a
          ><a href="/bull/">Bull Board</a>
        </nav>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.html;
}

export function duration(start?: string, end?: string): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A results folder's listing (`/browse/…`): sub-folders, then files with their sizes. */
export function folderListing(
  dirs: readonly { href: string; name: string }[],
  files: readonly { href: string; name: string; stats: { size: number } }[],
): string {
  const items = [
    ...dirs.map((d) => html`<li><a href="${d.href}/">${d.name}/</a></li>`),
    ...files.map(
      (f) =>
        html`<li>
          <a href="${f.href.replace(/^\/browse\//, '/results/')}">${f.name}</a>
          <span class="muted">${f.stats.size} bytes</span>
        </li>`,
    ),
  ];
  return page(
    'Results folder',
    html`<p><a href="../">..</a></p>
      <ul id="listing">
        ${items}
      </ul>`,
  );
}
