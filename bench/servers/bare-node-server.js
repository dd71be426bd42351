#!/usr/bin/env node
// The ceiling of any replay server on Node here: node:http and node:https (keep-alive, the bench leaf certificate)
// answering each path with its recorded status, headers and body from a Map, and nothing else: no matching, no
// logging, no archive. Measured beside `recall serve`, it says how much of the gap to nginx is Node's own.
//   node bench/servers/bare-node-server.js '{"archive":"pages-http.har","certFile":"…","keyFile":"…"}'
// Prints `READY {"http":PORT,"https":PORT}`.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Archive } from '../../dist/lib/recall/index.js';

const options = JSON.parse(process.argv[2]);
const archive = await Archive.load(options.archive);
const answers = new Map();
for (const { request, response } of archive.exchanges) {
  const headers = response.headers.filter(([name]) => !['transfer-encoding', 'connection', 'keep-alive', 'date'].includes(name.toLowerCase()));
  answers.set(request.target, { status: response.status, headers: headers.flat(), body: response.body });
}

const serve = (req, res) => {
  const answer = answers.get(req.url);
  if (!answer) {
    res.writeHead(404, { 'content-length': '0' });
    return res.end();
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
};

const plain = http.createServer({ keepAliveTimeout: 60_000 }, serve);
const secure = https.createServer(
  { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile), keepAliveTimeout: 60_000 },
  serve,
);
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const ports = { http: await listen(plain), https: await listen(secure) };
process.stdout.write(`READY ${JSON.stringify(ports)}\n`);
process.on('SIGTERM', () => process.exit(0));
