// A port for a process of a run that has no fixed range of its own (the chaos run, a benchmark):
// the OS picks one nobody listens on, and it is handed over free.
import { createServer, type AddressInfo } from 'node:net';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
