// Everything of the cluster that runs on one lab node (LAB_DEVICE), in one process, because a Node.js
// process per part would cost more memory than a learner's lab may use: the calico-node agent that
// renders BIRD's configuration, the kubelet heartbeats that make the node Ready, the web server of
// the node's nginx test pods, and on the master (LAB_API_SERVER=1) the API server. Also puts
// kubectl, calicoctl (and a `sudo` that marks the caller as root, for `sudo calicoctl node status`)
// on the node's PATH.

import { existsSync, mkdirSync, symlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CalicoNodeAgent } from './calico-node.ts';
import { ApiClient, apiUrlFromEnv } from './client.ts';
import { Kubelet } from './kubelet.ts';
import { startApiService } from './api-service.ts';
import { startNginx, syncNginxRedirects } from './nginx.ts';
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
const apiServer = process.env.LAB_API_SERVER === '1' ? await startApiService(topology) : undefined;
const client = new ApiClient(apiUrlFromEnv());
const nodeIP = device.loopback.address;
const nginx = await startNginx(nodeIP);
let redirected = '';
const agent = new CalicoNodeAgent({
  node,
  client,
  configPath: birdConfigPath(node),
  birdSocket: birdSocketPath(node),
  logFile: birdLogPath(node),
  podsChanged: async (pods) => {
    const ips = pods
      .filter((p) => p.spec.nodeName === node && p.metadata.labels?.['app'] === 'nginx' && p.status?.podIP && !p.spec.hostNetwork)
      .map((p) => p.status!.podIP!)
      .sort();
    if (ips.join() === redirected) return;
    await syncNginxRedirects(ips, nodeIP);
    redirected = ips.join();
  },
});
const kubelet = new Kubelet({ node, client, nodeIP });
agent.start();
kubelet.start();
process.stdout.write(`${new Date().toISOString()} calico-node ${node}: started (API ${client.base.href}, heartbeats from ${device.loopback.address})\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void Promise.all([agent.stop(), kubelet.stop(), new Promise((resolve) => nginx.close(resolve)), apiServer?.close()]).then(() => process.exit(0));
  });
}
