// The cluster the walkthrough starts from (lab-facts §4–5.1): two nodes bootstrapped about an hour
// before the learner arrives, the pods `kubectl get po -A -owide` lists there, the nginx/busybox
// test deployments pinned to each rack, Calico's default IP pool and each node's /26 IPAM block.
// This is data for a fresh datastore; everything later is computed from the datastore.

import {
  ANNOTATION_IPV4,
  CALICO_API_VERSION,
  type BlockAffinity,
  type IPPool,
  type KubeNode,
  type Pod,
  type StoredObject,
} from './resources.ts';

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

export const SEED_NODES: readonly SeedNode[] = [
  { name: 'k8s-master', address: '192.168.200.1', block: '10.10.235.192/26', master: true, joinedMinutesAgo: 69 },
  { name: 'k8s-worker-1', address: '192.168.201.1', block: '10.10.230.0/26', master: false, joinedMinutesAgo: 66 },
];

export const DEFAULT_POOL_CIDR = '10.10.0.0/16';

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

const master = 'k8s-master';
const worker = 'k8s-worker-1';

export const SEED_PODS: readonly SeedPod[] = [
  { namespace: 'calico-system', name: 'calico-kube-controllers-7f95545d84-t68z6', node: master, ip: '10.10.235.194', containers: ['calico-kube-controllers'], images: ['quay.io/tigera/kube-controllers:v3.0.0'], labels: { 'k8s-app': 'calico-kube-controllers', 'pod-template-hash': '7f95545d84' }, owner: { kind: 'ReplicaSet', name: 'calico-kube-controllers-7f95545d84' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-node-599ds', node: master, containers: ['calico-node'], images: ['quay.io/tigera/cnx-node:v3.0.0'], labels: { 'k8s-app': 'calico-node', 'controller-revision-hash': '5b8c6b6f6d', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'calico-node' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-node-dzfvc', node: worker, containers: ['calico-node'], images: ['quay.io/tigera/cnx-node:v3.0.0'], labels: { 'k8s-app': 'calico-node', 'controller-revision-hash': '5b8c6b6f6d', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'calico-node' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-typha-64ffdd88b5-7z9sc', node: master, containers: ['calico-typha'], images: ['quay.io/tigera/typha:v3.0.0'], labels: { 'k8s-app': 'calico-typha', 'pod-template-hash': '64ffdd88b5' }, owner: { kind: 'ReplicaSet', name: 'calico-typha-64ffdd88b5' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'calico-system', name: 'calico-typha-64ffdd88b5-fg9wd', node: worker, containers: ['calico-typha'], images: ['quay.io/tigera/typha:v3.0.0'], labels: { 'k8s-app': 'calico-typha', 'pod-template-hash': '64ffdd88b5' }, owner: { kind: 'ReplicaSet', name: 'calico-typha-64ffdd88b5' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'kube-system', name: 'coredns-66bff467f8-578tg', node: master, ip: '10.10.235.195', containers: ['coredns'], images: ['k8s.gcr.io/coredns:1.6.7'], labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '66bff467f8' }, owner: { kind: 'ReplicaSet', name: 'coredns-66bff467f8' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'coredns-66bff467f8-647mw', node: master, ip: '10.10.235.193', containers: ['coredns'], images: ['k8s.gcr.io/coredns:1.6.7'], labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '66bff467f8' }, owner: { kind: 'ReplicaSet', name: 'coredns-66bff467f8' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'etcd-k8s-master', node: master, containers: ['etcd'], images: ['k8s.gcr.io/etcd:3.4.3-0'], labels: { component: 'etcd', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-apiserver-k8s-master', node: master, containers: ['kube-apiserver'], images: ['k8s.gcr.io/kube-apiserver:v1.18.1'], labels: { component: 'kube-apiserver', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-controller-manager-k8s-master', node: master, containers: ['kube-controller-manager'], images: ['k8s.gcr.io/kube-controller-manager:v1.18.1'], labels: { component: 'kube-controller-manager', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-proxy-klqx8', node: worker, containers: ['kube-proxy'], images: ['k8s.gcr.io/kube-proxy:v1.18.1'], labels: { 'k8s-app': 'kube-proxy', 'controller-revision-hash': 'c8bb659c5', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'kube-proxy' }, minutesAgo: 67, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-proxy-wg5wf', node: master, containers: ['kube-proxy'], images: ['k8s.gcr.io/kube-proxy:v1.18.1'], labels: { 'k8s-app': 'kube-proxy', 'controller-revision-hash': 'c8bb659c5', 'pod-template-generation': '1' }, owner: { kind: 'DaemonSet', name: 'kube-proxy' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'kube-system', name: 'kube-scheduler-k8s-master', node: master, containers: ['kube-scheduler'], images: ['k8s.gcr.io/kube-scheduler:v1.18.1'], labels: { component: 'kube-scheduler', tier: 'control-plane' }, owner: { kind: 'Node', name: master }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'tigera-operator', name: 'tigera-operator-84644cc5b8-5pw6g', node: master, containers: ['tigera-operator'], images: ['quay.io/tigera/operator:v1.6.0'], labels: { name: 'tigera-operator', 'pod-template-hash': '84644cc5b8' }, owner: { kind: 'ReplicaSet', name: 'tigera-operator-84644cc5b8' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'tigera-prometheus', name: 'calico-prometheus-operator-588fdd8d9-wsj9z', node: master, ip: '10.10.235.192', containers: ['calico-prometheus-operator'], images: ['quay.io/tigera/prometheus-operator:v0.40.0'], labels: { 'k8s-app': 'calico-prometheus-operator', 'pod-template-hash': '588fdd8d9' }, owner: { kind: 'ReplicaSet', name: 'calico-prometheus-operator-588fdd8d9' }, minutesAgo: 69, toleratesMaster: true },
  { namespace: 'tigera-system', name: 'tigera-apiserver-67b87557db-kd5gp', node: master, ip: '10.10.235.196', containers: ['tigera-apiserver', 'tigera-queryserver'], images: ['quay.io/tigera/cnx-apiserver:v3.0.0', 'quay.io/tigera/cnx-queryserver:v3.0.0'], labels: { 'k8s-app': 'tigera-apiserver', 'pod-template-hash': '67b87557db' }, owner: { kind: 'ReplicaSet', name: 'tigera-apiserver-67b87557db' }, minutesAgo: 67, toleratesMaster: true },
  // The test deployments, one of each per rack (nodeSelector rack=...), for ping and HTTP checks.
  { namespace: 'default', name: 'nginx-rack1-5c8bd7b4f6-x2k9p', node: master, ip: '10.10.235.197', containers: ['nginx'], images: ['nginx:1.19'], labels: { app: 'nginx', rack: 'rack1', 'pod-template-hash': '5c8bd7b4f6' }, owner: { kind: 'ReplicaSet', name: 'nginx-rack1-5c8bd7b4f6' }, minutesAgo: 60, toleratesMaster: true },
  { namespace: 'default', name: 'busybox-rack1-7d9f8c6b5d-m4q7w', node: master, ip: '10.10.235.198', containers: ['busybox'], images: ['busybox:1.32'], labels: { app: 'busybox', rack: 'rack1', 'pod-template-hash': '7d9f8c6b5d' }, owner: { kind: 'ReplicaSet', name: 'busybox-rack1-7d9f8c6b5d' }, minutesAgo: 60, toleratesMaster: true },
  { namespace: 'default', name: 'nginx-rack2-6f7c9d8b5c-h8z2r', node: worker, ip: '10.10.230.2', containers: ['nginx'], images: ['nginx:1.19'], labels: { app: 'nginx', rack: 'rack2', 'pod-template-hash': '6f7c9d8b5c' }, owner: { kind: 'ReplicaSet', name: 'nginx-rack2-6f7c9d8b5c' }, minutesAgo: 60 },
  { namespace: 'default', name: 'busybox-rack2-8b6d5f9c7b-t5v8n', node: worker, ip: '10.10.230.3', containers: ['busybox'], images: ['busybox:1.32'], labels: { app: 'busybox', rack: 'rack2', 'pod-template-hash': '8b6d5f9c7b' }, owner: { kind: 'ReplicaSet', name: 'busybox-rack2-8b6d5f9c7b' }, minutesAgo: 60 },
];

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

export function seedPool(now: number): IPPool {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'IPPool',
    metadata: { name: 'default-ipv4-ippool', uid: uidFor('ippool/default'), creationTimestamp: minutesBefore(now, 69) },
    spec: { cidr: DEFAULT_POOL_CIDR, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false, nodeSelector: 'all()' },
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
export function seedObjects(now: number): StoredObject[] {
  return [
    ...SEED_NODES.map((node) => seedNode(node, now)),
    ...SEED_PODS.map((pod) => seedPod(pod, SEED_NODES, now)),
    seedPool(now),
    ...SEED_NODES.map((node) => seedBlock(node, now)),
  ];
}
