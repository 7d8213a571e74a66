// The cluster the walkthrough starts from (lab-facts §4–5.1): the topology's nodes bootstrapped
// about an hour before the learner arrives, the pods `kubectl get po -A -owide` lists there (the
// pod-network ones, with their names and addresses, come from the topology, which gives each a
// network namespace; the host-network ones are listed here), the nginx/busybox test pods of each
// rack, Calico's default IP pool and each node's /26 IPAM block. This is data for a fresh
// datastore; everything later is computed from the datastore.

import {
  ANNOTATION_IPV4,
  CALICO_API_VERSION,
  type BlockAffinity,
  type IPPool,
  type KubeNode,
  type Pod,
  type StoredObject,
} from './resources.ts';
import { formatCidr } from '../ipv4.ts';
import { nodes, type Topology } from '../topology.ts';

export interface SeedNode {
  name: string;
  /** Loopback address (kubelet --node-ip, API server advertise address, Calico node IP). */
  address: string;
  /** The node's IPAM block. */
  block: string;
  master: boolean;
  /** How long before the lab started the node joined, in minutes (the walkthrough shows 69m and 66m). */
  joinedMinutesAgo: number;
}

/** A pod of the seed; `ip` undefined means host network (the node's address). */
export interface SeedPod {
  namespace: string;
  name: string;
  node: string;
  ip?: string;
  containers: readonly string[];
  labels: Readonly<Record<string, string>>;
  owner?: { kind: 'ReplicaSet' | 'DaemonSet' | 'Node'; name: string };
  /** Image of each container, in order. */
  images: readonly string[];
  minutesAgo: number;
  /** Tolerates the master's NoSchedule taint. */
  toleratesMaster?: boolean;
}

/** The nodes of the topology, as the cluster knows them. */
export function seedNodes(topology: Topology): SeedNode[] {
  return nodes(topology).map((node) => ({
    name: node.name,
    address: node.loopback.address,
    block: formatCidr(node.podBlock),
    master: node.name.includes('master'),
    // The walkthrough reads 69m/66m, then 79m/77m ten and a half minutes later.
    joinedMinutesAgo: node.name.includes('master') ? 69 : 66.8,
  }));
}

const master = 'k8s-master';
const worker = 'k8s-worker-1';

