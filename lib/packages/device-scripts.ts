/**
 * The sh scripts run on a device. They need only POSIX sh, tar, bzip2, md5sum, cat, cp, mkdir, mv and rm (plus curl
 * or wget for HTTP repositories), never Node. Each prints lines tagged with a per-call nonce so that file contents
 * cannot be mistaken for our own markers.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellQuote as q } from './command-runner.js';
import { parseChecksumFile, type ChecksumMap } from './checksum-file.js';
import { CHECKSUM_FILE, INSTALL_MARKER } from './package-name.js';
import { FETCH_NOT_FOUND, type RepositoryIndex } from './repository.js';

export interface ScriptOutput {
  /** Tag → the lines printed under it, in order; the tag line's own words after the tag are in `args`. */
  sections: { tag: string; args: string[]; lines: string[] }[];
}

export function newNonce(): string {
  return `@@pkg${randomBytes(6).toString('hex')}`;
}

/** Splits output into the sections opened by `<nonce> <tag> args...` lines. */
export function parseScriptOutput(stdout: string, nonce: string): ScriptOutput {
  const sections: ScriptOutput['sections'] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${nonce} `)) {
      const [tag = '', ...args] = line.slice(nonce.length + 1).split(' ');
      sections.push({ tag, args, lines: [] });
    } else if (sections.length > 0) {
      sections.at(-1)!.lines.push(line);
    }
  }
  return { sections };
}

/** md5 of a file into $sum, empty when it is missing. */
function md5Into(variable: string, path: string): string {
  return `${variable}=; if [ -f ${path} ]; then set -- $(md5sum < ${path}); ${variable}=$1; fi`;
}

/**
 * The one round trip that decides what to install: the device's packages.checksum, each install folder's marker,
 * and the index of every device repository (fetched by the device).
 */
export function probeScript(
  nonce: string,
  packagesDir: string,
  installDirs: readonly string[],
  indexCommands: readonly string[],
): string {
  const lines = [`echo '${nonce} device'`, `cat ${q(posix.join(packagesDir, CHECKSUM_FILE))} 2>/dev/null`];
  installDirs.forEach((dir, i) => {
    lines.push(`echo '${nonce} marker ${i}'`, `cat ${q(posix.join(dir, INSTALL_MARKER))} 2>/dev/null`);
  });
  indexCommands.forEach((command, i) => {
    lines.push(
      `echo '${nonce} index ${i}'`,
      `(\n${command}\n) 2>/dev/null`,
      `rc=$?; echo; echo "${nonce} status ${i} $rc"`,
    );
  });
  lines.push(`echo '${nonce} end'`);
  return lines.join('\n');
}

/** What the probe found: the device's packages.checksum, each install folder's marker, each device repository's index. */
export interface DeviceProbe {
  device: ChecksumMap;
  markers: (string | undefined)[];
  /** By position in the manager's repository list. */
  indexes: Map<number, RepositoryIndex>;
}

/** Reads `probeScript` output; undefined when it did not run to its end. */
export function parseProbe(
  stdout: string,
  nonce: string,
  markerCount: number,
  positions: readonly number[],
): DeviceProbe | undefined {
  const { sections } = parseScriptOutput(stdout, nonce);
  if (!sections.some((s) => s.tag === 'end')) return undefined;
  const probe: DeviceProbe = {
    device: new Map(),
    markers: new Array<string | undefined>(markerCount).fill(undefined),
    indexes: new Map(),
  };
  const bodies = new Map<number, string>();
  for (const section of sections) {
    const text = section.lines.join('\n');
    const at = Number(section.args[0]);
    if (section.tag === 'device') probe.device = parseChecksumFile(text);
    else if (section.tag === 'marker') probe.markers[at] = text.trim() || undefined;
    else if (section.tag === 'index') bodies.set(at, text);
    else if (section.tag === 'status' && positions[at] !== undefined) {
      const status = Number(section.args[1]);
      probe.indexes.set(
        positions[at],
        status === 0
          ? { state: 'ok', checksums: parseChecksumFile(bodies.get(at) ?? '') }
          : status === FETCH_NOT_FOUND
            ? { state: 'missing' }
            : { state: 'unreachable', reason: `exit status ${status}` },
      );
    }
  }
  return probe;
}

export interface FetchScriptOptions {
  nonce: string;
  packagesDir: string;
  fileName: string;
  /** The repository's command writing the file to its argument. */
  fetchCommand: (destPath: string) => string;
  /** md5 the repository's index lists; a copy with another md5 is deleted and reported corrupt. */
  expectedMd5: string | undefined;
  /** A cached tarball with this md5 is used without fetching. */
  wantedMd5: string | undefined;
  /** Print `tar -tv` of the fetched file for the server's safety check. */
  list: boolean;
}

/** Fetches one package into the device's packages folder. Prints `fetch-failed <status>` or `md5 <sum>` then a listing. */
export function fetchScript(options: FetchScriptOptions): string {
  const { nonce } = options;
  const dest = q(posix.join(options.packagesDir, options.fileName));
  const part = q(posix.join(options.packagesDir, `${options.fileName}.part`));
  const listing = options.list
    ? `echo '${nonce} list'; LC_ALL=C tar -tvjf ${dest} 2>&1 || echo "${nonce} list-failed $?"`
    : `echo '${nonce} unlisted'`;
  const wanted = options.wantedMd5 ?? '';
  const expected = options.expectedMd5 ?? '';
  return [
    `mkdir -p ${q(options.packagesDir)} || exit 1`,
    md5Into('sum', dest),
    `if [ -n '${wanted}' ] && [ "$sum" = '${wanted}' ]; then echo "${nonce} md5 $sum cached"; ${listing}; exit 0; fi`,
    `rm -f ${part}`,
    `(\n${options.fetchCommand(posix.join(options.packagesDir, `${options.fileName}.part`))}\n)`,
    `rc=$?; if [ $rc -ne 0 ]; then rm -f ${part}; echo "${nonce} fetch-failed $rc"; exit 0; fi`,
    md5Into('sum', part),
    `echo "${nonce} md5 $sum"`,
    `if [ -n '${expected}' ] && [ "$sum" != '${expected}' ]; then rm -f ${part}; echo "${nonce} corrupt"; exit 0; fi`,
    `mv -f ${part} ${dest} || exit 1`,
    listing,
  ].join('\n');
}

export interface ExtractScriptOptions {
  nonce: string;
  packagesDir: string;
  fileName: string;
  /** Where the archive is on the device; moved to `<packagesDir>/<fileName>` once its md5 is checked. */
  archivePath: string;
  installDir: string;
  md5: string;
  /** Untar over the existing folder instead of replacing it (the client root holds packages/, tests/...). */
  preserve: boolean;
}

/**
 * Verifies the archive's md5, untars it and records it. Replacing installs untar into `<dir>.partial` and swap it in
 * with `mv`; preserving installs remove the marker first. Either way the marker is written last, so an install
 * interrupted at any point never looks complete. Prints `badsum <md5>` or `installed`.
 */
export function extractScript(o: ExtractScriptOptions): string {
  const finalPath = posix.join(o.packagesDir, o.fileName);
  const archive = q(finalPath);
  const dest = q(o.installDir);
  const partial = q(`${o.installDir}.partial`);
  const old = q(`${o.installDir}.old`);
  const marker = q(posix.join(o.installDir, INSTALL_MARKER));
  const install = o.preserve
    ? [
        `mkdir -p ${dest}`,
        `rm -f ${marker}`,
        `tar --no-same-owner -xjf ${archive} -C ${dest}`,
        `echo '${o.md5}' > ${marker}.tmp`,
        `mv -f ${marker}.tmp ${marker}`,
      ]
    : [
        `mkdir -p ${q(posix.dirname(o.installDir))}`,
        `rm -rf ${partial} ${old}`,
        `mkdir ${partial}`,
        `tar --no-same-owner -xjf ${archive} -C ${partial}`,
        `echo '${o.md5}' > ${q(posix.join(`${o.installDir}.partial`, INSTALL_MARKER))}`,
        `if [ -e ${dest} ] || [ -L ${dest} ]; then mv ${dest} ${old}; fi`,
        `mv ${partial} ${dest}`,
        `rm -rf ${old}`,
      ];
  const index = q(posix.join(o.packagesDir, CHECKSUM_FILE));
  return [
    'set -e',
    `mkdir -p ${q(o.packagesDir)}`,
    md5Into('sum', q(o.archivePath)),
    `if [ "$sum" != '${o.md5}' ]; then rm -f ${q(o.archivePath)}; echo "${o.nonce} badsum $sum"; exit 0; fi`,
    ...(o.archivePath === finalPath ? [] : [`mv -f ${q(o.archivePath)} ${archive}`]),
    ...install,
    // Record the package in the device's own packages.checksum (rewritten, then renamed over the old one).
    `{ if [ -f ${index} ]; then while read -r s n; do [ "$n" = '${o.fileName}' ] || echo "$s $n"; done < ${index}; fi;` +
      ` echo '${o.md5} ${o.fileName}'; } > ${index}.tmp`,
    `mv -f ${index}.tmp ${index}`,
    `echo "${o.nonce} installed"`,
  ].join('\n');
}
