/** The report's stylesheet, inlined into index.html. Status colours are classes: `status-GOOD`, `status-FAIL`, … */
export const REPORT_CSS = `
:root { --good:#1a7f37; --warn:#9a6700; --na:#6e7781; --fail:#cf222e; --error:#a40e26; --abort:#8250df; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 24px; }
h1 { font-size: 20px; margin: 0 0 8px; display: flex; gap: 12px; align-items: center; }
h2 { font-size: 16px; margin: 24px 0 8px; }
main { padding: 0 24px 32px; }
dl.job { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.job dt { color: #59636e; } dl.job dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
.links a { margin-right: 12px; }
.status { display: inline-block; min-width: 64px; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; text-align: center; }
.status-GOOD { background: var(--good); } .status-WARN { background: var(--warn); } .status-TEST_NA { background: var(--na); }
.status-FAIL { background: var(--fail); } .status-ERROR { background: var(--error); } .status-ABORT { background: var(--abort); }
.status-BUG, .status-ALERT, .status-RUNNING, .status-NOSTATUS { background: #57606a; }
.job-error { background: #ffebe9; border: 1px solid #ff8182; padding: 8px 12px; border-radius: 6px; margin-top: 8px; white-space: pre-wrap; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 16px 0 8px; position: sticky; top: 0; background: #f6f8fa; padding: 8px 0; }
.toolbar button { border: 1px solid var(--line); background: #fff; border-radius: 16px; padding: 3px 12px; cursor: pointer; }
.toolbar button[aria-pressed="true"] { background: #1f2328; color: #fff; }
.toolbar input { flex: 1; min-width: 220px; padding: 5px 10px; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
table.grid { width: auto; } table.grid td { text-align: center; } table.grid td.name { text-align: left; }
td.name { font-family: ui-monospace, monospace; white-space: nowrap; }
td.reason { white-space: pre-wrap; word-break: break-word; }
td.duration { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
tr.child td.name { padding-left: 28px; }
tr.details > td { background: #fbfcfd; }
tr.result { cursor: pointer; } tr.result:hover td { background: #f3f6f9; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0 16px; font-family: ui-monospace, monospace; font-size: 12px; }
.section { margin: 8px 0; } .section h3 { font-size: 13px; margin: 8px 0 4px; }
.miss { font-family: ui-monospace, monospace; font-size: 12px; margin: 4px 0; }
.miss .why { color: #59636e; display: block; padding-left: 16px; }
.dns-miss-count { color: var(--warn); font-weight: 600; }
.hidden { display: none !important; }
pre.control { background: #fff; border: 1px solid var(--line); padding: 12px; overflow: auto; max-height: 420px; }
.muted { color: #59636e; }
`;
