// The cluster's long-running services, declared for the lab's service runner (lab/services.ts):
//   api-server   on the node whose loopback is the API server's address (k8s-master), first;
//   calico-node  on every node: the BIRD-rendering agent and the kubelet heartbeats.
//   nginx        on each node with an nginx test pod: a web server inside that pod's namespace.
// Each runs inside the sandbox in its device's network namespace, with the Node.js running the lab.

import { join } from 'node:path';
import { DEFAULT_API_URL } from './api.ts';
import { REPO_ROOT, nodeCommand } from '../layout.ts';
import type { ServiceDefinition } from '../services.ts';
import { nodes, type Pod, type Topology } from '../topology.ts';

const script = (name: string) => join(REPO_ROOT, 'lab', 'cluster', name);
const apiHost = new URL(DEFAULT_API_URL).hostname;

/** The node that holds the API server: the one whose loopback kubeadm advertised. */
export function apiServerNode(topology: Topology): string {
  const node = nodes(topology).find((n) => n.loopback.address === apiHost);
  if (!node) throw new Error(`No node of the topology has the API server's address ${apiHost} on its loopback`);
  return node.name;
}

/** How long the API server may take to answer /healthz after it starts (it loads in well under 1 s). */
const API_READY_TIMEOUT_MS = 10_000;

/**
 * The nginx test pod of a node. The service runner starts services per device (node), so one web
 * server per node: the topology has one nginx pod per rack.
 */
function nginxPod(topology: Topology, node: string): Pod | undefined {
  return topology.pods.find((p) => p.node === node && /^nginx(-|$)/.test(p.name));
}

export const services: ServiceDefinition[] = [
  {
    name: 'api-server',
    devices: (topology) => [apiServerNode(topology)],
    command: () => nodeCommand(script('api-server-main.ts')),
    env: () => ({ KUBE_API: DEFAULT_API_URL }),
    ready: { command: () => nodeCommand(script('healthz.ts')), timeoutMs: API_READY_TIMEOUT_MS },
    order: 10,
  },
  {
    name: 'calico-node',
    devices: (topology) => nodes(topology).map((n) => n.name),
    command: () => nodeCommand(script('calico-node-main.ts')),
    env: () => ({ KUBE_API: DEFAULT_API_URL }),
    order: 20,
  },
  {
    name: 'nginx',
    devices: (topology) => nodes(topology).filter((n) => nginxPod(topology, n.name)).map((n) => n.name),
    command: (device, topology) => ['ip', 'netns', 'exec', nginxPod(topology, device)!.netns, ...nodeCommand(script('nginx.ts'))],
    order: 30,
  },
];
