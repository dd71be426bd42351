// A real SSH server (ssh2's) on loopback whose SFTP subsystem lies the way a compromised device would: its
// folder listing holds whatever names the test sets. A stand-in on purpose: OpenSSH's sftp-server cannot be made
// to list a name with '/' or '..', because no file system holds one.
import { chmod, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SSHHostOptions } from '../../server/hosts/index.js';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

export interface HostileSftpServer {
  port: number;
  /** Names the server lists in every folder (each a regular file holding `content`). */
  listing: string[];
  readonly content: string;
  /** Options for createHost: the client key and a known_hosts file that accepts this server. */
  hostOptions: SSHHostOptions;
  close(): Promise<void>;
}

const DIR_MODE = 0o040755;
const FILE_MODE = 0o100644;
const attrs = (mode: number, size: number) => ({ mode, uid: 0, gid: 0, size, atime: 0, mtime: 0 });

export async function startHostileSftpServer(workDir: string): Promise<HostileSftpServer> {
  const hostKey = utils.generateKeyPairSync('ed25519');
  const clientKey = utils.generateKeyPairSync('ed25519');
  const keyFile = join(workDir, 'client_key');
  await writeFile(keyFile, clientKey.private);
  await chmod(keyFile, 0o600);
  const content = 'planted by the device\n';
  const state: HostileSftpServer = {
    port: 0,
    listing: [],
    content,
    hostOptions: { sshKey: keyFile, knownHostsFile: join(workDir, 'known_hosts'), acceptNewHostKeys: true },
    close: async () => undefined,
  };
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', () => undefined); // the client hanging up mid-transfer is expected here
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const listed = new Set<string>();
          const isFolder = (path: string) => path === '/results' || path === '/results/';
          sftp.on('STAT', (id, path) => sftp.attrs(id, isFolder(path) ? attrs(DIR_MODE, 0) : attrs(FILE_MODE, content.length)));
          sftp.on('LSTAT', (id, path) => sftp.attrs(id, isFolder(path) ? attrs(DIR_MODE, 0) : attrs(FILE_MODE, content.length)));
          sftp.on('FSTAT', (id) => sftp.attrs(id, attrs(FILE_MODE, content.length)));
          sftp.on('OPENDIR', (id, path) => sftp.handle(id, Buffer.from(`d:${path}`)));
          sftp.on('READDIR', (id, handle) => {
            const key = handle.toString();
            if (listed.has(key)) return sftp.status(id, STATUS_CODE.EOF);
            listed.add(key);
            sftp.name(id, state.listing.map((filename) => ({ filename, longname: filename, attrs: attrs(FILE_MODE, content.length) })));
          });
          sftp.on('OPEN', (id, path) => sftp.handle(id, Buffer.from(`f:${path}`)));
          sftp.on('READ', (id, _handle, offset, length) => {
            const bytes = Buffer.from(content).subarray(offset, offset + length);
            if (bytes.length === 0) sftp.status(id, STATUS_CODE.EOF);
            else sftp.data(id, bytes);
          });
          sftp.on('CLOSE', (id) => sftp.status(id, STATUS_CODE.OK));
          sftp.on('REALPATH', (id, path) => sftp.name(id, [{ filename: path, longname: path, attrs: attrs(DIR_MODE, 0) }]));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
