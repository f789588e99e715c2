// The load generator of the webhooks benchmark, as its own process (so it never competes with
// the api inside one event loop):
//   node --import tsx bench/webhooks-load.ts <url> <path> <seconds> <connections> <secret> <emails> <idPrefix> <acceptedFile>
// <emails> is a comma-separated list of the recorders' emails. Every request is a signed Fathom
// delivery with a unique webhook-id, the current timestamp and a recording id of its own;
// signing is one HMAC-SHA256 over ~1 KB (microseconds). Prints one JSON line with autocannon's
// figures and writes the webhook-ids answered 2xx to <acceptedFile>.
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { webhookHeaders } from '@conduit/core';
import { fathomMeeting } from './fathom-meeting.ts';

const [url, path, seconds, connections, secret, emailList, idPrefix, acceptedFile] = process.argv.slice(2);
if (acceptedFile === undefined) {
  console.error(
    'usage: webhooks-load.ts <url> <path> <seconds> <connections> <secret> <emails> <idPrefix> <acceptedFile>',
  );
  process.exit(2);
}

const emails = emailList!.split(',');
const RECORDING_BASE = 700_000_000;
const meeting = (n: number): string =>
  fathomMeeting({
    recordingId: RECORDING_BASE + n,
    createdAt: new Date().toISOString(),
    // round robin over the accounts: many users' meetings, as in production
    email: emails[n % emails.length]!,
    name: 'Bench Recorder',
  });

let sent = 0;
const accepted: string[] = [];
const cpuAtStart = process.cpuUsage();
const result = await autocannon({
  url: url!,
  connections: Number(connections),
  duration: Number(seconds),
  timeout: 10,
  requests: [
    {
      method: 'POST',
      setupRequest: (request, context) => {
        sent += 1;
        const id = `${idPrefix}${sent}`;
        const body = meeting(sent);
        context.id = id;
        return {
          ...request,
          path: path!,
          headers: {
            'content-type': 'application/json',
            ...webhookHeaders(secret!, id, Math.floor(Date.now() / 1000), body),
          },
          body,
        };
      },
      onResponse: (status, _body, context) => {
        if (status >= 200 && status < 300) accepted.push(context.id as string);
      },
    },
  ],
});

writeFileSync(acceptedFile, accepted.join('\n'));
process.stdout.write(
  JSON.stringify({
    seconds: result.duration,
    sent,
    accepted: accepted.length,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statusCodes: result.statusCodeStats,
    cpuSeconds: ((used) => (used.user + used.system) / 1e6)(process.cpuUsage(cpuAtStart)),
  }) + '\n',
);
