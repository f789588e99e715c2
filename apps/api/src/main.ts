// The api process: HTTP for the embedding app, providers' webhooks and operators. Wiring only.
import { runApp, seedDemoConnections } from '@conduit/runtime';
import { buildServer } from './server.ts';

await runApp('api', async (ctx) => {
  const app = await buildServer(ctx);
  await app.listen({ host: ctx.config.api.host, port: ctx.config.api.port });
  // Development only: demo users against the sandbox, in the background so the api answers at once.
  seedDemoConnections(ctx).catch((err: Error) =>
    ctx.logger.warn({ err: err.message }, 'demo users not seeded'),
  );
  return {
    async stop() {
      await app.close();
    },
  };
});
