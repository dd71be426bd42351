/**
 * `PlaybackDNSClient`: the playback half of Recall's DNS. Answers only from recorded answers and opens no socket
 * at all, so playback is hermetic by construction: nothing it does can reach a real DNS server.
 *
 * A question that was never recorded is a miss. It is answered NXDOMAIN when the name was never seen at all, and
 * NODATA when the name was recorded with other types (the name exists, so NXDOMAIN would be a lie that makes
 * clients drop the name's other records). Misses are counted and listed for the test's results.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { DnsQuestion, DnsResolver, RecordedDnsAnswer } from './dns-types.js';
import { normalizeDnsName } from './name-map.js';

export interface PlaybackDNSClientOptions {
  readonly logger?: Logger;
  /** TTL of answers to missed questions, in seconds. @default 60 */
  readonly missTtl?: number;
}

/** One question playback could not answer from the archive, with how many times it was asked. */
export interface DnsMiss {
  name: string;
  type: DnsQuestion['type'];
  count: number;
}

export class PlaybackDNSClient implements DnsResolver {
  readonly #byQuestion = new Map<string, RecordedDnsAnswer>();
  readonly #existingNames = new Set<string>();
  readonly #misses = new Map<string, DnsMiss>();
  readonly #logger: Logger;
  readonly #missTtl: number;

  constructor(answers: readonly RecordedDnsAnswer[], options: PlaybackDNSClientOptions = {}) {
    this.#logger = (options.logger ?? silentLogger).child({ component: 'dns-playback' });
    this.#missTtl = options.missTtl ?? 60;
    for (const answer of answers) {
      const name = normalizeDnsName(answer.name);
      const key = `${name} ${answer.type}`;
      // First recorded answer wins, as during the recording.
      if (!this.#byQuestion.has(key)) this.#byQuestion.set(key, { ...answer, name, data: [...answer.data] });
      if (answer.rcode !== 'NXDOMAIN') this.#existingNames.add(name);
    }
  }

  /**
   * Answers at once from the archive. It takes no signal: there is nothing to stop, and asking the server's deadline
   * for its signal made an AbortController per query (a quarter of the time a query cost under a flood).
   */
  resolve(question: DnsQuestion): RecordedDnsAnswer {
    const name = normalizeDnsName(question.name);
    const key = `${name} ${question.type}`;
    const hit = this.#byQuestion.get(key);
    if (hit) {
      this.#logger.debug({ name, type: question.type }, 'HIT');
      return { ...hit, data: [...hit.data] };
    }
    const miss = this.#misses.get(key) ?? { name, type: question.type, count: 0 };
    miss.count += 1;
    this.#misses.set(key, miss);
    const exists = this.#existingNames.has(name);
    this.#logger.warn(
      { name, type: question.type, answer: exists ? 'NODATA' : 'NXDOMAIN' },
      'MISS: not in the archive',
    );
    return exists
      ? { name, type: question.type, ttl: this.#missTtl, data: [] }
      : { name, type: question.type, ttl: this.#missTtl, data: [], rcode: 'NXDOMAIN' };
  }

  /**
   * True for a question the archive answers, unless HIT lines are logged (debug level): each query must then reach
   * `resolve`. Misses never: each is counted.
   */
  answersAgain(question: DnsQuestion): boolean {
    return this.#byQuestion.has(`${normalizeDnsName(question.name)} ${question.type}`) && !this.#logger.isLevelEnabled('debug');
  }

  /** Total number of questions that were not in the archive. */
  get missCount(): number {
    let total = 0;
    for (const miss of this.#misses.values()) total += miss.count;
    return total;
  }

  /** The distinct questions that were not in the archive, in first-asked order. */
  get misses(): readonly DnsMiss[] {
    return [...this.#misses.values()].map((m) => ({ ...m }));
  }
}
