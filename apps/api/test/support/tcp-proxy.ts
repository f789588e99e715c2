// A TCP proxy between the api and a datastore, to make the datastore hang (bytes held, nothing
// answered) or go down (connections cut and refused) without touching the shared server.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** stop forwarding: connections stay open, nothing comes back */
  hang(): void;
  /** cut every connection and refuse new ones */
  down(): Promise<void>;
  /** forward again (after hang or down) */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(port: number, target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let hung = false;
  let server: Server | undefined;

  function listen(): Promise<void> {
    server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (chunk) => {
          if (!hung) to.write(chunk);
        });
      forward(client, upstream);
      forward(upstream, client);
      const end = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    return new Promise((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
  }

  function cut(): Promise<void> {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
    const s = server;
    server = undefined;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  await listen();
  return {
    port,
    hang: () => {
      hung = true;
    },
    down: cut,
    up: async () => {
      hung = false;
      if (!server) await listen();
    },
    close: cut,
  };
}
