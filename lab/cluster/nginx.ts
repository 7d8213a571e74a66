// The test nginx pods' web server: answers every GET with nginx's default welcome page, as the
// nginx image does, so `kubectl exec busybox-rack1 -- wget -qO- http://<nginx pod IP>` shows a real
// HTTP exchange across the fabric. Runs inside the pod's network namespace (services.ts).

import { createServer } from 'node:http';

/** nginx's version in the test deployments' image (nginx:1.19). */
const SERVER = 'nginx/1.19.10';
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

const port = Number(process.env.NGINX_PORT || 80);
const server = createServer((req, res) => {
  const found = req.url === '/' || req.url === '/index.html';
  const body = found ? PAGE : `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>${SERVER}</center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(found ? 200 : 404, { Server: SERVER, 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
});
server.listen(port, '0.0.0.0', () => process.stdout.write(`${new Date().toISOString()} nginx: listening on port ${port}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
