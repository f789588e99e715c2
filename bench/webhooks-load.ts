// The load generator of the webhooks benchmark, as its own process (so it never competes with
// the api inside one event loop):
//   node --import tsx bench/webhooks-load.ts <url> <seconds> <connections> <routesFile> <idPrefix> <acceptedFile>
// <routesFile> is JSON `{ routes: [{ path, secret, email }] }`: where each account's deliveries go
// and the secret they are signed with — per connection, its own webhook's route and secret; in
// the operator mode, one route and one secret for all, matched by the recorder's email. (A file,
// not arguments: secrets never show in the process list.) Every request is a signed Fathom
// delivery with a unique webhook-id, the current timestamp and a recording id of its own, round
// robin over the routes; signing is one HMAC-SHA256 over ~1 KB (microseconds). Prints one JSON
// line with autocannon's figures and writes the webhook-ids answered 2xx to <acceptedFile>.
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { webhookHeaders } from '@conduit/core';
import { fathomMeeting } from './fathom-meeting.ts';

export interface LoadRoute {
  path: string;
  secret: string;
  email: string;
}

const [url, seconds, connections, routesFile, idPrefix, acceptedFile] = process.argv.slice(2);
if (acceptedFile === undefined) {
  console.error(
    'usage: webhooks-load.ts <url> <seconds> <connections> <routesFile> <idPrefix> <acceptedFile>',
  );
  process.exit(2);
}

const { routes } = JSON.parse(readFileSync(routesFile!, 'utf8')) as { routes: LoadRoute[] };
const RECORDING_BASE = 700_000_000;
// round robin over the accounts: many users' meetings, as in production
const routeOf = (n: number): LoadRoute => routes[n % routes.length]!;
const meeting = (n: number): string =>
  fathomMeeting({
    recordingId: RECORDING_BASE + n,
    createdAt: new Date().toISOString(),
    email: routeOf(n).email,
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
        const route = routeOf(sent);
        context.id = id;
        return {
          ...request,
          path: route.path,
          headers: {
            'content-type': 'application/json',
            ...webhookHeaders(route.secret, id, Math.floor(Date.now() / 1000), body),
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
