import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Archive,
  CertificateAuthority,
  DNSClient,
  parseScrubMode,
  playbackModeClients,
  proxyModeClients,
  recordModeClients,
  grpcMismatchLine,
  mismatchLine,
  type MissMark,
  type ModeClients,
  type PlaybackModeClients,
  type ScrubMode,
} from 'autotest/recall';
import { RecallServerTest, TestError, TestFail, type RecallServerArgs } from 'autotest';

export interface RecallServerTestArgs extends RecallServerArgs {
  /** The client test to run on the device. */
  test: string;
  /** Play this archive back (no recording). */
  archive?: string;
  /** 1: a plain proxy that records nothing. */
  proxy_only?: string;
  /** 1: any request missing from the archive fails the iteration. */
  strict?: string;
  /** PEM file(s) of extra CAs the upstream servers' certificates chain to, comma separated. */
  extra_ca?: string;
  /** Where the root CA lives, so devices keep trusting the same one. */
  ca_dir?: string;
  /** 1: let the device reach this machine's loopback and own addresses, link-local and multicast (tests with local origins). */
  allow_local_upstreams?: string;
  /** What the archive stores as [scrubbed]: credentials (default: Authorization, Cookie values), all (also Set-Cookie), none. */
  scrub?: string;
  /** Arguments for the client test. */
  clientArgs?: Record<string, string>;
}

type Mode = 'record' | 'replay' | 'proxy';
const SYSTEM_CAS = '/etc/ssl/certs/ca-certificates.crt';

/**
 * Records a client test's network traffic on the first iteration and plays it back on the following ones
 * (or plays back a given archive, or only proxies). The archive lands in the results folder as
 * `archive.har.gz`, even when the client test fails; each playback iteration reports its misses.
 */
export class test_RecallServer extends RecallServerTest<RecallServerTestArgs> {
  #mode: Mode = 'record';
  #archive: Archive | undefined;
  #saved = false;
  #scrub: ScrubMode = 'credentials';
  #playback: PlaybackModeClients | undefined;
  /** Hits, misses and WebSocket mismatches counted before this iteration (the playback clients count over their lifetime). */
  #before: { hits: number; dnsMisses: number; webSocketMismatches: number; grpcMismatches: number; misses?: MissMark } = { hits: 0, dnsMisses: 0, webSocketMismatches: 0, grpcMismatches: 0 };

  get archiveFile(): string {
    return join(this.outputDir, 'archive.har.gz');
  }

