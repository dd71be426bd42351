/**
 * recall serve --mode record|replay|proxy [--archive FILE] [--listen ADDR] [--dns-port N] [--http-port N]
 *              [--https-port N] [--ca-dir DIR] [--extra-ca PEM]… [--scrub credentials|all|none]
 *              [--allow-local-upstreams]
 * recall ls|show|stats ARCHIVE [--method M] [--host H] [--path PREFIX] [--status CODE|Nxx]   (ls --dns)
 * recall export ARCHIVE OUTPUT [filters]      recall merge OUTPUT INPUT…      recall recover ARCHIVE
 * recall import HAR OUTPUT   (a HAR from a browser or proxy, as a Recall archive)
 *
 * Runs Recall's DNS, HTTP and HTTPS servers standalone ("static server, custom client"), and inspects archives.
 * Errors print one line on stderr and exit 1. `serve` saves the archive (record mode) on SIGINT or SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { silentLogger } from '../../lib/logging.js';
import { openFileLimit } from '../../lib/recall/descriptor-limit.js';
import { bodyView } from '../../lib/recall/archive/body-label.js';
import { Command, Option } from 'commander';
import { reasonOf, isAutotestError } from '../../lib/errors.js';
import {
  Archive,
  CertificateAuthority,
  grpcCallOf,
  grpcTextFromProto,
  type GrpcMessageText,
  playbackModeClients,
  proxyModeClients,
  recordModeClients,
  type PlaybackModeClients,
  type ProtocolChoice,
  DNSClient,
  DNSServer,
  HTTPServer,
  HTTPSServer,
  NameMap,
  type WebSocketExchanger,
  RecallError,
  archiveStats,
  exchangeFilter,
  exchangeLine,
  dnsAnswerLine,
  parseScrubMode,
  printable,
  printableBlock,
  SCRUB_MODES,
  urlOf,
  type DnsResolver,
  type ExchangeFilter,
  type HttpExchanger,
  type RecordedExchange,
} from '../../lib/recall/index.js';

type Mode = 'record' | 'replay' | 'proxy';
interface ServeOptions {
  mode: Mode;
  archive?: string;
  listen: string;
  dnsPort: number;
  httpPort: number;
  httpsPort: number;
  caDir?: string;
  extraCa: string[];
  scrub: string;
  scrubSecrets?: boolean;
  allowLocalUpstreams?: boolean;
}

const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const collect = (value: string, previous: string[]): string[] => [...previous, value];

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new RecallError('ERR_RECALL_INVALID_OPTION', `Expected a port from 0 to 65535, got "${value}"`);
  return n;
}

function withFilters(command: Command): Command {
  return command
    .option('--method <method>', 'only this method')
    .option('--host <host>', 'only this host (with or without :port)')
    .option('--path <prefix>', 'only paths starting with this prefix')
    .option('--status <code>', 'only this status (404) or class (4xx)');
}

/** Prints a load warning (entries skipped, a journal found) on stderr. */
const warn = (message: string): boolean => process.stderr.write(`recall: warning: ${printable(message)}\n`);

async function selected(file: string, filter: ExchangeFilter): Promise<Archive> {
  return (await Archive.load(file, { onWarning: warn })).filter(exchangeFilter(filter));
}

function bodyText(exchange: RecordedExchange, which: 'request' | 'response'): string {
  const { text, label } = bodyView(exchange[which]);
  if (text === undefined) return label;
  const shown = printableBlock(text.slice(0, 4096));
  const body = text.length > 4096 ? `${shown}\n[… ${text.length - 4096} more characters]` : shown;
  return label ? `${label}\n${body}` : body;
}

