// Readiness probe of the API server service: exits 0 once $KUBE_API answers /healthz.
import { request } from 'node:http';
import { apiUrlFromEnv } from './client.ts';

const url = new URL('/healthz', apiUrlFromEnv());
const req = request(url, { timeout: 1_000 }, (res) => {
  res.resume();
  process.exitCode = res.statusCode === 200 ? 0 : 1;
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (error) => {
  process.stderr.write(`${url.href}: ${error.message}\n`);
  process.exitCode = 1;
});
req.end();
