// What a sandbox sees of the host's file system: bubblewrap's arguments for a private root made
// from an allow-list. Everything not named here does not exist inside: no /root, no /home, no
// /etc/shadow, no runner state, no other checkout, no other sandbox.
//
//   read-only  /usr (and the merged /bin, /lib, /lib64, /sbin), the /etc files below, the lab's own
//              code and the Node.js that runs it (bound from file descriptors the launcher opened,
//              so the sandbox's uid needs no way through the directories above them)
//   private    /tmp, /run, /var/tmp, /var/log, /var/lib, /etc/frr, /etc/bird (tmpfs); the
//              learner's homes live in /run/lab/devices/*/home
//   fresh      /proc of the sandbox's PID namespace, a minimal /dev, and (from keeper.sh) a /sys
//              of its own network namespace
//
// The read-only binds are a convenience, not the boundary: sandbox root is a host uid that owns
// none of these files (lab/sandbox-identity.ts), so even a bind it remounts read-write is not
// writable to it.

import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** /etc files a lab needs: users (frr), the dynamic linker, shells, readline, iproute2, names. */
export const ETC_ALLOW_LIST = [
  'passwd',
  'group',
  'hosts',
  'host.conf',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'bash.bashrc',
  'profile',
  'inputrc',
  'localtime',
  'timezone',
  'protocols',
  'services',
  'ethertypes',
  'iproute2',
  'terminfo',
  'os-release',
  'debian_version',
  'login.defs',
  'pam.conf',
  'pam.d', // vtysh asks PAM whether its user may use it
  'security',
] as const;

/** The checkout's parts the lab runs: its code, the packages it imports, and the Node it may use. */
export const CHECKOUT_ALLOW_LIST = ['package.json', 'lab', 'node_modules', '.cache/node', 'scripts/with-node.sh', 'runner/shell-integration.bash'] as const;

/** Top-level names that merged-/usr systems make symlinks into /usr, and older ones directories. */
const USR_MERGED = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

/**
 * Private tmpfs mounts and their modes, in the order bwrap makes them (before anything is bound
 * below them); keeper.sh sets their sizes.
 */
export const PRIVATE_DIRS = [
  ['/tmp', '1777'],
  ['/var/tmp', '1777'],
  ['/run', '0755'],
  ['/var/log', '0755'],
  ['/var/lib', '0755'],
  ['/etc/frr', '0755'],
  ['/etc/bird', '0755'],
] as const;

/** A host path the launcher opens and hands to bwrap as a file descriptor, and where it appears. */
export type FdBind = { source: string; dest: string };

export type SandboxView = {
  /** bwrap arguments, with `{fd:N}` placeholders for the FdBinds (numbered from 0). */
  args: string[];
  binds: FdBind[];
};

function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

/**
 * The view for a checkout at `repo`, run by the Node at `nodePath`. A Node outside /usr and the
 * checkout (nvm, a tarball) is bound too, its whole installation (bin/node and lib/).
 */
export function sandboxView(repo: string, nodePath: string): SandboxView {
  const args: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const name of USR_MERGED) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else args.push('--ro-bind', path, path);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const [dir, mode] of PRIVATE_DIRS) args.push('--perms', mode, '--tmpfs', dir);
  args.push('--symlink', '../run', '/var/run', '--symlink', '../run/lock', '/var/lock');
  for (const name of ETC_ALLOW_LIST) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  // Only for the keeper's first sysfs mount, which the kernel allows only where a sysfs is already
  // fully visible; keeper.sh then replaces it with one of the sandbox's own and unmounts this one.
  args.push('--ro-bind', '/sys', '/sys');

  const binds: FdBind[] = [];
  for (const part of CHECKOUT_ALLOW_LIST) {
    const source = join(repo, part);
    if (existsSync(source)) binds.push({ source, dest: source });
  }
  const nodePrefix = dirname(dirname(nodePath));
  if (!isUnder(nodePath, '/usr') && !isUnder(nodePath, repo)) binds.push({ source: nodePrefix, dest: nodePrefix });
  binds.forEach((bind, index) => args.push('--ro-bind-fd', `{fd:${index}}`, bind.dest));
  return { args, binds };
}
