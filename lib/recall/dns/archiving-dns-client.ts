/**
 * `ArchivingDNSClient`: the record half of Recall's DNS. Wraps a live resolver (normally `DNSClient`) and writes
 * every answer it gives into a `RecordedDnsAnswer[]` sink, which the archive stores in `log._recall.dns`.
 *
 * One answer per question for the whole recording: the first answer for (name, type) is recorded and every later
 * identical question gets that same answer, so what the device saw and what playback will serve cannot drift
 * apart (the original behaved the same way). Concurrent first questions share one upstream lookup. Upstream
 * failures are not recorded, so a later question can still succeed.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import type { DnsQuestion, DnsResolver, RecordedDnsAnswer } from './dns-types.js';
import { normalizeDnsName } from './name-map.js';
import { raceAbort } from '../../abort.js';

export interface ArchivingDNSClientOptions {
  /** Where answers are appended, one per distinct question, in the order first answered. @default a new array */
  readonly sink?: RecordedDnsAnswer[];
  /** Called with each new answer, awaited before the answer is given (the recording's journal). */
  readonly onAnswer?: (answer: RecordedDnsAnswer) => Promise<void> | void;
  readonly logger?: Logger;
}

export class ArchivingDNSClient implements DnsResolver {
  /** The recorded answers (the sink given in the options, or this client's own array). */
  readonly answers: RecordedDnsAnswer[];
  readonly #inner: DnsResolver;
  readonly #logger: Logger;
  readonly #onAnswer: ((answer: RecordedDnsAnswer) => Promise<void> | void) | undefined;
  /** Answers recorded so far, by question: later identical questions get them at once. */
  readonly #recorded = new Map<string, RecordedDnsAnswer>();
  /** First lookups still waiting for upstream; failures are not kept, so a later question can still succeed. */
  readonly #pending = new Map<string, Promise<RecordedDnsAnswer>>();

  constructor(inner: DnsResolver, options: ArchivingDNSClientOptions = {}) {
    this.#inner = inner;
    this.answers = options.sink ?? [];
    this.#onAnswer = options.onAnswer;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'dns-record' });
  }

  resolve(
    question: DnsQuestion,
    options: { signal?: AbortSignal } = {},
  ): RecordedDnsAnswer | Promise<RecordedDnsAnswer> {
    const name = normalizeDnsName(question.name);
    const key = `${name} ${question.type}`;
    const recorded = this.#recorded.get(key);
    if (recorded) {
      this.#logger.debug({ name, type: question.type }, 'HIT');
      return copy(recorded);
    }
    let pending = this.#pending.get(key);
    if (!pending) {
      // The shared lookup ignores the first caller's signal: another caller may still want the answer.
      pending = Promise.resolve(this.#inner.resolve({ name, type: question.type }))
        .then(async (answer) => {
          const recorded = { ...answer, name, data: [...answer.data] };
          this.answers.push(recorded);
          this.#recorded.set(key, recorded);
          this.#logger.info(
            { name, type: question.type, data: recorded.data, rcode: recorded.rcode ?? 'NOERROR' },
            'MISS, recorded',
          );
          await this.#onAnswer?.(recorded);
          return recorded;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return (options.signal ? raceAbort(pending, options.signal) : pending).then(copy);
  }
}

function copy(answer: RecordedDnsAnswer): RecordedDnsAnswer {
  return { ...answer, data: [...answer.data] };
}