function show(exchange: RecordedExchange, grpcText?: GrpcMessageText): void {
  const { request, response } = exchange;
  out(printable(`${request.method} ${urlOf(request)} HTTP/${request.httpVersion}`));
  for (const [n, v] of request.headers) out(printable(`${n}: ${v}`));
  const requestBody = bodyText(exchange, 'request');
  if (requestBody) out(`\n${requestBody}`);
  out(`\n${printable(`HTTP/${response.httpVersion} ${response.status} ${response.statusText}`)}`);
  for (const [n, v] of response.headers) out(printable(`${n}: ${v}`));
  out(`\n${bodyText(exchange, 'response')}`);
  for (const [n, v] of response.trailers ?? []) out(printable(`trailer ${n}: ${v}`));
  const grpc = grpcCallOf(exchange);
  if (grpc) {
    // gRPC messages as hex, one line each: > sent by the client, < sent by the server.
    out(`gRPC ${grpc.method} status ${grpc.status ?? 'none'}${grpc.trailersOnly ? ' (trailers-only)' : ''}`);
    const message = (base64: string | undefined, direction: 'request' | 'response', prefix = ''): void => {
      const bytes = Buffer.from(base64 ?? '', 'base64');
      out(`${prefix}${direction === 'request' ? '>' : '<'} ${bytes.toString('hex')}`);
      const text = grpcText?.(grpc.method, direction, bytes);
      if (text !== undefined) out(printable(`  ${text}`));
    };
    if (grpc.events?.length) {
      // In the order they went, with their time from the start of the call: what playback replays.
      for (const event of grpc.events) {
        const at = `${event.time.toFixed(1).padStart(8)} ms `;
        if (event.type === 'end') out(`${at}> (the client is done sending)`);
        else if (event.type === 'send') message(grpc.requestMessages[event.message], 'request', at);
        else message(grpc.responseMessages[event.message], 'response', at);
      }
    } else {
      for (const m of grpc.requestMessages) message(m, 'request');
      for (const m of grpc.responseMessages) message(m, 'response');
    }
  }
  out('-'.repeat(72));
}

async function serve(options: ServeOptions): Promise<void> {
  if (options.mode !== 'proxy' && !options.archive) {
    throw new RecallError(
      'ERR_RECALL_INVALID_OPTION',
      `--mode ${options.mode} needs --archive FILE (where to ${options.mode === 'record' ? 'save' : 'read'} the recording)`,
    );
  }
  const archiveFile = options.archive ? resolve(options.archive) : undefined;
  const archive = options.mode === 'replay' ? await Archive.load(archiveFile!, { onWarning: warn }) : Archive.create();
  // Credentials are scrubbed unless asked otherwise; --scrub-secrets is the older spelling of --scrub all.
  const scrub = options.scrubSecrets ? 'all' : parseScrubMode(options.scrub);
  // Every completed exchange goes to ARCHIVE.journal at once, so a killed recording can be recovered.
  if (options.mode === 'record') await archive.journalTo(archiveFile!);
  const extraCAs = await Promise.all(options.extraCa.map((f) => readFile(f, 'utf8')));
  const caDir = resolve(options.caDir ?? join(dirname(archiveFile ?? resolve('recall.har')), 'recall-ca'));
  const ca = await CertificateAuthority.open('/O=Recall/CN=Recall Test Root CA', { dir: caDir });
  const nameMap = options.mode === 'replay' ? NameMap.fromRecorded(archive.recall.dns) : new NameMap();
  let resolver: DnsResolver;
  let exchanger: HttpExchanger;
  let playback: PlaybackModeClients | undefined;
  let webSocket: WebSocketExchanger | undefined;
  let protocols: ProtocolChoice | undefined; // h2 or http/1.1 per host (docs/recall.md, HTTP/2 and gRPC)
  const allowLocalUpstreams = Boolean(options.allowLocalUpstreams);
  if (options.mode === 'record') {
    ({ dns: resolver, http: exchanger, protocols, webSocket } = recordModeClients(archive, { dns: new DNSClient(), extraCAs, allowLocalUpstreams, scrub }));
  } else if (options.mode === 'replay') {
    playback = playbackModeClients(archive, { scrub });
    ({ dns: resolver, http: exchanger, protocols, webSocket } = playback);
  } else {
    ({ dns: resolver, http: exchanger, protocols, webSocket } = proxyModeClients({ dns: new DNSClient(), extraCAs, allowLocalUpstreams }));
  }
  const host = options.listen;
  const descriptors = await openFileLimit(); // every connection is a descriptor (Node raised soft to hard)
  const dns = await DNSServer.start({ resolver, host, port: options.dnsPort, nameMap }).catch(async (error: unknown) => {
    await archive.journal?.remove(); // nothing was recorded
    throw error;
  });
  const http = new HTTPServer({
    exchanger,
    host,
    port: options.httpPort,
    nameMap,
    caCertificatePem: ca.rootCertificatePem,
    webSocket,
  });
  const https = new HTTPSServer({ exchanger, host, port: options.httpsPort, nameMap, certificates: ca, webSocket, protocols });
  try {
    await http.listen();
    await https.listen();
  } catch (error) {
    await Promise.all([dns.close(), http.close(), https.close(), archive.journal?.remove()]);
    throw error;
  }
  out(`mode  ${options.mode}${archiveFile ? ` (archive ${archiveFile})` : ''}`);
  out(`dns   ${host}:${dns.port} (udp, tcp)`);
  out(`http  ${host}:${http.address().port}`);
  out(`https ${host}:${https.address().port}`);
  out(`ca    ${ca.rootCertificateFile} (also at /_recall/ca.pem and /_recall/ca.der)`);
  if (descriptors) out(`files ${descriptors.soft} open files allowed`);
  out('ready: press Ctrl-C to stop' + (options.mode === 'record' ? ' and save' : ''));
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  // Stop accepting, let requests in flight finish (each server waits up to its drainTimeoutMs), then save.
  out(`${signal}: stopping (${http.inFlight + https.inFlight} requests in flight)`);
  // The drain is bounded (drainTimeoutMs): a second Ctrl-C must not kill the process before the save.
  const again = (): void => void out('still stopping: finishing requests in flight, then saving');
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  await Promise.all([dns.close(), http.close(), https.close()]);
  await exchanger.close();
  await ca.close();
  if (options.mode === 'record' && archiveFile) {
    await archive.save(archiveFile);
    out(`saved ${archive.size} exchanges and ${archive.recall.dns.length} DNS answers to ${archiveFile}`);
  }
  if (playback) {
    out(`served ${playback.hits} from the archive, ${playback.playback.missCount} misses, ${playback.unused().length} unused`);
    for (const line of playback.playback.missSummary()) out(printable(line)); // a device chose these URLs
    for (const line of playback.webSocket.mismatchSummary()) out(printable(line));
    for (const line of playback.grpc.mismatchSummary()) out(printable(line));
  }

}

