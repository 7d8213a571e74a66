// calico-node and the kubelet of one lab node (LAB_DEVICE), as one service process: the agent that
// renders BIRD's configuration, and the heartbeats that make the node Ready. Also puts kubectl,
// calicoctl (and a `sudo` that marks the caller as root, for `sudo calicoctl node status`) on the
// node's PATH.

import { existsSync, mkdirSync, symlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CalicoNodeAgent } from './calico-node.ts';
import { ApiClient, apiUrlFromEnv } from './client.ts';
import { Kubelet } from './kubelet.ts';
import { REPO_ROOT, birdConfigPath, birdLogPath, birdSocketPath, deviceBinDir } from '../layout.ts';
import { loadTopology, nodes } from '../topology.ts';

const node = process.env.LAB_DEVICE;
if (!node) throw new Error('calico-node runs as a lab service: LAB_DEVICE names its node');
const topology = loadTopology(process.env.LAB_TOPOLOGY || undefined);
const device = nodes(topology).find((n) => n.name === node);
if (!device) throw new Error(`calico-node: ${node} is not a node of the topology; nodes: ${nodes(topology).map((n) => n.name).join(', ')}`);

/** The node's tools: the lab's kubectl and calicoctl, and sudo (the learner is `vagrant`). */
function installTools(): void {
  const bin = deviceBinDir(node!);
  mkdirSync(bin, { recursive: true });
  for (const tool of ['kubectl', 'calicoctl']) {
    const link = join(bin, tool);
    rmSync(link, { force: true });
    symlinkSync(join(REPO_ROOT, 'lab', 'cluster', 'bin', tool), link);
  }
  const sudo = join(bin, 'sudo');
  if (!existsSync(sudo)) {
    writeFileSync(sudo, '#!/bin/sh\n# The lab runs as root already; sudo only records that the learner asked for root.\nSUDO_USER=vagrant exec "$@"\n');
    chmodSync(sudo, 0o755);
  }
}

installTools();
const client = new ApiClient(apiUrlFromEnv());
const agent = new CalicoNodeAgent({
  node,
  client,
  configPath: birdConfigPath(node),
  birdSocket: birdSocketPath(node),
  logFile: birdLogPath(node),
});
const kubelet = new Kubelet({ node, client, nodeIP: device.loopback.address });
agent.start();
kubelet.start();
process.stdout.write(`${new Date().toISOString()} calico-node ${node}: started (API ${client.base.href}, heartbeats from ${device.loopback.address})\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void Promise.all([agent.stop(), kubelet.stop()]).then(() => process.exit(0));
  });
}
