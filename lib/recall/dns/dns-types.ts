/**
 * Shapes shared between the DNS half of Recall and the archive. Created by the HTTP half so the archive can
 * store DNS answers; the DNS half owns this file and may widen `type`.
 * Data and interfaces only, no runtime code, so any side (and the device bundle) can import it.
 */

/** Record types Recall records and answers. The server answers A, AAAA and PTR; the rest get NODATA. */
export type DnsRecordType = 'A' | 'AAAA' | 'PTR' | 'CNAME' | 'NS' | 'MX' | 'TXT' | 'SRV' | 'SOA';

/** One recorded DNS answer: every record of one RRset, as it was answered during recording. */
export interface RecordedDnsAnswer {
  /** Owner name, lower case, without the trailing dot (`www.example.com`). */
  name: string;
  type: DnsRecordType;
  /** Time to live in seconds, as the upstream answered it (the lowest TTL along a CNAME chain). */
  ttl: number;
  /**
   * Record data in presentation form (`192.0.2.1`, `host.example`); empty for NXDOMAIN/NODATA. A CNAME chain is
   * flattened: an A answer for `www.example.com` holds the final addresses, owned by the name that was asked.
   */
  data: string[];
  /**
   * `NXDOMAIN` when the name does not exist (then `data` is empty). Absent means NOERROR, so an empty `data`
   * without `rcode` is NODATA: the name exists but has no record of this type.
   */
  rcode?: 'NXDOMAIN';
}

/** One question as the resolvers see it. `name` may have any case and a trailing dot; resolvers normalise it. */
export interface DnsQuestion {
  name: string;
  type: DnsRecordType;
}

/**
 * What answers a question: the live `DNSClient`, and the `ArchivingDNSClient` / `PlaybackDNSClient` wrappers.
 * `DNSServer` takes any of them. An upstream failure rejects with a `RecallError` (`ERR_DNS_UPSTREAM_*`),
 * which the server answers as SERVFAIL; NXDOMAIN and NODATA are answers, not errors.
 */
export interface DnsResolver {
  /**
   * Answers one question; the answer's `name` is the normalised question name (lower case, no trailing dot).
   * A resolver that knows the answer at once (playback, a repeated question while recording) returns it directly,
   * so the server answers within the same turn of the event loop.
   */
  resolve(question: DnsQuestion, options?: { signal?: AbortSignal }): RecordedDnsAnswer | Promise<RecordedDnsAnswer>;
  /**
   * True when the answer just given to `question` will be given again, unchanged, every time it is asked, and
   * giving it without asking loses nothing (no count, no log line): the server may then answer the same query from
   * its own copy of the reply. Absent or false: every query is asked.
   */
  answersAgain?(question: DnsQuestion): boolean;
}
