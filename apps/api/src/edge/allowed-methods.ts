// 405 rather than 404 when the path exists under another method. Fastify's router answers "no
// route" either way, so a twin router (find-my-way, Fastify's own) learns every route as it is
// added and is asked, on a miss, which methods the path does answer.
import FindMyWay from 'find-my-way';
import type { FastifyInstance } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function allowedMethods(app: FastifyInstance): (path: string) => string[] {
  const twin = FindMyWay();
  const noop = () => undefined;
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      try {
        twin.on(method as (typeof METHODS)[number], route.url, noop);
      } catch {
        // the same method and path twice (Fastify's own HEAD twins): one entry is enough
      }
    }
  });
  return (path) => METHODS.filter((m) => twin.find(m, path) !== null);
}
