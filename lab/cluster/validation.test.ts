import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BGPConfiguration, BGPPeer, CalicoNodeSpec, IPPool, decode, parseASNumber } from './resources.ts';
import {
  formatCalicoValidation,
  formatKubectlInvalid,
  validateBGPConfiguration,
  validateBGPPeer,
  validateCalicoNodeSpec,
  validateIPPool,
} from './validation.ts';

const walkthroughPeer = {
  apiVersion: 'projectcalico.org/v3',
  kind: 'BGPPeer',
  metadata: { name: 'rack1-tor1' },
  spec: {
    peerIP: '10.50.1.1',
    asNumber: 65101,
    nodeSelector: "rack == 'rack1'",
    sourceAddress: 'None',
    failureDetectionMode: 'BFDIfDirectlyConnected',
    restartMode: 'LongLivedGracefulRestart',
    birdGatewayMode: 'DirectIfDirectlyConnected',
  },
};

function peerErrors(spec: Record<string, unknown>, name = 'p'): string {
  const decoded = decode(BGPPeer, { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name }, spec });
  assert.ok(decoded.ok, 'decodes');
  return formatCalicoValidation(validateBGPPeer(decoded.value));
}

describe('BGPPeer validation: every rule with its message', () => {
  it('accepts the walkthrough peers, Enterprise fields included', () => {
    const decoded = decode(BGPPeer, walkthroughPeer);
    assert.ok(decoded.ok);
    assert.deepEqual(validateBGPPeer(decoded.value), []);
  });

  const tag = (field: string, value: string, t: string) =>
    `error with field ${field} = '${value}' (Reason: failed to validate Field: ${field} because of Tag: ${t} )`;

  const table: Array<[string, Record<string, unknown>, string | null]> = [
    ['peerIP: IPv4', { peerIP: '10.50.1.1' }, null],
    ['peerIP: IPv4:port', { peerIP: '10.50.1.1:1790' }, null],
    ['peerIP: IPv6', { peerIP: 'fd00::1' }, null],
    ['peerIP: [IPv6]:port', { peerIP: '[fd00::1]:1790' }, null],
    ['peerIP: garbage', { peerIP: 'x' }, tag('PeerIP', 'x', 'IP:port')],
    ['peerIP: bad port', { peerIP: '10.50.1.1:99999' }, tag('PeerIP', '10.50.1.1:99999', 'IP:port')],
    ['peerIP: IPv6 without brackets and port', { peerIP: 'fd00::1:179:x' }, tag('PeerIP', 'fd00::1:179:x', 'IP:port')],
    ['node: name', { node: 'Bad_Node' }, tag('Node', 'Bad_Node', 'name')],
    ['nodeSelector: selector', { nodeSelector: "rack = 'rack1'" }, tag('NodeSelector', "rack = 'rack1'", 'selector')],
    ['peerSelector: selector', { peerSelector: 'has(' }, tag('PeerSelector', 'has(', 'selector')],
    ['sourceAddress', { sourceAddress: 'Loopback' }, tag('SourceAddress', 'Loopback', 'sourceAddress')],
    ['sourceAddress UseNodeIP', { sourceAddress: 'UseNodeIP' }, null],
    ['nextHopMode', { nextHopMode: 'Never' }, tag('NextHopMode', 'Never', 'oneof')],
    ['failureDetectionMode', { failureDetectionMode: 'BFD' }, tag('FailureDetectionMode', 'BFD', 'oneof')],
    ['restartMode', { restartMode: 'LLGR' }, tag('RestartMode', 'LLGR', 'oneof')],
    ['birdGatewayMode', { birdGatewayMode: 'Direct' }, tag('BIRDGatewayMode', 'Direct', 'oneof')],
    ['ttlSecurity range', { ttlSecurity: 256 }, tag('TTLSecurity', '256', 'max')],
    ['reachableBy', { reachableBy: 'gateway' }, tag('ReachableBy', 'gateway', 'reachableBy')],
    ['node with nodeSelector', { node: 'k8s-master', nodeSelector: 'all()' },
      "error with field Node = 'k8s-master' (Node field must be empty when NodeSelector is specified)"],
    ['peerIP with peerSelector', { peerIP: '10.50.1.1', peerSelector: 'all()' },
      "error with field PeerIP = '10.50.1.1' (PeerIP field must be empty when PeerSelector is specified)"],
    ['asNumber with peerSelector', { asNumber: 65101, peerSelector: 'all()' },
      "error with field ASNumber = '65101' (ASNumber field must be empty when PeerSelector is specified)"],
  ];
  for (const [rule, spec, message] of table) {
    it(rule, () => {
      if (message === null) assert.equal(peerErrors(spec), 'unknown validation error');
      else assert.equal(peerErrors(spec), message);
    });
  }

  it('several failures use the multi-field form', () => {
    assert.equal(
      peerErrors({ peerIP: 'x', node: 'n', nodeSelector: 'all()' }),
      'error with the following fields:\n' +
        "-  PeerIP = 'x' (Reason: failed to validate Field: PeerIP because of Tag: IP:port )\n" +
        "-  Node = 'n' (Node field must be empty when NodeSelector is specified)\n",
    );
  });

  it('names must be DNS subdomains', () => {
    assert.equal(
      peerErrors({}, 'Rack1_TOR'),
      "error with field Metadata.Name = 'Rack1_TOR' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))",
    );
  });

  it('kubectl prints the same failure as an Invalid status', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, peerIP: '10.50.1.1:x' } });
    assert.ok(decoded.ok);
    assert.equal(
      formatKubectlInvalid('BGPPeer', 'rack1-tor1', validateBGPPeer(decoded.value)),
      'The BGPPeer "rack1-tor1" is invalid: \n' +
        '* PeerIP: Invalid value: "10.50.1.1:x": Reason: failed to validate Field: PeerIP because of Tag: IP:port ',
    );
  });
});

