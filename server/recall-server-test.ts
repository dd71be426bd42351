/**
 * `RecallServerTest`: the base of server tests that run a client test on a device while Recall answers the
 * device's DNS, HTTP and HTTPS. A subclass sets the clients in `initialize` and then calls the base:
 *
 *   class test_MyTest extends RecallServerTest {
 *     override async initialize(args) {
 *       this.certificateAuthority = await CertificateAuthority.open('/O=Test', { dir: '/var/lib/my-test/ca' });
 *       this.dnsClient = new DNSClient();
 *       this.httpClient = new HTTPClient();
 *       await super.initialize(args);
 *     }
 *     async runOnce({ host }) { await this.runTestOnHost('desktopui_UrlFetch', host); }
 *   }
 *
 * Any of the three left unset means no such server (no CA: no HTTPS). The base refuses to run without root
 * or against this machine, starts the servers on the address that reaches the device, redirects only that
 * device's traffic to them, and undoes everything in cleanup, newest first, even after a failure halfway.
 * A subclass that overrides `cleanup` must call `super.cleanup()`.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { reasonOf, TestError, TestFail } from '../lib/errors.js';
import type { Job } from '../lib/job.js';
import type { CertificateAuthority, DnsResolver, HttpExchanger, ProtocolChoice, WebSocketExchanger } from '../lib/recall/index.js';
import { DNSServer, HTTPServer, HTTPSServer, NameMap } from '../lib/recall/index.js';
import { isPassing } from '../lib/status.js';
import { Test, type TestArgs } from '../lib/test.js';
import { runClientTest } from './client-test-runner.js';
import type { SSHHost } from './hosts/index.js';
import { cleanupLeftovers, DeviceInterception } from './net/device-interception.js';
import { OriginalDestinationLookup } from './net/original-destination.js';
import { routeTo, type RouteToHost } from './net/route-lookup.js';

export interface RecallServerArgs extends TestArgs {
  host: SSHHost;
}

export abstract class RecallServerTest<A extends RecallServerArgs = RecallServerArgs> extends Test<A> {
  /** Signs a certificate per host for HTTPS interception; unset means no HTTPS server. */
  certificateAuthority: CertificateAuthority | undefined;
  /** Answers the device's DNS questions (upstream, archiving or playback); unset means no DNS server. */
  dnsClient: DnsResolver | undefined;
  /** Answers the device's HTTP(S) requests; unset means no HTTP or HTTPS server. */
  httpClient: HttpExchanger | undefined;
  /**
   * Which protocol, h2 or HTTP/1.1, the HTTPS server speaks with the device for each host (`UpstreamProtocolProbe`
   * when recording, `ArchivedProtocols` in playback); unset means HTTP/1.1 for every host.
   */
  protocols: ProtocolChoice | undefined;
  /** Answers the device's WebSocket upgrades (`WebSocketRecorder`, `WebSocketPlayer`); unset means they are refused. */
  webSocket: WebSocketExchanger | undefined;
  /** Names by address, shared by DNS and HTTP(S), so a request to a bare address still names its host. */
  readonly nameMap = new NameMap();
  /** How this machine reaches the device: its address there is the servers' address. */
  route: RouteToHost | undefined;
  /**
   * Playback: reject at the gateway everything of the device's traffic that Recall does not answer (other ports,
   * QUIC, IPv6), so nothing of it leaves this machine. Set before `super.initialize`, or call `sealForPlayback()`
   * later (after a recording iteration). @default false
   */
  hermetic = false;
  #interception: DeviceInterception | undefined;

  #undo: { what: string; run: () => Promise<void> }[] = [];
  /** Client runs in flight: cleanup waits for them, so the device is restored before Recall goes away. */
  readonly #clientRuns = new Set<Promise<unknown>>();

  /** The address the device reaches Recall at. */
  get serverAddress(): string {
    if (!this.route) throw new TestError('Recall is not set up yet: call super.initialize(args) first');
    return this.route.localAddress;
  }

  /** Registers an undo step; cleanup runs them newest first. */
  protected onCleanup(what: string, run: () => Promise<void>): void {
    this.#undo.push({ what, run });
  }

  /**
   * Throws unless this process runs as root (iptables, sysctls and the CA folder need it). A subclass that
   * prepares anything before `super.initialize` (its CA, say) calls this first, so a user sees why.
   */
  protected requireRoot(): void {
    if (process.getuid?.() !== 0) {
      throw new TestError(`${this.name} needs root (Recall redirects the device with iptables and keeps its CA in /var/lib/autotest-recall): run autoserv or run-remote as root, e.g. with sudo`);
    }
  }

  override async initialize(args: A): Promise<void> {
    this.requireRoot();
    if (!args.host) throw new TestError(`${this.name} needs a host: job.runTest('${this.name}', { host })`);
    await cleanupLeftovers(this.logger);
    this.route = await routeTo(args.host.hostname);
    const host = this.route.localAddress;
    const logger = this.logger;
    // The servers call through these, so a subclass may swap its clients between iterations (record, then play back).
    const resolver: DnsResolver = { resolve: (question, options) => this.#dns().resolve(question, options) };
    const current = () => this.httpClient as (HttpExchanger & { archive?: unknown }) | undefined;
    const exchanger: HttpExchanger & { readonly archive?: unknown } = {
      exchange: (request, options) => this.#http().exchange(request, options),
      close: async () => {},
      // Seen through the wrapper, as the servers ask for them: gRPC calls stream message by message only to a client
      // that takes streamed bodies (else a ping-pong call waits forever), and HTTPSServer makes the playback
      // archive's certificates before listening.
      get streamsRequestBodies() {
        return current()?.streamsRequestBodies === true;
      },
      get archive() {
        return current()?.archive;
      },
    };
    const protocols: ProtocolChoice = {
      prepare: (name) => this.protocols?.prepare(name) ?? Promise.resolve(),
      chosen: (name) => this.protocols?.chosen(name) ?? 'http/1.1',
    };
    const webSocket: WebSocketExchanger = {
      open: async (request, handshake) => {
        if (this.webSocket) return this.webSocket.open(request, handshake);
        handshake.refuse(501, 'Not Implemented', [], Buffer.from(`${this.name} answers no WebSocket: set webSocket in initialize\n`));
      },
      close: async () => this.webSocket?.close(),
    };

    // Under REDIRECT a socket's local address is ours: conntrack still knows where the device was going.
    const destinations = new OriginalDestinationLookup(logger);
    const originalDestination = async (socket: Socket) => (await destinations.lookup(socket))?.address;

    // Only the device under test may use its interceptors: another host on the device network is refused.
    const allowedClients = [this.route.address];
    const ports: { dns?: number; http?: number; https?: number } = {};
    if (this.dnsClient) {
      const dns = await DNSServer.start({ resolver, host, port: 0, nameMap: this.nameMap, allowedClients, logger });
      this.onCleanup('stop the DNS server', () => dns.close());
      ports.dns = dns.port;
    }
    if (this.httpClient) {
      const http = new HTTPServer({ exchanger, webSocket, host, port: 0, nameMap: this.nameMap, originalDestination, allowedClients, caCertificatePem: this.certificateAuthority?.rootCertificatePem, logger });
      this.onCleanup('stop the HTTP server', () => http.close());
      ports.http = (await http.listen()).port;
      if (this.certificateAuthority) {
        const https = new HTTPSServer({ exchanger, webSocket, protocols, host, port: 0, nameMap: this.nameMap, originalDestination, allowedClients, certificates: this.certificateAuthority, logger });
        this.onCleanup('stop the HTTPS server', () => https.close());
        ports.https = (await https.listen()).port;
      }
    }
    const interception = (this.#interception = await DeviceInterception.install(this.route, ports, logger));
    this.onCleanup(`remove the iptables rules for ${this.route.address}`, () => interception.remove(logger));
    if (this.hermetic) await interception.seal(logger);
    logger.info({ server: host, device: this.route.address, ports }, `Recall serves ${args.host.hostname} from ${host}`);
  }

  /** From now on, nothing of the device's traffic leaves this machine (see `hermetic`). Idempotent. */
  async sealForPlayback(): Promise<void> {
    this.hermetic = true;
    await this.#interception?.seal(this.logger);
  }

  /** SHA-256 of the root certificate's DER, lower-case hex. */
  #rootSha256(): string {
    if (!this.certificateAuthority) {
      throw new TestError(`${this.name} has no certificateAuthority: the device needs a Recall root to trust; set one in initialize before super.initialize`);
    }
    return new X509Certificate(this.certificateAuthority.rootCertificatePem).fingerprint256.replace(/:/g, '').toLowerCase();
  }

  #dns(): DnsResolver {
    if (!this.dnsClient) throw new TestError('dnsClient was unset after the DNS server started');
    return this.dnsClient;
  }

  #http(): HttpExchanger {
    if (!this.httpClient) throw new TestError('httpClient was unset after the HTTP server started');
    return this.httpClient;
  }

  /**
   * Runs a client test on the host inside `RecallContext` (the device trusts our root CA and, if needed,
   * uses us as DNS server and default route; all restored afterwards). Throws TestFail when it did not pass.
   */
  async runTestOnHost(test: string, host: SSHHost, args: Record<string, unknown> = {}): Promise<void> {
    // The root's fingerprint rides in the control file, over SSH: the device refuses any other CA it is served.
    const recall = JSON.stringify({ server: this.serverAddress, caSha256: this.#rootSha256() });
    const running = runClientTest(this.job as Job, test, host, args, {
      resultsDir: this.outputDir,
      subdirPrefix: this.name,
      signal: this.signal,
      wrap: (call) => `await autotest.withRecall(${recall}, async () => { ${call} });`,
    });
    this.#clientRuns.add(running);
    const result = await running.finally(() => this.#clientRuns.delete(running));
    if (!isPassing(result.status)) {
      throw new TestFail(`client test ${test} on ${host.hostname} ended ${result.status}: see ${this.name}/${typeof args.tag === 'string' ? `${test}.${args.tag}` : test}`);
    }
  }

  /** Undoes everything initialize did, newest first; every step runs even when one fails. */
  override async cleanup(_args?: A): Promise<void> {
    const failures: string[] = [];
    // A stopped test may still have its client job winding down on the device (it was just told to stop).
    await Promise.allSettled([...this.#clientRuns]);
    while (this.#undo.length > 0) {
      const step = this.#undo.pop()!;
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.what}: ${reasonOf(error)}`);
        this.logger.error({ err: error }, `cleanup could not ${step.what}`);
      }
    }
    if (failures.length > 0) throw new TestError(`Recall cleanup failed: ${failures.join('; ')}`);
  }
}
