// nginx as the ceiling: one worker process pinned to the server core, serving the page set over HTTP and TLS
// (with `http2`, the TLS port speaks h2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startPinned, waitForTcp } from './processes.js';

export async function startNginx({ dir, docroot, certFile, keyFile, core, http2 = false }) {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const name = http2 ? 'nginx-h2' : 'nginx';
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir};
  scgi_temp_path ${dir};
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  http2_max_requests 1000000;
  sendfile on;
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl${http2 ? ' http2' : ''};
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${docroot};
  }
}
`,
  );
  const handle = startPinned(core, 'nginx', ['-c', conf, '-e', join(dir, `${name}-error.log`)]);
  await Promise.all([waitForTcp(httpPort), waitForTcp(httpsPort)]);
  return { handle, httpPort, httpsPort };
}