describe('AS numbers', () => {
  const table: Array<[unknown, number | undefined]> = [
    [65101, 65101],
    ['65101', 65101],
    ['1.10', 65546],
    ['0.65535', 65535],
    [4294967295, 4294967295],
    [4294967296, undefined],
    ['65536.1', undefined],
    ['1.2.3', undefined],
    ['x', undefined],
    [-1, undefined],
    [1.5, undefined],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(parseASNumber(input), expected));
  }

  it('a bad AS number fails decoding with Calico\'s message', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, asNumber: 'x' } });
    assert.equal(decoded.ok, false);
    assert.ok(!decoded.ok);
    assert.equal(decoded.errors[0]!.message, 'invalid AS Number format (x)');
    assert.equal(decoded.errors[0]!.code, 'as-number');
  });

  it('a string AS number is stored as a number', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, asNumber: '65101' } });
    assert.ok(decoded.ok);
    assert.equal(decoded.value.spec.asNumber, 65101);
  });
});

describe('decoding is strict', () => {
  it('an unknown field is named', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, peerIPs: 'x' } });
    assert.ok(!decoded.ok);
    assert.equal(decoded.errors[0]!.message, 'json: unknown field "peerIPs"');
    assert.deepEqual(decoded.errors[0]!.path, ['spec', 'peerIPs']);
  });
  it('a wrong type is named', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, keepOriginalNextHop: 'yes' } });
    assert.ok(!decoded.ok);
    assert.equal(decoded.errors[0]!.message, 'json: cannot unmarshal string into Go struct field spec.keepOriginalNextHop of type bool');
  });
  it('a bad duration is named', () => {
    const decoded = decode(BGPPeer, { ...walkthroughPeer, spec: { ...walkthroughPeer.spec, maxRestartTime: '10 seconds' } });
    assert.ok(!decoded.ok);
    assert.equal(decoded.errors[0]!.message, 'time: invalid duration "10 seconds"');
  });
});

function configErrors(name: string, spec: Record<string, unknown>): string {
  const decoded = decode(BGPConfiguration, { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name }, spec });
  assert.ok(decoded.ok);
  return formatCalicoValidation(validateBGPConfiguration(decoded.value));
}

describe('BGPConfiguration validation', () => {
  it('accepts the walkthrough configuration', () => {
    assert.equal(configErrors('default', { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: false }), 'unknown validation error');
  });
  const table: Array<[string, string, Record<string, unknown>, string]> = [
    ['log level', 'default', { logSeverityScreen: 'Verbose' },
      "error with field LogSeverityScreen = 'Verbose' (Reason: failed to validate Field: LogSeverityScreen because of Tag: logLevel )"],
    ['name', 'rack1', {}, "error with field Metadata.Name = 'rack1' (Name should have prefix 'node.' or be 'default')"],
    ['mesh only on default', 'node.k8s-master', { nodeToNodeMeshEnabled: true },
      "error with field BGPConfigurationSpec.NodeToNodeMeshEnabled = 'true' (Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.)"],
    ['AS only on default', 'node.k8s-master', { asNumber: 65101 },
      "error with field BGPConfigurationSpec.ASNumber = '65101' (Cannot set ASNumber on a non default BGP Configuration.)"],
    ['service CIDRs', 'default', { serviceClusterIPs: [{ cidr: '10.96.0.1/12' }] },
      "error with field ServiceClusterIPs.CIDR = '10.96.0.1/12' (Reason: failed to validate Field: CIDR because of Tag: net )"],
    ['bind mode', 'default', { bindMode: 'All' }, "error with field BindMode = 'All' (Reason: failed to validate Field: BindMode because of Tag: oneof )"],
    ['listen port', 'default', { listenPort: 0 }, "error with field ListenPort = '0' (Reason: failed to validate Field: ListenPort because of Tag: gt )"],
  ];
  for (const [rule, name, spec, message] of table) it(rule, () => assert.equal(configErrors(name, spec), message));
});

