// startSandbox: one Fastify server (logger off: the token path must stay lean) serving every
// provider under its catalogue sandbox paths, plus the /_sandbox control API.
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { registerIdentityRoutes } from './api/identity.ts';
import { registerYouTubeRoutes } from './api/youtube.ts';
import { controlPlugin } from './control/index.ts';
import { registerFathomApi } from './fathom/api.ts';
import { registerAuthorizeRoutes } from './oauth/authorize.ts';
import { registerRevokeRoutes } from './oauth/revoke.ts';
import { registerTokenRoutes } from './oauth/token.ts';
import { persistGrants } from './grants/snapshot.ts';
import { resolveOptions, type SandboxOptions } from './options.ts';
import { SandboxState } from './state.ts';

export interface Sandbox {
  /** e.g. http://127.0.0.1:40123 — pass it as Conduit's sandbox base URL */
  url: string;
  host: string;
  port: number;
  seed: number;
  /** grants taken back from the grants file at start */
  restoredGrants: number;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const sb = new SandboxState(resolved);
  const grantFile = resolved.grantsFile === '' ? undefined : persistGrants(sb, resolved.grantsFile);
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 4 * 1024 * 1024,
    keepAliveTimeout: 72_000,
    return503OnClosing: false,
  });
  await app.register(formbody);
  registerAuthorizeRoutes(app, sb);
  registerTokenRoutes(app, sb);
  registerRevokeRoutes(app, sb);
  registerFathomApi(app, sb);
  registerIdentityRoutes(app, sb);
  registerYouTubeRoutes(app, sb);
  await app.register(controlPlugin, { prefix: '/_sandbox', sb });

  await app.listen({ host: resolved.host, port: resolved.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : resolved.port;
  const urlHost = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host: resolved.host,
    port,
    seed: resolved.seed,
    restoredGrants: grantFile?.restored ?? 0,
    close: () =>
      (closing ??= (async () => {
        await sb.close();
        await app.close();
        // Last, so a rotation answered while the server closed is in the file too.
        grantFile?.stop();
      })()),
  };
}
