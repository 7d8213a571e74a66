// The client side of api.ts, used by kubectl, calicoctl, the calico-node agents and the kubelets.
// Every answer is a value: the object(s), or a Status (including "Unreachable" when the API server
// cannot be reached, which is what a cut control path looks like to a client).

import { request } from 'node:http';
import { z } from 'zod';
import {
  API_PREFIX, API_URL_ENV, DEFAULT_API_URL, HeartbeatBody, ListBody, Status, WatchBody,
} from './api.ts';
import type { KindKey, StoredObject } from './resources.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; status: Status };

/** How long a request may take before it counts as unreachable (a silent path drops packets). */
export const REQUEST_TIMEOUT_MS = 5_000;

export function apiUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env[API_URL_ENV] || DEFAULT_API_URL;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Local address to send from (a kubelet sends from its node's loopback). */
  localAddress?: string;
  signal?: AbortSignal;
}

function unreachable(url: URL, message: string): Status {
  return { kind: 'Status', status: 'Failure', reason: 'Unreachable', code: 0, message: `${url.host}: ${message}`, details: {} };
}

export class ApiClient {
  readonly base: URL;
  constructor(base: string = apiUrlFromEnv()) {
    this.base = new URL(base);
  }

  private call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown, options: RequestOptions = {}): Promise<Result<T>> {
    const url = new URL(`${API_PREFIX}${path}`, this.base);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve) => {
      const req = request(url, {
        method,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        localAddress: options.localAddress,
        signal: options.signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => resolve({ ok: false, status: unreachable(url, error.message) }));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            resolve({ ok: false, status: unreachable(url, `answer is not JSON (HTTP ${res.statusCode})`) });
            return;
          }
          if ((res.statusCode ?? 500) >= 400) {
            const failure = Status.safeParse(parsed);
            resolve({ ok: false, status: failure.success ? failure.data : unreachable(url, `HTTP ${res.statusCode}`) });
            return;
          }
          const value = schema.safeParse(parsed);
          resolve(value.success ? { ok: true, value: value.data } : { ok: false, status: unreachable(url, `unexpected answer: ${value.error.message}`) });
        });
      });
      req.setTimeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS, () => req.destroy(new Error('i/o timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        const message = error.code === 'ECONNREFUSED' ? 'connect: connection refused' : error.message;
        resolve({ ok: false, status: unreachable(url, message) });
      });
      req.end(text);
    });
  }

  list(kind: KindKey, options: { namespace?: string; labelSelector?: string } = {}): Promise<Result<{ revision: number; items: StoredObject[] }>> {
    const query = new URLSearchParams();
    if (options.namespace) query.set('namespace', options.namespace);
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    const q = query.size > 0 ? `?${query}` : '';
    return this.call('GET', `/${kind}${q}`, ListBody as z.ZodType<{ revision: number; items: StoredObject[] }>);
  }

  get(kind: KindKey, name: string, namespace?: string): Promise<Result<StoredObject>> {
    const q = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    return this.call('GET', `/${kind}/${encodeURIComponent(name)}${q}`, z.custom<StoredObject>((v) => typeof v === 'object' && v !== null));
  }

  create(kind: KindKey, object: unknown, options: { dryRun?: boolean; namespace?: string } = {}): Promise<Result<StoredObject>> {
    const query = new URLSearchParams();
    if (options.dryRun) query.set('dryRun', 'All');
    if (options.namespace) query.set('namespace', options.namespace);
    return this.call('POST', `/${kind}${query.size ? `?${query}` : ''}`, z.custom<StoredObject>(), object);
  }

  update(kind: KindKey, name: string, object: unknown, options: { dryRun?: boolean; namespace?: string } = {}): Promise<Result<StoredObject>> {
    const query = new URLSearchParams();
    if (options.dryRun) query.set('dryRun', 'All');
    if (options.namespace) query.set('namespace', options.namespace);
    return this.call('PUT', `/${kind}/${encodeURIComponent(name)}${query.size ? `?${query}` : ''}`, z.custom<StoredObject>(), object);
  }

  delete(kind: KindKey, name: string, namespace?: string): Promise<Result<StoredObject>> {
    const q = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    return this.call('DELETE', `/${kind}/${encodeURIComponent(name)}${q}`, z.custom<StoredObject>());
  }

  watch(since: number, timeoutMs: number, signal?: AbortSignal): Promise<Result<z.infer<typeof WatchBody>>> {
    return this.call('GET', `/watch?since=${since}&timeoutMs=${timeoutMs}`, WatchBody, undefined, { timeoutMs: timeoutMs + REQUEST_TIMEOUT_MS, signal });
  }

  heartbeat(node: string, options: RequestOptions = {}): Promise<Result<z.infer<typeof HeartbeatBody>>> {
    return this.call('POST', `/heartbeat/${encodeURIComponent(node)}`, HeartbeatBody, {}, options);
  }
}
