// The cluster's long-running service, declared for the lab's service runner (lab/services.ts):
// calico-node on every node, one process holding the BIRD-rendering agent, the kubelet heartbeats
// and the nginx test pods' web server; on the node whose loopback is the API server's address
// (k8s-master) it holds the API server too, and the runner waits for it to answer. One process per
// node keeps a learner's lab inside its memory budget.

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEFAULT_API_URL } from './api.ts';
import { REPO_ROOT, nodeCommand } from '../layout.ts';

import type { ServiceDefinition } from '../services.ts';
import { DEFAULT_TOPOLOGY_PATH, nodes, type Topology } from '../topology.ts';

const script = (name: string) => join(REPO_ROOT, 'lab', 'cluster', name);

/**
 * The calico-node program as one plain JavaScript file. Node.js strips TypeScript's types with a
 * WebAssembly module that stays loaded, about 30 MB per process: too much for a long-running
 * service of a lab that must fit its memory budget. So the service runs a bundle made with esbuild
 * (which the project already installs, through Astro). It lives directly under .cache/ (ignored by
 * git) so that the lab's `new URL('..', import.meta.url)` still finds the repository; the topology
 * path is passed in LAB_TOPOLOGY. Without esbuild the TypeScript runs as it is.
 */
function calicoNodeProgram(): string {
  const source = script('calico-node-main.ts');
  let esbuild: { buildSync(options: Record<string, unknown>): unknown };
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof esbuild;
  } catch {
    return source; // esbuild missing: run the TypeScript (more memory, same behaviour)
  }
  const dir = join(REPO_ROOT, '.cache');
  const bundle = join(dir, 'lab-calico-node.mjs');
  const temp = `${bundle}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    esbuild.buildSync({
      entryPoints: [source],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile: temp,
      logLevel: 'error',
      // Bundled CommonJS dependencies (yaml) call require(): give the ES module one.
      banner: { js: "import { createRequire as __labRequire } from 'node:module'; const require = __labRequire(import.meta.url);" },
    });
    renameSync(temp, bundle); // atomic: labs starting at once never run a half-written bundle
  } catch {
    // A checkout this user cannot write (a lab started by another user): the TypeScript runs as
    // it is, with the same behaviour and more memory.
    rmSync(temp, { force: true });
    return source;
  }
  return bundle;
}
const apiHost = new URL(DEFAULT_API_URL).hostname;

/** The node that holds the API server: the one whose loopback kubeadm advertised. */
export function apiServerNode(topology: Topology): string {
  const node = nodes(topology).find((n) => n.loopback.address === apiHost);
  if (!node) throw new Error(`No node of the topology has the API server's address ${apiHost} on its loopback`);
  return node.name;
}

/** How long the API server may take to answer /healthz after it starts (it loads in well under 1 s). */
const API_READY_TIMEOUT_MS = 10_000;

export const services: ServiceDefinition[] = [
  {
    name: 'calico-node',
    devices: (topology) => nodes(topology).map((n) => n.name),
    // A small young generation: the process allocates little, and every megabyte counts (budget).
    command: () => [process.execPath, '--max-semi-space-size=1', calicoNodeProgram()],
    env: (device, topology) => ({
      KUBE_API: DEFAULT_API_URL,
      LAB_TOPOLOGY: process.env.LAB_TOPOLOGY || DEFAULT_TOPOLOGY_PATH,
      ...(device === apiServerNode(topology) ? { LAB_API_SERVER: '1' } : {}),
    }),
    // On the master, the runner waits for the API server to answer before it starts the others.
    ready: {
      command: (device, topology) => (device === apiServerNode(topology) ? nodeCommand(script('healthz.ts')) : ['true']),
      timeoutMs: API_READY_TIMEOUT_MS,
    },
    order: 20,
  },
];
