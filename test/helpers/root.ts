// Lab tests need root (network namespaces, iptables inside them). CI runs as root, so there they always run;
// on a developer's unprivileged machine they are skipped with a message that says why.
export const isRoot = process.getuid?.() === 0;

export function describeIfRoot(): { skip: boolean; reason: string } {
  return { skip: !isRoot, reason: 'needs root for network namespaces: run the suite as root (CI does)' };
}
