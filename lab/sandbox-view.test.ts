import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPO_ROOT as REPO } from './sandbox.ts';
import { sandboxView } from './sandbox-view.ts';

/** Where each bind of bwrap's arguments appears inside. */
function bound(args: string[]): string[] {
  return args.flatMap((arg, i) => (['--ro-bind', '--ro-bind-try', '--ro-bind-fd'].includes(arg) ? [args[i + 2]!] : []));
}

test('the sandbox sees /usr, chosen /etc files and the lab, and nothing else of the host', () => {
  const view = sandboxView(REPO, '/usr/bin/node');
  const dests = bound(view.args);
  assert.ok(dests.includes('/usr'));
  assert.ok(dests.includes('/etc/passwd'));
  for (const secret of ['/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/root', '/home', '/var/lib', `${REPO}/.state`, REPO]) {
    assert.ok(!dests.includes(secret), `${secret} is not bound`);
  }
  const fromCheckout = view.binds.map((b) => b.dest.slice(REPO.length + 1));
  assert.ok(fromCheckout.includes('lab') && fromCheckout.includes('node_modules'), fromCheckout.join(' '));
  assert.deepEqual(
    fromCheckout.filter((part) => !['package.json', 'lab', 'node_modules', '.cache/node', 'scripts/with-node.sh', 'runner/shell-integration.bash'].includes(part)),
    [],
    'only the parts of the checkout that the lab runs',
  );
  assert.ok(view.binds.every((b, i) => view.args.includes(`{fd:${i}}`)), 'each checkout part is bound from a descriptor');
});

test('private places are fresh tmpfs, /tmp sticky', () => {
  const { args } = sandboxView(REPO, '/usr/bin/node');
  const tmpfs = args.flatMap((arg, i) => (arg === '--tmpfs' ? [`${args[i - 1]} ${args[i + 1]}`] : []));
  assert.deepEqual(tmpfs, ['1777 /tmp', '1777 /var/tmp', '0755 /run', '0755 /var/log', '0755 /var/lib', '0755 /etc/frr', '0755 /etc/bird']);
  assert.ok(args.includes('--proc') && args.includes('--dev'));
});

test('a Node outside /usr and the checkout is bound, its whole installation', () => {
  const view = sandboxView(REPO, '/opt/node-v24/bin/node');
  assert.ok(view.binds.some((b) => b.source === '/opt/node-v24' && b.dest === '/opt/node-v24'));
  assert.ok(!sandboxView(REPO, `${REPO}/.cache/node/node_modules/node/bin/node`).binds.some((b) => b.dest === `${REPO}/.cache/node/node_modules/node`));
});
