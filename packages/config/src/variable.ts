// A variable is data: its name, meaning, defaults per mode and the schema of its value.
// The reader turns variables into values and collects every problem instead of stopping
// at the first, so one start-up attempt shows everything that needs fixing.
import type { z } from 'zod';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export const CONFIG_GROUPS = [
  'runtime',
  'database',
  'redis',
  'security',
  'api',
  'providers',
  'timings',
  'sandbox',
] as const;
export type ConfigGroup = (typeof CONFIG_GROUPS)[number];

export interface DefaultContext {
  readonly isTTY: boolean;
  /** Another variable as set (blank: undefined), for defaults built from it, e.g. a URL from a port. */
  readonly raw?: (name: string) => string | undefined;
}

/** A value, or for the few that depend on the terminal, a rule: its usual value and when it differs. */
export type DefaultValue =
  | string
  | { readonly shown: string; readonly note: string; readonly compute: (ctx: DefaultContext) => string };

export interface VariableSpec<T> {
  readonly name: string;
  readonly group: ConfigGroup;
  readonly description: string;
  readonly schema: z.ZodType<T, string>;
  /** Used in development and test. */
  readonly development?: DefaultValue;
  readonly production?: DefaultValue;
  /** When it must be set, e.g. "NODE_ENV=production", for the problem line and the docs. */
  readonly requiredWhen?: string;
  /** The fix, e.g. `set it to "k1:<base64 of 32 random bytes>" (openssl rand -base64 32)`. */
  readonly howToSet?: string;
  /** Its development default is published in this repository, so production refuses it. */
  readonly secret?: boolean;
}

export interface Variable<T> extends VariableSpec<unknown> {
  readonly optional: boolean;
  /** Carries the value type; never set. */
  readonly valueType?: T;
}

/** Always has a value: a default in every mode, or a problem line when missing. */
export function variable<T>(spec: VariableSpec<T>): Variable<T> {
  return { ...spec, optional: false };
}

/** May be unset; reads as undefined then. */
export function optionalVariable<T>(spec: VariableSpec<T>): Variable<T | undefined> {
  return { ...spec, optional: true };
}

/**
 * A default built from a port variable, e.g. `http://127.0.0.1:${port}`: so that moving a port
 * moves every URL that points at it. A port that is not a number is reported on its own line,
 * and the URL then keeps the documented port rather than adding a second, confusing problem.
 */
export function fromPort(
  portVariable: string,
  fallbackPort: number,
  build: (port: string) => string,
): DefaultValue {
  return {
    shown: build(String(fallbackPort)),
    note: `the port follows ${portVariable}`,
    compute: ({ raw }) => {
      const port = raw?.(portVariable)?.trim();
      return build(port !== undefined && /^\d+$/.test(port) ? port : String(fallbackPort));
    },
  };
}

export function defaultFor(v: Variable<unknown>, nodeEnv: NodeEnv): DefaultValue | undefined {
  return nodeEnv === 'production' ? v.production : v.development;
}

export function shownDefault(value: DefaultValue | undefined): string | undefined {
  return typeof value === 'object' ? value.shown : value;
}

export function defaultNote(value: DefaultValue | undefined): string | undefined {
  return typeof value === 'object' ? value.note : undefined;
}

export class EnvReader {
  readonly problems: string[] = [];
  readonly #failed = new Set<string>();
  readonly #env: NodeJS.ProcessEnv;
  readonly #ctx: DefaultContext;
  readonly nodeEnv: NodeEnv;

  constructor(env: NodeJS.ProcessEnv, nodeEnv: NodeEnv, ctx: DefaultContext) {
    this.#env = env;
    this.nodeEnv = nodeEnv;
    this.#ctx = ctx;
  }

  /** The value as set in the environment; blank counts as unset (compose files pass `FOO=`). */
  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  isSet(v: Variable<unknown>): boolean {
    return this.raw(v.name) !== undefined;
  }

  /** The parsed value. After a problem it returns a placeholder; loadConfig throws before anyone sees it. */
  read<T>(v: Variable<T>): T {
    const raw = this.raw(v.name);
    const fallback = defaultFor(v, this.nodeEnv);
    const ctx: DefaultContext = { ...this.#ctx, raw: (name) => this.raw(name) };
    const input = raw ?? (typeof fallback === 'object' ? fallback.compute(ctx) : fallback);
    if (input === undefined) {
      if (!v.optional) this.require(v);
      return undefined as T;
    }
    if (v.secret && this.nodeEnv === 'production' && raw !== undefined && raw.trim() === v.development) {
      this.problem(
        v,
        `is the development default, which is public; in production ${v.howToSet ?? 'set your own'}`,
      );
      return undefined as T;
    }
    const parsed = v.schema.safeParse(input);
    if (parsed.success) return parsed.data as T;
    for (const message of new Set(parsed.error.issues.map((issue) => issue.message)))
      this.problem(v, message);
    return undefined as T;
  }

  /** Reports a missing variable with its fix. */
  require(v: Variable<unknown>, when = v.requiredWhen): void {
    const fix = v.howToSet === undefined ? '' : `; ${v.howToSet}`;
    this.problem(v, `${when === undefined ? 'required' : `required when ${when}`}${fix}`);
  }

  problem(v: Variable<unknown> | string, message: string): void {
    const name = typeof v === 'string' ? v : v.name;
    this.#failed.add(name);
    this.problems.push(`${name}: ${message}`);
  }

  /** True when any of them had a problem, so a rule across them would only add noise. */
  failed(...vs: Variable<unknown>[]): boolean {
    return vs.some((v) => this.#failed.has(v.name));
  }
}
