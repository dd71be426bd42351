#!/usr/bin/env node
// The ceiling of any DNS server written on Node's dgram on this machine: it answers each query with the query's own
// bytes turned into an empty NOERROR reply (QR and RA set), with the same socket options as DNSServer (4 MiB receive
// buffer) and no work of its own. Prints `READY {"dns":PORT}` and runs until SIGTERM.
import { createSocket } from 'node:dgram';

const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
socket.on('message', (message, remote) => {
  const reply = Buffer.from(message);
  reply[2] |= 0x80; // QR
  reply[3] = 0x80; // RA, NOERROR
  socket.send(reply, remote.port, remote.address);
});
socket.bind(0, '127.0.0.1', () => process.stdout.write(`READY ${JSON.stringify({ dns: socket.address().port })}\n`));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
