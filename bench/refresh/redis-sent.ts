// Preloaded into the benchmark's app processes (`node --import tsx --import <this file>`): counts
// the Redis commands this process sends, by name, at ioredis's one door (`sendCommand`, which
// pipelines and MULTI go through too). On SIGUSR2 it writes the counts so far to
// `$CONDUIT_BENCH_REDIS_SENT_DIR/<pid>.json` with a sequence number, so the benchmark can take
// a snapshot whenever it wants. Nothing else changes in the app.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const dir = process.env.CONDUIT_BENCH_REDIS_SENT_DIR;
if (dir) {
  const counts: Record<string, number> = {};
  let seq = 0;
  const proto = Redis.prototype as unknown as {
    sendCommand: (command: { name: string }, ...rest: unknown[]) => unknown;
  };
  const send = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command: { name: string }, ...rest: unknown[]) {
    const name = String(command.name).toLowerCase();
    counts[name] = (counts[name] ?? 0) + 1;
    return send.call(this, command, ...rest);
  };
  const dump = () => {
    seq += 1;
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ seq, counts }));
  };
  process.on('SIGUSR2', dump);
}
