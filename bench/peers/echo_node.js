// Node.js peer of the TCP echo benchmark (bench/echo.sh). Usage: node echo_node.js PORT
'use strict';
const net = require('net');
const port = Number(process.argv[2] || 8888);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (data) => socket.write(data));
  socket.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => process.exit(0));
