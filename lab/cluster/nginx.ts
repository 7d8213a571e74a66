// The test nginx pods' web server. Each nginx pod has its own network namespace (ping reaches it),
// but a web server process per pod would cost more memory than a learner's lab may use; so the
// node's calico-node process serves HTTP on the node's loopback, and nftables in the node's
// namespace redirects TCP port 80 of its nginx pods there (as kube-proxy redirects service IPs).
// Replies leave with the pod's address (connection tracking undoes the redirect).

import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';

/** nginx's version in the test deployments' image (nginx:1.19). */
const SERVER = 'nginx/1.19.10';
/** Where the node serves the nginx pods (on its loopback address). */
export const NGINX_LOCAL_PORT = 30080;
const TABLE = 'lab_nginx';

const PAGE = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
    body {
        width: 35em;
        margin: 0 auto;
        font-family: Tahoma, Verdana, Arial, sans-serif;
    }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

/** Serves nginx's welcome page (and its 404) on address:port. */
export function startNginx(address: string, port = NGINX_LOCAL_PORT): Promise<Server> {
  const server = createServer((req, res) => {
    const found = req.url === '/' || req.url === '/index.html';
    const body = found ? PAGE : `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>${SERVER}</center>\r\n</body>\r\n</html>\r\n`;
    res.writeHead(found ? 200 : 404, { Server: SERVER, 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}

/** The nftables ruleset that sends TCP port 80 of `podIPs` to address:port. */
export function nginxRuleset(podIPs: readonly string[], address: string, port = NGINX_LOCAL_PORT): string {
  const set = podIPs.length > 0 ? `{ ${podIPs.join(', ')} }` : undefined;
  const rule = set ? `    ip daddr ${set} tcp dport 80 dnat to ${address}:${port}\n` : '';
  return [
    `table ip ${TABLE}`,
    `delete table ip ${TABLE}`,
    `table ip ${TABLE} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    rule + '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    rule + '  }',
    '}',
    '',
  ].join('\n');
}

/** Applies the redirect for this node's nginx pods (in the current network namespace). */
export function syncNginxRedirects(podIPs: readonly string[], address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (error, _stdout, stderr) => {
      if (error) reject(new Error(`nft: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(nginxRuleset(podIPs, address));
  });
}
