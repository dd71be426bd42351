/**
 * The report's script, inlined into index.html: it reads the job's data from the page and draws the job,
 * the tests × hosts grid and the results with their details, with status filters and a search box
 * (`word` must appear, `-word` must not). Plain browser JavaScript: text goes in with textContent only,
 * since reasons and names come from devices.
 */
export const REPORT_SCRIPT = String.raw`
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v; else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
    return node;
  }
  const statusBadge = (status) => el('span', { class: 'status status-' + status }, status);
  const duration = (ms) => ms >= 60000 ? Math.floor(ms / 60000) + 'm ' + ((ms % 60000) / 1000).toFixed(1) + 's' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + 's';
  const when = (ms) => new Date(ms).toLocaleString();
  const hostOf = (t) => t.machine || data.hosts[0] || '';
  const key = (t) => t.name + '\u0000' + hostOf(t);

  // The job.
  const job = data.job;
  document.title = job.name + ' · ' + data.status;
  $('title').append(el('span', {}, job.name), statusBadge(data.status));
  const facts = [
    ['command', (job.commandLine || []).join(' ')], ['control file', job.control], ['machines', job.machines.join(', ') || '(none)'],
    ['started', when(job.startedMs)], ['finished', when(job.finishedMs)], ['duration', duration(job.durationMs)],
    ['exit code', String(job.exitCode)], ['results', job.resultsDir],
  ];
  for (const [name, value] of facts) if (value) $('job').append(el('dt', {}, name), el('dd', {}, value));
  if (job.error || job.interrupted) $('job-error').append(el('div', { class: 'job-error', id: 'job-error-text' }, (job.interrupted ? 'Interrupted: ' : 'The job broke: ') + (job.error || 'interrupted')));
  for (const link of data.links) $('job-links').append(el('a', { href: link.href }, link.label));
  if (data.control !== undefined) $('control').append(el('details', {}, el('summary', {}, 'Control file'), el('pre', { class: 'control' }, data.control)));

  // Filters.
  const statuses = [...new Set(data.tests.map((t) => t.status))];
  const active = new Set();
  const allButton = el('button', { type: 'button', 'aria-pressed': 'true', 'data-filter': 'ALL' }, 'All ' + data.tests.length);
  $('filters').append(allButton);
  const statusButtons = statuses.map((s) => {
    const b = el('button', { type: 'button', 'aria-pressed': 'false', 'data-filter': s, class: 'filter-' + s }, s + ' ' + data.tests.filter((t) => t.status === s).length);
    b.addEventListener('click', () => { active.has(s) ? active.delete(s) : active.add(s); update(); });
    return b;
  });
  $('filters').append(...statusButtons);
  allButton.addEventListener('click', () => { active.clear(); update(); });
  $('search').addEventListener('input', () => update());

  const haystack = (t) => [t.name, hostOf(t), t.status, t.reason, t.parent || '', ...Object.entries(t.keyvals || {}).map(([k, v]) => k + '=' + v)].join('\n').toLowerCase();
  function matches(t) {
    if (active.size && !active.has(t.status)) return false;
    const text = haystack(t);
    for (const term of $('search').value.toLowerCase().split(/\s+/).filter(Boolean)) {
      if (term.startsWith('-') && term.length > 1) { if (text.includes(term.slice(1))) return false; }
      else if (!text.includes(term)) return false;
    }
    return true;
  }

  // The grid: one row per test, one column per host.
  const names = [...new Set(data.tests.map((t) => t.name))];
  const byKey = new Map(data.tests.map((t) => [key(t), t]));
  $('grid').append(el('thead', {}, el('tr', {}, el('th', {}, 'test'), data.hosts.map((h) => el('th', {}, h || 'local')))));
  const gridBody = el('tbody');
  const gridRows = names.map((name) => {
    const row = el('tr', { class: 'grid-row', 'data-test': name }, el('td', { class: 'name' }, name), data.hosts.map((h) => {
      const t = byKey.get(name + '\u0000' + h);
      return el('td', { 'data-host': h }, t ? [el('a', { href: '#r-' + data.tests.indexOf(t) }, statusBadge(t.status)), el('div', { class: 'muted' }, duration(t.durationMs))] : el('span', { class: 'muted' }, '—'));
    }));
    gridBody.append(row);
    return { row, tests: data.tests.filter((t) => t.name === name) };
  });
  $('grid').append(gridBody);

  // The results, with details.
  function keyvalList(entries) {
    return el('div', { class: 'kv' }, entries.flatMap(([k, v]) => [el('span', {}, k), el('span', {}, String(v))]));
  }
  function recallSection(recall) {
    const parts = [];
    if (recall.iterations.length) {
      const rows = recall.iterations.map((it) => el('tr', { class: 'recall-iteration' },
        el('td', {}, String(it.iteration)), el('td', {}, it.hits === undefined ? '' : String(it.hits)),
        el('td', {}, it.misses === undefined ? String(it.missList.length) : String(it.misses)),
        el('td', { class: (it.dnsMisses || it.dnsMissList.length) ? 'dns-miss-count' : '' }, it.dnsMisses === undefined ? String(it.dnsMissList.length) : String(it.dnsMisses))));
      parts.push(el('h3', {}, 'Recall playback'), el('table', { class: 'recall' }, el('thead', {}, el('tr', {}, ['iteration', 'hits', 'misses', 'DNS misses'].map((h) => el('th', {}, h)))), el('tbody', {}, rows)));
      for (const it of recall.iterations) {
        for (const miss of it.missList) {
          const why = miss.nearest
            ? 'nearest recorded: ' + miss.nearest.method + ' ' + miss.nearest.url + (miss.nearest.differences.length ? '; differs in ' + miss.nearest.differences.map((d) => d.field + ' (recorded ' + JSON.stringify(d.recorded) + ', received ' + JSON.stringify(d.received) + ')').join(', ') : '')
            : 'no recorded request is near it (the archive holds nothing for it)';
          parts.push(el('div', { class: 'miss' }, 'iteration ' + it.iteration + ': MISS ' + miss.method + ' ' + miss.url + (miss.count > 1 ? ' ×' + miss.count : ''), el('span', { class: 'why' }, why)));
        }
        for (const miss of it.dnsMissList) parts.push(el('div', { class: 'miss dns-miss' }, 'iteration ' + it.iteration + ': DNS MISS ' + miss.name + ' ' + miss.type + (miss.count > 1 ? ' ×' + miss.count : '')));
      }
    }
    const a = recall.archive;
    if (a) {
      parts.push(el('h3', {}, 'Archive'), el('div', { class: 'archive-summary' }, a.entries + ' entries, ' + a.hosts.length + ' hosts, ' + a.dnsAnswers + ' DNS answers, ' + (a.bytes / 1024).toFixed(1) + ' KiB on disk'));
      parts.push(el('table', { class: 'archive-hosts' }, el('thead', {}, el('tr', {}, el('th', {}, 'host'), el('th', {}, 'entries'), el('th', {}, 'body bytes'))),
        el('tbody', {}, a.hosts.map((h) => el('tr', {}, el('td', {}, h.host), el('td', {}, String(h.entries)), el('td', {}, String(h.bodyBytes)))))));
    }
    return el('div', { class: 'section recall-details' }, parts);
  }
  function details(t) {
    const all = Object.entries(t.keyvals || {});
    const perf = all.filter(([k]) => k.endsWith('{perf}')).map(([k, v]) => [k.slice(0, -6), v]);
    const attr = all.filter(([k]) => !k.endsWith('{perf}')).map(([k, v]) => [k.replace(/\{attr\}$/, ''), v]);
    const own = Object.entries(t.testKeyvals || {});
    return el('div', {},
      el('div', { class: 'links' }, t.links.map((l) => el('a', { href: l.href }, l.label))),
      perf.length ? el('div', { class: 'section' }, el('h3', {}, 'Perf keyvals (the last iteration’s value of each)'), keyvalList(perf)) : null,
      attr.length ? el('div', { class: 'section' }, el('h3', {}, 'Keyvals'), keyvalList(attr)) : null,
      own.length ? el('div', { class: 'section' }, el('h3', {}, 'Test keyval'), keyvalList(own)) : null,
      t.recallDetails ? recallSection(t.recallDetails) : null);
  }
  const resultsBody = el('tbody');
  const resultRows = data.tests.map((t, i) => {
    const row = el('tr', { class: 'result' + (t.parent ? ' child' : ''), id: 'r-' + i, 'data-status': t.status },
      el('td', { class: 'name' }, t.name), el('td', {}, hostOf(t)), el('td', {}, statusBadge(t.status)),
      el('td', { class: 'duration' }, duration(t.durationMs)), el('td', { class: 'reason' }, t.reason, t.recall ? el('div', { class: 'recall-totals muted' },
        'Recall: ' + t.recall.hits + ' hits, ' + t.recall.misses + ' misses, ', el('span', { class: t.recall.dnsMisses ? 'dns-miss-count' : '' }, t.recall.dnsMisses + ' DNS misses'),
        t.recall.dnsMisses ? ' (strict=1 counts HTTP misses only)' : '') : null));
    const more = el('tr', { class: 'details hidden' }, el('td', { colspan: 5 }, details(t)));
    // Details start open where there is something to explain (Recall misses); a click opens or closes them.
    const entry = { row, more, t, open: !!(t.recallDetails && t.recallDetails.iterations.some((it) => it.missList.length || it.dnsMissList.length)) };
    row.addEventListener('click', (event) => { if (!event.target.closest('a')) { entry.open = !entry.open; update(); } });
    resultsBody.append(row, more);
    return entry;
  });
  $('results').append(el('thead', {}, el('tr', {}, ['test', 'host', 'status', 'duration', 'reason'].map((h) => el('th', {}, h)))), resultsBody);

  function update() {
    allButton.setAttribute('aria-pressed', String(active.size === 0));
    for (const b of statusButtons) b.setAttribute('aria-pressed', String(active.has(b.dataset.filter)));
    let shown = 0;
    for (const r of resultRows) {
      const ok = matches(r.t);
      r.row.classList.toggle('hidden', !ok);
      r.more.classList.toggle('hidden', !(ok && r.open));
      if (ok) shown++;
    }
    for (const g of gridRows) g.row.classList.toggle('hidden', !g.tests.some(matches));
    $('count').textContent = 'Showing ' + shown + ' of ' + data.tests.length + ' results';
  }
  update();
})();
`;