function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      const code = isAutotestError(error) ? ` [${error.code}]` : '';
      process.stderr.write(`recall: ${printable(reasonOf(error).replace(/\s*\n\s*/g, ' '))}${code}\n`);
      process.exitCode = 1;
    }
  };
}

const program = new Command('recall')
  .description(
    'Recall: record and replay DNS, HTTP and HTTPS; inspect and edit archives (HAR 1.2 with _recall fields).',
  )
  .showHelpAfterError();

program
  .command('serve')
  .description('run the DNS, HTTP and HTTPS servers until SIGINT/SIGTERM')
  .addOption(
    new Option('--mode <mode>', 'record, replay or proxy (proxy records nothing)')
      .choices(['record', 'replay', 'proxy'])
      .makeOptionMandatory(),
  )
  .option('--archive <file>', 'archive to write (record) or read (replay); .gz compresses')
  .option('--listen <addr>', 'address to listen on', '127.0.0.1')
  .addOption(
    new Option('--dns-port <port>', 'DNS port, UDP and TCP (0 picks one)').default(0).argParser(port),
  )
  .addOption(new Option('--http-port <port>', 'HTTP port (0 picks one)').default(0).argParser(port))
  .addOption(new Option('--https-port <port>', 'HTTPS port (0 picks one)').default(0).argParser(port))
  .option(
    '--ca-dir <dir>',
    'folder of the root CA, reused when present (default: recall-ca beside the archive)',
  )
  .option(
    '--extra-ca <file>',
    'PEM trusted for upstream TLS besides the system roots (repeatable)',
    collect,
    [],
  )
  .addOption(
    new Option('--scrub <what>', 'store as [scrubbed]: credentials (Authorization, Proxy-Authorization and Cookie values), all (also Set-Cookie), or none')
      .choices([...SCRUB_MODES])
      .default('credentials'),
  )
  .option('--scrub-secrets', 'the same as --scrub all')
  .option('--allow-local-upstreams', "forward to this machine's loopback and own addresses, link-local and multicast (off: devices cannot reach this machine's services)")
  .action(run((options: ServeOptions) => serve(options)));

withFilters(
  program
    .command('ls')
    .description('list entries: status, method, URL, body bytes, content type (--dns: the DNS answers)')
    .argument('<archive>')
    .option('--dns', 'list the DNS answers instead: type, name, TTL, data (or NXDOMAIN, NODATA)'),
).action(
  run(async (file: string, options: ExchangeFilter & { dns?: boolean }) => {
    const archive = await selected(file, options);
    if (options.dns) for (const answer of archive.recall.dns) out(dnsAnswerLine(answer));
    else for (const exchange of archive.exchanges) out(exchangeLine(exchange));
  }),
);