function poolErrors(spec: Record<string, unknown>): string {
  const decoded = decode(IPPool, { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec });
  assert.ok(decoded.ok);
  return formatCalicoValidation(validateIPPool(decoded.value));
}

describe('IPPool validation', () => {
  it('accepts the default pool and the disabled loopback pools', () => {
    assert.equal(poolErrors({ cidr: '10.10.0.0/16', natOutgoing: false, ipipMode: 'Never' }), 'unknown validation error');
    assert.equal(poolErrors({ cidr: '192.168.200.1/32', nodeSelector: "rack == 'rack1'", disabled: true }), 'unknown validation error');
  });
  const table: Array<[string, Record<string, unknown>, string]> = [
    ['an enabled pool smaller than a block', { cidr: '192.168.200.1/32' },
      "error with field IPpool.CIDR = '192.168.200.1/32' (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)"],
    ['not strictly masked', { cidr: '10.10.0.1/16' }, 'error with the following fields:\n' +
      "-  CIDR = '10.10.0.1/16' (Reason: failed to validate Field: CIDR because of Tag: net )\n" +
      "-  IPpool.CIDR = '10.10.0.1/16' (IP pool CIDR is not strictly masked)\n"],
    ['not a CIDR', { cidr: 'ten' }, 'error with the following fields:\n' +
      "-  CIDR = 'ten' (Reason: failed to validate Field: CIDR because of Tag: net )\n" +
      "-  IPpool.CIDR = 'ten' (IPPool CIDR must be a valid subnet)\n"],
    ['link local', { cidr: '169.254.0.0/24' },
      "error with field IPpool.CIDR = '169.254.0.0/24' (IP pool range overlaps with IPv4 Link Local range 169.254.0.0/16)"],
    ['block size', { cidr: '10.10.0.0/16', blockSize: 33 }, "error with field IPPool.Spec.BlockSize = '33' (IPv4 block size must be between 20 and 32)"],
    ['ipip mode', { cidr: '10.10.0.0/16', ipipMode: 'Sometimes' },
      "error with field IPIPMode = 'Sometimes' (Reason: failed to validate Field: IPIPMode because of Tag: ipIpMode )"],
    ['both encapsulations', { cidr: '10.10.0.0/16', ipipMode: 'Always', vxlanMode: 'Always' },
      "error with field IPpool.IPIPMode = 'Always' (IPIPMode and VXLANMode cannot both be enabled on the same IP pool)"],
    ['node selector', { cidr: '10.10.0.0/16', nodeSelector: 'rack in rack1' },
      "error with field NodeSelector = 'rack in rack1' (Reason: failed to validate Field: NodeSelector because of Tag: selector )"],
  ];
  for (const [rule, spec, message] of table) it(rule, () => assert.equal(poolErrors(spec), message));
});

describe('Calico Node spec validation', () => {
  const nodeErrors = (bgp: Record<string, unknown>) => {
    const decoded = CalicoNodeSpec.safeParse({ bgp });
    assert.ok(decoded.success);
    return formatCalicoValidation(validateCalicoNodeSpec(decoded.data));
  };
  it('accepts the walkthrough patch', () => assert.equal(nodeErrors({ asNumber: '65101', ipv4Address: '192.168.200.1/32' }), 'unknown validation error'));
  it('ipv4Address', () =>
    assert.equal(nodeErrors({ ipv4Address: '192.168.200.300/32' }),
      "error with field IPv4Address = '192.168.200.300/32' (Reason: failed to validate Field: IPv4Address because of Tag: cidrv4 )"));
  it('an empty bgp section', () => assert.equal(nodeErrors({}), "error with field BGP = '{}' (Spec.BGP should not be empty)"));
});
