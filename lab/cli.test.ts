import assert from 'node:assert/strict';
import { test } from 'node:test';
import { help, parseArgs } from './cli.ts';
import { silentRuleset } from './fabric.ts';
import { selectedSandbox } from './layout.ts';
import { findDevice, loadTopology } from './topology.ts';

test('global --sandbox is accepted before or after the command; -- ends the options', () => {
  assert.deepEqual(parseArgs(['--sandbox', 'a1', 'exec', 'leaf10', '--', 'vtysh', '-c', 'show bgp summary']), {
    sandbox: 'a1', command: 'exec', args: ['leaf10'], rest: ['vtysh', '-c', 'show bgp summary'],
  });
  assert.deepEqual(parseArgs(['fail', 'leaf10', '--mode', 'link', '--sandbox=b']), { sandbox: 'b', command: 'fail', args: ['leaf10', '--mode', 'link'], rest: [] });
  assert.equal(parseArgs(['--help']).command, 'help');
});

test('the sandbox is --sandbox, else $LAB_SANDBOX, else default; names are checked', () => {
  assert.equal(selectedSandbox('x', { LAB_SANDBOX: 'y' }), 'x');
  assert.equal(selectedSandbox(undefined, { LAB_SANDBOX: 'y' }), 'y');
  assert.equal(selectedSandbox(undefined, {}), 'default');
  assert.throws(() => selectedSandbox('../etc', {}), /Invalid sandbox name "\.\.\/etc"/);
});

test('help lists every command and the devices', () => {
  const HELP = help(['spine1', 'leaf10']);
  assert.match(HELP, /^Devices: spine1 leaf10 \(lab\/topology\.yaml\)\.$/m);
  for (const command of ['up', 'status', 'ssh', 'shell', 'host', 'exec', 'fail', 'restore', 'wait', 'down', 'list']) {
    assert.match(HELP, new RegExp(`^  ${command}\\b`, 'm'), command);
  }
});

test('a silent device drops on ingress of every interface and sends nothing', () => {
  const leaf10 = findDevice(loadTopology(), 'leaf10');
  const rules = silentRuleset(leaf10, ['swp1', 'VLAN10']);
  assert.match(rules, /hook ingress device "swp1" priority -500; policy drop;/);
  assert.match(rules, /hook ingress device "VLAN10" priority -500; policy drop;/);
  assert.match(rules, /table inet lab_silent \{\n.*input.*policy drop;.*\n.*forward.*policy drop;.*\n.*output.*policy drop;/);
  assert.match(rules, /table arp lab_silent/);
});
