// Node's own http module as a third-party HTTP/1.1 server for the keep-alive tests: persistent
// connections, chunked replies and an idle timeout as Node implements them.
// argv[2]: server.keepAliveTimeout in ms. Prints the port; runs until stdin closes.
"use strict";
const http = require("http");

let connections = 0;
const server = http.createServer((req, res) => {
  // Every body names the connection that carried it, so a test sees reuse from the server side.
  const on = `connection ${req.socket.ordinal}`;
  if (req.url === "/chunked") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.write(`chunked ${on}, `);
    res.end("last chunk");
    return;
  }
  const body = `${req.method} ${req.url} ${on}`;
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = Number(process.argv[2] || 5000);
server.on("connection", (socket) => {
  connections += 1;
  socket.ordinal = connections;
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on("end", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
process.stdin.resume();
