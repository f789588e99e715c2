import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DelayLine, TcpProxy, delayOf } from './tcp-proxy.ts';

// The chaos run's latency proxy: bytes arrive unchanged and in order, late by what the window
// says, and a target that goes away takes its connections with it.
const open: Array<{ close: () => unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function echoServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  open.push({
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  });
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function proxyTo(port: number, random?: () => number): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(port, random ? { random } : {});
  open.push(proxy);
  return proxy;
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
    open.push({ close: () => s.destroy() });
  });
}

/** Resolves with everything received once `bytes` have arrived. */
function receive(s: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    s.on('data', (c: Buffer) => {
      parts.push(c);
      n += c.length;
      if (n >= bytes) resolve(Buffer.concat(parts));
    });
  });
}

describe('tcp proxy › delays', () => {
  it('a chunk is held back the latency plus a share of the jitter', () => {
    expect(delayOf({ latencyMs: 100, jitterMs: 50 }, () => 0.5)).toBe(125);
    expect(delayOf({ latencyMs: 0, jitterMs: 0 }, () => 0.9)).toBe(0);
  });

  it('a delay line never lets a later chunk overtake an earlier one', async () => {
    const out: string[] = [];
    const line = new DelayLine((c) => out.push(c.toString()));
    line.push(Buffer.from('a'), 60);
    line.push(Buffer.from('b'), 5);
    line.push(Buffer.from('c'), 30);
    expect(line.pending).toBe(3);
    await new Promise((r) => setTimeout(r, 120));
    expect(out).toEqual(['a', 'b', 'c']);
  });

  it('without delay and nothing queued a chunk passes at once', () => {
    const out: string[] = [];
    new DelayLine((c) => out.push(c.toString())).push(Buffer.from('x'), 0);
    expect(out).toEqual(['x']);
  });
});

describe('tcp proxy › over real sockets', () => {
  it('passes every byte unchanged and in order, with jitter on', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    proxy.setLatency({ latencyMs: 5, jitterMs: 20 });
    const s = await client(proxy.port);
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const got = receive(s, payload.length);
    for (let i = 0; i < payload.length; i += 1_000) s.write(payload.subarray(i, i + 1_000));
    expect((await got).equals(payload)).toBe(true);
  });

  it('adds the latency in each direction during a window, and none after it', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    const s = await client(proxy.port);
    const roundTrip = async () => {
      const t = Date.now();
      const got = receive(s, 4);
      s.write('ping');
      await got;
      s.removeAllListeners('data');
      return Date.now() - t;
    };
    proxy.setLatency({ latencyMs: 100, jitterMs: 0 });
    expect(await roundTrip()).toBeGreaterThanOrEqual(195);
    proxy.clearLatency();
    expect(await roundTrip()).toBeLessThan(100);
  });

  it('a target that closes its side closes the client too', async () => {
    const echo = await echoServer();
    const proxy = await proxyTo(echo.port);
    const s = await client(proxy.port);
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise((r) => s.once('close', r));
    for (const t of echo.sockets) t.destroy();
    await closed;
  });

  it('while the target is down a connection is accepted and closed at once', async () => {
    const echo = await echoServer();
    const port = echo.port;
    for (const t of echo.sockets) t.destroy();
    await new Promise((r) => echo.server.close(() => r(undefined)));
    const proxy = await proxyTo(port);
    const s = await client(proxy.port);
    await new Promise((r) => s.once('close', r));
    expect(proxy.stats.refusedUpstream).toBe(1);
  });
});

describe('tcp proxy › a client that dies', () => {
  it('still delivers what it sent before it reset its connection, as a real network would', async () => {
    let received = '';
    let delivered!: () => void;
    const got = new Promise<void>((resolve) => (delivered = resolve));
    const server = createServer((sock) => {
      sock.on('data', (c: Buffer) => {
        received += c.toString();
        if (received === 'SET rescue') delivered();
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise((r) => server.close(() => r(undefined))) });
    const proxy = await proxyTo((server.address() as AddressInfo).port);
    proxy.setLatency({ latencyMs: 200, jitterMs: 0 });
    const s = await client(proxy.port);
    s.write('SET rescue');
    await new Promise((r) => setTimeout(r, 20));
    s.resetAndDestroy();
    await got;
    expect(received).toBe('SET rescue');
  });
});
