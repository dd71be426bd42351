// Builds archives that try to write outside their install folder, with the real tar.
import { execa } from 'execa';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Hostile = 'absolute' | 'dotdot' | 'symlink-out' | 'link-through-link';

/** Writes `<dir>/<fileName>` holding a hostile archive; `outside` is the path it tries to reach. */
export async function hostileTarball(
  kind: Hostile,
  work: string,
  dir: string,
  fileName: string,
  outside: string,
): Promise<string> {
  const src = join(work, `hostile-${kind}`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'ok.txt'), 'fine\n');
  const path = join(dir, fileName);
  await mkdir(dir, { recursive: true });
  switch (kind) {
    case 'absolute':
      await writeFile(join(src, 'pwned.txt'), 'pwned\n');
      await execa('tar', [
        '-cjPf',
        path,
        '-C',
        src,
        `--transform=s,^pwned.txt$,${join(outside, 'pwned.txt')},`,
        'ok.txt',
        'pwned.txt',
      ]);
      break;
    case 'dotdot':
      await mkdir(join(src, 'sub'), { recursive: true });
      await execa('tar', ['-cjPf', path, '-C', join(src, 'sub'), '../ok.txt']);
      break;
    case 'symlink-out':
      await symlink('../../../../../../../../..' + outside, join(src, 'escape'));
      await execa('tar', ['-cjf', path, '-C', src, 'ok.txt', 'escape']);
      break;
    case 'link-through-link':
      // `l -> .` then `l/y -> ..`: read as text, l/y/.. stays inside; through the link, y sits at the root and
      // its `..` climbs out, so a later `y/...` entry would write outside.
      await symlink('.', join(src, 'l'));
      await symlink('..', join(src, 'y'));
      await execa('tar', ['-cjf', path, '-C', src, '--transform=s,^y$,l/y,', 'ok.txt', 'l', 'y']);
      break;
  }
  return path;
}