/** Host-network pods (they have the node's address and no namespace of their own), as §5.1 lists them. */
export const HOST_NETWORK_PODS: readonly SeedPod[] = [
  { namespace: 'calico-system', name: 'calico-node-599ds', node: master, containers: ['calico-node'], images: ['quay.io/tigera/cnx-node:v3.0.0'], labels: { 'k8s-app': 'calico-node', 'controller-revision-hash': '5b8c6b6f6d', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'calico-node' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-node-dzfvc', node: worker, containers: ['calico-node'], images: ['quay.io/tigera/cnx-node:v3.0.0'], labels: { 'k8s-app': 'calico-node', 'controller-revision-hash': '5b8c6b6f6d', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'calico-node' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-typha-64ffdd88b5-7z9sc', node: master, containers: ['calico-typha'], images: ['quay.io/tigera/typha:v3.0.0'], labels: { 'k8s-app': 'calico-typha', 'pod-template-hash': '64ffdd88b5' }, owner: { kind: 'ReplicaSet', name: 'calico-typha-64ffdd88b5' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-typha-64ffdd88b5-fg9wd', node: worker, containers: ['calico-typha'], images: ['quay.io/tigera/typha:v3.0.0'], labels: { 'k8s-app': 'calico-typha', 'pod-template-hash': '64ffdd88b5' }, owner: { kind: 'ReplicaSet', name: 'calico-typha-64ffdd88b5' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'kube-system', name: 'etcd-k8s-master', node: master, containers: ['etcd'], images: ['k8s.gcr.io/etcd:3.4.3-0'], labels: { component: 'etcd', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-apiserver-k8s-master', node: master, containers: ['kube-apiserver'], images: ['k8s.gcr.io/kube-apiserver:v1.18.1'], labels: { component: 'kube-apiserver', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-controller-manager-k8s-master', node: master, containers: ['kube-controller-manager'], images: ['k8s.gcr.io/kube-controller-manager:v1.18.1'], labels: { component: 'kube-controller-manager', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-proxy-klqx8', node: worker, containers: ['kube-proxy'], images: ['k8s.gcr.io/kube-proxy:v1.18.1'], labels: { 'k8s-app': 'kube-proxy', 'controller-revision-hash': 'c8bb659c5', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'kube-proxy' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-proxy-wg5wf', node: master, containers: ['kube-proxy'], images: ['k8s.gcr.io/kube-proxy:v1.18.1'], labels: { 'k8s-app': 'kube-proxy', 'controller-revision-hash': 'c8bb659c5', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'kube-proxy' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-scheduler-k8s-master', node: master, containers: ['kube-scheduler'], images: ['k8s.gcr.io/kube-scheduler:v1.18.1'], labels: { component: 'kube-scheduler', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'tigera-operator', name: 'tigera-operator-84644cc5b8-5pw6g', node: master, containers: ['tigera-operator'], images: ['quay.io/tigera/operator:v1.6.0'], labels: { name: 'tigera-operator', 'pod-template-hash': '84644cc5b8' }, owner: { kind: 'ReplicaSet', name: 'tigera-operator-84644cc5b8' }, minutesAgo: 69, toleratesMaster: true },
];

interface PodTemplate {
  containers: readonly string[];
  images: readonly string[];
  labels: (app: string) => Record<string, string>;
  minutesAgo: number;
}

/** What the pod-network pods of the topology run, by app (the pod name without its generated parts). */
const POD_TEMPLATES: Readonly<Record<string, PodTemplate>> = {
  'calico-kube-controllers': { containers: ['calico-kube-controllers'], images: ['quay.io/tigera/kube-controllers:v3.0.0'], labels: (app) => ({ 'k8s-app': app }), minutesAgo: 69 },
  coredns: { containers: ['coredns'], images: ['k8s.gcr.io/coredns:1.6.7'], labels: () => ({ 'k8s-app': 'kube-dns' }), minutesAgo: 69 },
  'calico-prometheus-operator': { containers: ['calico-prometheus-operator'], images: ['quay.io/tigera/prometheus-operator:v0.40.0'], labels: (app) => ({ 'k8s-app': app }), minutesAgo: 69 },
  'tigera-apiserver': { containers: ['tigera-apiserver', 'tigera-queryserver'], images: ['quay.io/tigera/cnx-apiserver:v3.0.0', 'quay.io/tigera/cnx-queryserver:v3.0.0'], labels: (app) => ({ 'k8s-app': app }), minutesAgo: 67 },
  nginx: { containers: ['nginx'], images: ['nginx:1.19'], labels: () => ({ app: 'nginx' }), minutesAgo: 60 },
  busybox: { containers: ['busybox'], images: ['busybox:1.32'], labels: () => ({ app: 'busybox' }), minutesAgo: 60 },
};

/** `coredns-66bff467f8-8fw5n` → ReplicaSet `coredns-66bff467f8`, app `coredns`, hash `66bff467f8`. */
const GENERATED_NAME = /^(.+)-([a-z0-9]{8,10})-([a-z0-9]{5})$/;

/** The pods of the topology (each has a network namespace), with what they run. */
export function topologyPods(topology: Topology): SeedPod[] {
  return topology.pods.map((pod) => {
    const generated = GENERATED_NAME.exec(pod.name);
    const rack = /-(rack\d+)$/.exec(pod.name)?.[1];
    const app = generated ? generated[1]! : rack ? pod.name.slice(0, -rack.length - 1) : pod.name;
    const template = POD_TEMPLATES[app] ?? { containers: [app], images: [`${app}:latest`], labels: () => ({ app }), minutesAgo: 60 };
    return {
      namespace: pod.namespace,
      name: pod.name,
      node: pod.node,
      ip: pod.ip,
      containers: template.containers,
      images: template.images,
      labels: { ...template.labels(app), ...(generated ? { 'pod-template-hash': generated[2]! } : {}), ...(rack ? { rack } : {}) },
      ...(generated ? { owner: { kind: 'ReplicaSet' as const, name: `${generated[1]}-${generated[2]}` } } : {}),
      minutesAgo: template.minutesAgo,
      toleratesMaster: app !== 'nginx' && app !== 'busybox',
    };
  });
}

const KUBE_VERSION = 'v1.18.1';
export const MASTER_TAINT = { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' } as const;

function minutesBefore(now: number, minutes: number): string {
  return new Date(now - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A stable uid from a name, so a seed is reproducible. */
export function uidFor(seed: string): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of `${round}:${seed}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export function seedNode(node: SeedNode, now: number): KubeNode {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid: uidFor(`node/${node.name}`),
      creationTimestamp: minutesBefore(now, node.joinedMinutesAgo),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        ...(node.master ? { 'node-role.kubernetes.io/master': '' } : {}),
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': '/var/run/dockershim.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        [ANNOTATION_IPV4]: `${node.address}/32`,
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: node.master ? '10.10.0.0/24' : '10.10.1.0/24',
      ...(node.master ? { taints: [{ ...MASTER_TAINT }] } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.address },
        { type: 'Hostname', address: node.name },
      ],
      nodeInfo: {
        kubeletVersion: KUBE_VERSION,
        osImage: 'Ubuntu 18.04.4 LTS',
        kernelVersion: '4.15.0-76-generic',
        containerRuntimeVersion: 'docker://19.3.8',
        architecture: 'amd64',
        operatingSystem: 'linux',
      },
      capacity: { cpu: '2', memory: '2040788Ki', pods: '110' },
    },
  };
}

export function seedPod(pod: SeedPod, nodes: readonly SeedNode[], now: number): Pod {
  const node = nodes.find((n) => n.name === pod.node);
  if (!node) throw new Error(`seed pod ${pod.namespace}/${pod.name} names unknown node ${pod.node}`);
  const ownerApiVersion = pod.owner?.kind === 'Node' ? 'v1' : 'apps/v1';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: uidFor(`pod/${pod.namespace}/${pod.name}`),
      creationTimestamp: minutesBefore(now, pod.minutesAgo),
      labels: { ...pod.labels },
      ...(pod.owner
        ? { ownerReferences: [{ apiVersion: ownerApiVersion, kind: pod.owner.kind, name: pod.owner.name, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: {
      nodeName: pod.node,
      ...(pod.ip === undefined ? { hostNetwork: true } : {}),
      containers: pod.containers.map((name, i) => ({ name, image: pod.images[i] ?? `${name}:latest` })),
      ...(pod.toleratesMaster ? { tolerations: [{ key: MASTER_TAINT.key, effect: MASTER_TAINT.effect }] } : {}),
      ...(pod.labels['rack'] ? { nodeSelector: { rack: pod.labels['rack'] } } : {}),
    },
    status: {
      phase: 'Running',
      hostIP: node.address,
      podIP: pod.ip ?? node.address,
      startTime: minutesBefore(now, pod.minutesAgo),
      containerStatuses: pod.containers.map((name) => ({ name, ready: true, restartCount: 0 })),
    },
  };
}

export function seedPool(now: number, cidr: string): IPPool {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'IPPool',
    metadata: { name: 'default-ipv4-ippool', uid: uidFor('ippool/default'), creationTimestamp: minutesBefore(now, 69) },
    spec: { cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' },
  };
}

export function blockAffinityName(node: string, cidr: string): string {
  return `${node}-${cidr.replace(/[./]/g, '-')}`;
}

export function seedBlock(node: SeedNode, now: number): BlockAffinity {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'BlockAffinity',
    metadata: { name: blockAffinityName(node.name, node.block), uid: uidFor(`block/${node.block}`), creationTimestamp: minutesBefore(now, node.joinedMinutesAgo) },
    spec: { node: node.name, cidr: node.block, state: 'confirmed' },
  };
}

/** Every object of a fresh cluster; `now` is when the lab starts (ms since the epoch). */
export function seedObjects(now: number, topology: Topology): StoredObject[] {
  const seedNodeList = seedNodes(topology);
  const names = new Set(seedNodeList.map((n) => n.name));
  const pods = [...HOST_NETWORK_PODS.filter((p) => names.has(p.node)), ...topologyPods(topology)];
  return [
    ...seedNodeList.map((node) => seedNode(node, now)),
    ...pods.map((pod) => seedPod(pod, seedNodeList, now)),
    seedPool(now, formatCidr(topology.podPool)),
    ...seedNodeList.map((node) => seedBlock(node, now)),
  ];
}