withFilters(
  program
    .command('show')
    .description('print entries with headers and bodies')
    .argument('<archive>')
    .option('--proto <file>', 'also print gRPC messages as text, decoded with this .proto'),
).action(
  run(async (file: string, filter: ExchangeFilter & { proto?: string }) => {
    const grpcText = filter.proto ? await grpcTextFromProto(filter.proto) : undefined;
    for (const exchange of (await selected(file, filter)).exchanges) show(exchange, grpcText);
  }),
);

withFilters(
  program
    .command('stats')
    .description('count entries by host, method and status')
    .argument('<archive>')
    .option('--json', 'print JSON'),
).action(
  run(async (file: string, options: ExchangeFilter & { json?: boolean }) => {
    const archive = await selected(file, options);
    const stats = { ...archiveStats(archive.exchanges, archive.skipped), dnsAnswers: archive.recall.dns.length };
    if (options.json) return void out(JSON.stringify(stats, null, 2));
    const skipped = Object.values(stats.skipped).reduce((a, b) => a + b, 0);
    out(
      `entries ${stats.entries}, response bytes ${stats.responseBytes}, DNS answers ${stats.dnsAnswers}, skipped entries ${skipped}`,
    );
    for (const [title, counts] of [
      ['host', stats.byHost],
      ['method', stats.byMethod],
      ['status', stats.byStatus],
      ['skip', stats.skipped],
    ] as const) {
      for (const [key, n] of Object.entries(counts).sort()) out(printable(`${title.padEnd(6)} ${key} ${n}`));
    }
  }),
);

withFilters(
  program
    .command('export')
    .description('write the selected entries to a new archive (.gz compresses)')
    .argument('<archive>')
    .argument('<output>'),
).action(
  run(async (file: string, output: string, filter: ExchangeFilter) => {
    const archive = await selected(file, filter);
    await archive.save(output);
    out(`wrote ${archive.size} exchanges to ${output}`);
  }),
);

program
  .command('import')
  .description(
    'convert a HAR exported by a browser or proxy (Chrome, Firefox, Safari, mitmproxy, Charles, Insomnia, Polly.js) into a Recall archive; entries that cannot be played back are skipped with a warning',
  )
  .argument('<har>')
  .argument('<output>')
  .action(
    run(async (file: string, output: string) => {
      const archive = await Archive.load(file, { onWarning: warn });
      await archive.save(output);
      out(`imported ${archive.size} exchanges from ${file} into ${output}`);
    }),
  );

program
  .command('merge')
  .description(
    'merge archives into OUTPUT (the first input gives the initial state; repeats keep input order)',
  )
  .argument('<output>')
  .argument('<inputs...>')
  .action(
    run(async (output: string, inputs: string[]) => {
      const [first, ...rest] = await Promise.all(inputs.map((f) => Archive.load(f, { onWarning: warn })));
      for (const other of rest) first!.merge(other);
      await first!.save(output);
      out(`wrote ${first!.size} exchanges to ${output}`);
    }),
  );

program
  .command('recover')
  .description(
    'save the journal of an interrupted recording (ARCHIVE.journal) as ARCHIVE, then delete it and the temporary files the interrupted save left',
  )
  .argument('<archive>', 'the archive the recording was writing (or its .journal)')
  .action(
    run(async (file: string) => {
      const archive = await Archive.recover(file, { onWarning: warn });
      const target = file.replace(/\.journal$/, '');
      out(`recovered ${archive.size} exchanges and ${archive.recall.dns.length} DNS answers into ${target}`);
    }),
  );

program
  .command('cleanup')
  .description(
    'remove the iptables rules and restore the sysctls that killed Recall runs left in this network namespace',
  )
  .option('--all', 'also undo the changes of runs that are still alive')
  .action(
    run(async (options: { all?: boolean }) => {
      if (process.getuid?.() !== 0) throw new RecallError('ERR_RECALL_NOT_ROOT', 'recall cleanup needs root: run it with sudo');
      const { cleanupLeftovers } = await import('../net/device-interception.js');
      const cleaned = await cleanupLeftovers(silentLogger, { all: Boolean(options.all) });
      out(cleaned.length ? `removed ${cleaned.join(', ')}` : 'nothing to clean up');
    }),
  );

await program.parseAsync();
