/** The report's HTML: the page skeleton with the job's data, stylesheet and script inline. */
import type { ReportData } from './write-job-report.js';
import { REPORT_CSS } from './report-style.js';
import { REPORT_SCRIPT } from './report-script.js';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that can sit inside a <script> element: `<` never appears raw, so `</script>` in a reason cannot end it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function renderReportPage(data: ReportData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.job.name)} · ${escapeHtml(data.status)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <dl class="job" id="job"></dl>
  <div id="job-error"></div>
  <p class="links" id="job-links"></p>
  <div id="control"></div>
</header>
<main>
  <div class="toolbar"><span id="filters"></span><input id="search" type="search" placeholder="Search: words must appear, -word must not" aria-label="Search results"><span class="muted" id="count"></span></div>
  <h2>Tests × hosts</h2>
  <table class="grid" id="grid"></table>
  <h2>Results</h2>
  <table class="results" id="results"></table>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