  override async initialize(args: RecallServerTestArgs): Promise<void> {
    this.requireRoot();
    if (!args.test) throw new TestError("test_RecallServer needs the client test to run: -a 'desktopui_UrlFetch'");
    if (args.proxy_only !== undefined && !['0', '1'].includes(String(args.proxy_only))) {
      throw new TestError(`proxy_only must be 0 or 1, got ${JSON.stringify(args.proxy_only)}`);
    }
    if (args.allow_local_upstreams !== undefined && !['0', '1'].includes(String(args.allow_local_upstreams))) {
      throw new TestError(`allow_local_upstreams must be 0 or 1, got ${JSON.stringify(args.allow_local_upstreams)}`);
    }
    const scrub = (this.#scrub = parseScrubMode(args.scrub));
    this.#mode = String(args.proxy_only) === '1' ? 'proxy' : args.archive ? 'replay' : 'record';
    this.certificateAuthority = await CertificateAuthority.open('/O=Recall/CN=Recall Root CA', { dir: args.ca_dir ?? '/var/lib/autotest-recall/ca' });
    const ca = this.certificateAuthority;
    this.onCleanup('close the certificate authority', () => ca.close());
    const extraCAs = [SYSTEM_CAS, ...(args.extra_ca?.split(',') ?? [])].filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
    const allowLocalUpstreams = String(args.allow_local_upstreams) === '1';

    const upstream = { dns: new DNSClient({ logger: this.logger }), extraCAs, allowLocalUpstreams, scrub, logger: this.logger };
    let live: ModeClients | undefined;
    if (this.#mode === 'proxy') {
      // A plain proxy, h2 and WebSocket included, that records nothing.
      this.#use((live = proxyModeClients(upstream)));
    } else if (this.#mode === 'replay') {
      this.hermetic = true;
      this.#usePlayback(await Archive.load(args.archive!).catch((error: unknown) => {
        throw new TestError(`cannot play back ${args.archive}: ${(error as Error).message}`, { cause: error });
      }));
    } else {
      const archive = (this.#archive = Archive.create());
      // Each completed exchange is journalled beside the archive: a killed job leaves archive.har.gz.journal.
      await archive.journalTo(this.archiveFile, this.logger);
      // DNS, HTTP(S) with h2 and gRPC where the real server speaks it, and WebSocket, all into the archive.
      this.#use((live = recordModeClients(archive, upstream)));
      this.onCleanup('save the archive', () => this.#save());
    }
    if (live) {
      const { webSocket, http } = live;
      this.onCleanup('close upstream connections', async () => {
        await webSocket.close();
        await http.close();
      });
    }
    await super.initialize(args);
    await this.writeKeyval({ recall_mode: this.#mode, recall_server: this.serverAddress });
  }

  #use(clients: ModeClients): void {
    this.dnsClient = clients.dns;
    this.httpClient = clients.http;
    this.protocols = clients.protocols;
    this.webSocket = clients.webSocket;
  }

  #usePlayback(archive: Archive): void {
    for (const answer of archive.recall.dns) this.nameMap.addAnswer(answer);
    this.#use((this.#playback = playbackModeClients(archive, { scrub: this.#scrub, logger: this.logger })));
  }

  async #save(): Promise<void> {
    if (!this.#archive || this.#saved) return;
    await this.#archive.save(this.archiveFile);
    this.#saved = true;
    this.logger.info({ file: this.archiveFile, exchanges: this.#archive.size }, 'archive saved');
  }

  async runOnce(args: RecallServerTestArgs): Promise<void> {
    if (this.#mode === 'record' && this.iteration > 1 && !this.#playback) {
      // The first iteration recorded; the rest play the recording back.
      await this.#save();
      this.#usePlayback(await Archive.load(this.archiveFile));
      await this.sealForPlayback();
    }
    const playback = this.#playback;
    playback?.reset();
    this.#before = playback
      ? { hits: playback.hits, dnsMisses: playback.dns.missCount, webSocketMismatches: playback.webSocket.mismatches().length, grpcMismatches: playback.grpc.mismatches().length, misses: playback.playback.missMark() }
      : { hits: 0, dnsMisses: 0, webSocketMismatches: 0, grpcMismatches: 0 };
    const tag = this.iterations > 1 ? `iteration${this.iteration}` : undefined;
    try {
      await this.runTestOnHost(args.test, args.host, { ...(args.clientArgs ?? {}), ...(tag ? { tag } : {}) });
    } finally {
      if (this.#mode === 'record' && this.iteration === 1) await this.#save();
      if (this.#playback) await this.#reportMisses(String(args.strict) === '1');
    }
  }

  async #reportMisses(strict: boolean): Promise<void> {
    const { playback, dns, webSocket, grpc } = this.#playback!;
    // One entry per distinct missed request, with its count (bounded: lib/recall/http/miss-log.ts).
    const misses = playback.misses(this.#before.misses);
    const missCount = playback.missCount - (this.#before.misses?.total ?? 0);
    const dnsMisses = dns.missCount - this.#before.dnsMisses;
    const hits = this.#playback!.hits - this.#before.hits;
    // Conversations that went otherwise than recorded: each still replayed, each named in the debug log.
    const webSocketMismatches = webSocket.mismatches().slice(this.#before.webSocketMismatches);
    const grpcMismatches = grpc.mismatches().slice(this.#before.grpcMismatches);
    await this.writeIterationKeyval(
      { recall_mode: 'replay' },
      { recall_hits: hits, recall_misses: missCount, recall_dns_misses: dnsMisses, recall_websocket_mismatches: webSocketMismatches.length, recall_grpc_mismatches: grpcMismatches.length },
    );
    for (const mismatch of webSocketMismatches.slice(0, 20)) this.logger.warn({ mismatch }, mismatchLine(mismatch) ?? 'WebSocket mismatch');
    for (const mismatch of grpcMismatches.slice(0, 20)) this.logger.warn({ mismatch }, grpcMismatchLine(mismatch) ?? 'gRPC mismatch');
    await writeFile(join(this.resultsDir, `misses.${this.iteration}.json`), JSON.stringify(misses, null, 2) + '\n');
    // DNS misses include the browser's background lookups that the recording could not answer either.
    await writeFile(join(this.resultsDir, `dns-misses.${this.iteration}.json`), JSON.stringify(dns.misses, null, 2) + '\n');
    for (const miss of misses.slice(0, 50)) {
      const nearest = miss.nearest ? ` (nearest ${miss.nearest.method} ${miss.nearest.url}: ${miss.nearest.differences.map((d) => d.field).join(', ')} differ)` : '';
      this.logger.warn({ miss }, `MISS ${miss.method} ${miss.url}${nearest}`);
    }
    // strict=1 counts HTTP(S) requests only; DNS misses never fail it, so say they happened.
    if (strict && dnsMisses > 0) this.logger.warn(`strict=1: ${dnsMisses} DNS question(s) were not in the archive; they do not fail the iteration (see dns-misses.${this.iteration}.json)`);
    if (strict && missCount > 0) {
      throw new TestFail(`${missCount} request(s) were not in the archive, first ${misses[0]?.method ?? "?"} ${misses[0]?.url ?? "(not kept)"} (strict=1)`);
    }
  }
}
