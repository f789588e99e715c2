// A pino-compatible logger surface: the process passes Conduit's pino logger; tests stay silent.

export interface SandboxLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: SandboxLogger = { debug: noop, info: noop, warn: noop, error: noop };
