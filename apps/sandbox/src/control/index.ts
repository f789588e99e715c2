// The control API under /_sandbox: JSON in, JSON out, problem details on error.
import type { FastifyError, FastifyInstance } from 'fastify';
import { problem, send } from '../http.ts';
import type { SandboxState } from '../state.ts';
import { ControlError } from './errors.ts';
import { registerFathomControl } from './fathom.ts';
import { registerGrantControl } from './grants.ts';
import { registerReportRoute } from './report.ts';
import { registerSettingsControl } from './settings.ts';

export async function controlPlugin(app: FastifyInstance, opts: { sb: SandboxState }): Promise<void> {
  const { sb } = opts;
  app.setErrorHandler((error: FastifyError | ControlError, req, reply) => {
    const status = error.statusCode ?? 500;
    const title =
      error instanceof ControlError
        ? 'Control request refused'
        : status >= 500
          ? 'Sandbox error'
          : 'Bad control request';
    return send(reply, problem(status, title, error.message, req.url));
  });
  app.setNotFoundHandler((req, reply) =>
    send(
      reply,
      problem(
        404,
        'No such control route',
        `${req.method} ${req.url} is not part of the /_sandbox API`,
        req.url,
      ),
    ),
  );
  app.get('/health', async () => ({ ok: true }));
  registerGrantControl(app, sb);
  registerSettingsControl(app, sb);
  registerFathomControl(app, sb);
  registerReportRoute(app, sb);
}
