import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { servePackages } from '../../lib/packages/index.js';
import { tempDir } from './package-fixtures.js';

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('servePackages', () => {
  it('serves the repository folder and nothing outside it', async () => {
    const root = await tempDir();
    const repo = join(root, 'repo');
    await import('node:fs/promises').then((fs) => fs.mkdir(repo));
    await writeFile(join(repo, 'packages.checksum'), 'd41d8cd98f00b204e9800998ecf8427e test-a.tar.bz2\n');
    await writeFile(join(root, 'secret.txt'), 'secret\n');
    await symlink(join(root, 'secret.txt'), join(repo, 'leak.txt'));
    await using server = await servePackages({ dir: repo });

    const index = await fetch(`${server.url}/packages.checksum`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('test-a.tar.bz2');
    expect((await rawGet(server.url, '/')).body).toBe('leak.txt\npackages.checksum\n');
    expect((await rawGet(server.url, '/packages.checksum', 'HEAD')).status).toBe(200);
    expect((await rawGet(server.url, '/packages.checksum', 'POST')).status).toBe(405);
    expect((await rawGet(server.url, '/missing.tar.bz2')).status).toBe(404);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/leak.txt', '/a%00b']) {
      const answer = await rawGet(server.url, path);
      expect([400, 403, 404]).toContain(answer.status);
      expect(answer.body).not.toContain('secret');
    }
  });
});
