// The lab's API server as a service: on the master's loopback (192.168.200.1:6443) inside the
// sandbox, its datastore in the sandbox's private state (/run/lab/cluster), pods that the
// controllers create or delete attached to / detached from their node by the fabric. It runs in
// the master's calico-node process (calico-node-main.ts), which shares its network namespace.

import { join } from 'node:path';
import { ApiServer, type PodHooks } from './api-server.ts';
import { DEFAULT_API_URL } from './api.ts';
import type { Pod } from './resources.ts';
import { seedObjects } from './seed.ts';
import { Store } from './store.ts';
import { currentSandbox } from '../layout.ts';
import { caliInterfaceName, podNetnsName, type Topology } from '../topology.ts';

/** Inside a sandbox, /run is private to it: the datastore lives as long as the lab. */
export const DEFAULT_STATE_DIR = '/run/lab/cluster';


async function fabricHooks(): Promise<PodHooks> {
  if (currentSandbox() === undefined) return {};
  const fabric = await import('../fabric.ts');
  const asFabricPod = (pod: Pod) => {
    const namespace = pod.metadata.namespace ?? 'default';
    return {
      namespace,
      name: pod.metadata.name,
      node: pod.spec.nodeName ?? '',
      ip: pod.status?.podIP ?? '',
      netns: podNetnsName(namespace, pod.metadata.name),
      hostIface: caliInterfaceName(namespace, pod.metadata.name),
    };
  };
  return {
    created: async (pod) => {
      if (!pod.spec.hostNetwork) await fabric.attachPod(asFabricPod(pod));
    },
    deleted: async (pod) => {
      if (!pod.spec.hostNetwork) await fabric.detachPod(asFabricPod(pod));
    },
  };
}

/** Opens (or seeds) the datastore and starts serving; KUBE_API_LISTEN and CLUSTER_STATE_DIR override the defaults. */
export async function startApiService(topology: Topology, env: NodeJS.ProcessEnv = process.env): Promise<ApiServer> {
  const listen = new URL(env.KUBE_API_LISTEN || DEFAULT_API_URL);
  const file = join(env.CLUSTER_STATE_DIR || DEFAULT_STATE_DIR, 'datastore.json');
  const store = Store.open(file, () => seedObjects(Date.now(), topology));
  const server = new ApiServer({ store, podHooks: await fabricHooks() });
  const address = await server.listen(Number(listen.port || 6443), listen.hostname);
  process.stdout.write(`${new Date().toISOString()} api-server: listening on ${address.address}:${address.port}, datastore ${file} (revision ${store.revision})\n`);
  return server;
}
