// The wire contract between the lab's API server and its clients (kubectl, calicoctl, the
// calico-node agents, the kubelets): paths, the failure Status, list and watch bodies. Both sides
// import this module; every response is parsed with these schemas before it is used.

import { z } from 'zod';
import { KIND_KEYS } from './resources.ts';

/** Where the API server listens inside the lab: the master's loopback, as kubeadm advertised it. */
export const DEFAULT_API_URL = 'http://192.168.200.1:6443';
/** Environment variable that points clients at another API server (tests use 127.0.0.1). */
export const API_URL_ENV = 'KUBE_API';
/** A request body larger than this is refused: the largest legitimate one is a multi-document apply. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest a watch long-poll is held open before it answers with no events. */
export const MAX_WATCH_WAIT_MS = 30_000;

export const API_PREFIX = '/api/v1';
export const KindKeySchema = z.enum(KIND_KEYS as [typeof KIND_KEYS[number], ...typeof KIND_KEYS]);

export const StatusReason = z.enum(['NotFound', 'AlreadyExists', 'Invalid', 'Conflict', 'BadRequest', 'MethodNotAllowed', 'Gone', 'InternalError', 'Unreachable']);
export type StatusReason = z.infer<typeof StatusReason>;

/** A failed request, shaped like Kubernetes' Status (the fields the tools' messages need). */
export const Status = z.object({
  kind: z.literal('Status'),
  status: z.literal('Failure'),
  reason: StatusReason,
  code: z.number().int(),
  message: z.string(),
  details: z.object({
    kind: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    /** Validation failures (Invalid): libcalico-go's ErroredFields. */
    causes: z.array(z.object({ name: z.string(), value: z.unknown().optional(), reason: z.string() })).optional(),
    /** Decoding failures (BadRequest): what the strict unmarshal said. */
    decodeErrors: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), code: z.string(), field: z.string(), message: z.string(), value: z.unknown().optional() })).optional(),
  }).default({}),
});
export type Status = z.infer<typeof Status>;

const AnyObject = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }).passthrough(),
}).passthrough();

export const ListBody = z.object({ revision: z.number().int(), items: z.array(AnyObject) });
export const ObjectBody = AnyObject;
export const WatchBody = z.object({
  revision: z.number().int(),
  events: z.array(z.object({ revision: z.number().int(), type: z.enum(['ADDED', 'MODIFIED', 'DELETED']), kind: KindKeySchema, object: AnyObject })),
});
export const HeartbeatBody = z.object({ node: z.string(), ready: z.boolean(), from: z.string() });
