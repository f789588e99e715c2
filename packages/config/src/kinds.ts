// The kinds of value a variable can hold, as zod schemas over the raw string. Each failure
// message is the part of a problem line after "NAME: " — what was wrong, what was expected,
// and how to fix it. Messages about secrets never repeat the value.
import { z } from 'zod';

type Issue = { readonly input?: unknown };

const MAX_SHOWN = 80;

/** A raw value as quoted in a problem line: credentials in URLs masked, long values cut. */
export function show(input: unknown): string {
  const text = String(input).replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@');
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, noun: string) {
  return z
    .string()
    .trim()
    .pipe(
      z.enum(values, {
        error: (iss: Issue) => `${show(iss.input)} is not ${noun}; expected one of ${values.join(', ')}`,
      }),
    );
}

export interface IntegerOptions {
  readonly min: number;
  readonly max?: number;
  /** What the number counts, e.g. "a number of seconds". */
  readonly noun: string;
  readonly example: number;
}

export function integer({ min, max = Number.MAX_SAFE_INTEGER, noun, example }: IntegerOptions) {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `${min}–${max}`;
  const error = (iss: Issue) =>
    `${show(iss.input)} is not ${noun}; expected an integer ${range} (e.g. ${example})`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.int({ error }).min(min, { error }).max(max, { error }));
}

export function port(example: number) {
  return integer({ min: 1, max: 65_535, noun: 'a port number', example });
}

export function host(example: string) {
  return z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.\-:[\]]+$/, {
      error: (iss: Issue) =>
        `${show(iss.input)} is not a host name or IP address; expected e.g. ${example} (0.0.0.0 listens on every interface)`,
    });
}

export interface UrlOptions {
  readonly protocols: readonly string[];
  /** What kind of URL, e.g. "a Postgres URL". */
  readonly noun: string;
  readonly example: string;
  /** A base URL others append paths to: its trailing slashes are dropped. */
  readonly base?: boolean;
}

export function url({ protocols, noun, example, base = false }: UrlOptions) {
  const schemes = protocols.map((p) => `${p}://`).join(' or ');
  const schema = z
    .string()
    .trim()
    .pipe(
      z.url({
        protocol: new RegExp(`^(${protocols.join('|')})$`),
        error: (iss: Issue) =>
          `${show(iss.input)} is not ${noun}; expected a ${schemes} URL (e.g. ${example})`,
      }),
    );
  return base ? schema.transform((u) => u.replace(/\/+$/, '')) : schema;
}

/** `off` switches an optional feature off even where a default would apply. */
export function orOff<T>(schema: z.ZodType<T, string>) {
  return z.string().transform((raw, ctx): T | undefined => {
    if (raw.trim().toLowerCase() === 'off') return undefined;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.issues.push({ code: 'custom', message: issue.message, input: raw });
    return z.NEVER;
  });
}

/**
 * The namespace of every Conduit key. Without a `{…}` hash tag, Conduit tags each queue (and
 * each group of keys a script touches together) itself, so a Redis Cluster spreads them; a tag
 * in the prefix pins every key to its one slot. A tag must be closed and non-empty.
 */
export function queuePrefix() {
  const expected =
    'expected a prefix such as conduit (keys spread over a Redis Cluster) or {conduit} (every key in one slot)';
  return z
    .string()
    .trim()
    .transform((prefix, ctx) => {
      const open = prefix.indexOf('{');
      const close = open === -1 ? prefix.indexOf('}') : prefix.indexOf('}', open);
      let wrong: string | undefined;
      if (prefix === '') wrong = 'is empty';
      else if (open !== -1 && close === -1) wrong = 'has a "{" with no matching "}"';
      else if (open === -1 && close !== -1) wrong = 'has a "}" with no "{" before it';
      else if (open !== -1 && close === open + 1) wrong = 'has an empty hash tag "{}", which Redis ignores';
      if (wrong === undefined) return prefix;
      ctx.issues.push({ code: 'custom', message: `${show(prefix)} ${wrong}; ${expected}`, input: prefix });
      return z.NEVER;
    });
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** `host:port,host:port`: the Redis Cluster nodes to start from (any of them; the rest are discovered). */
export function redisClusterNodes() {
  const example = '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379';
  return z.string().transform((raw, ctx): RedisNode[] => {
    const nodes: RedisNode[] = [];
    const problem = (message: string) => ctx.issues.push({ code: 'custom', message, input: raw });
    const list = entries(raw);
    if (list.length === 0)
      problem(`has no nodes; expected host:port entries separated by commas (e.g. ${example})`);
    list.forEach((entry, i) => {
      const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      const which = `node ${i + 1} (${show(entry)})`;
      if (/^[a-z]+:\/\//i.test(entry))
        problem(`${which} is a URL; expected host:port without a scheme (e.g. ${example})`);
      else if (!m) problem(`${which} is not host:port; expected e.g. ${example}`);
      else if (port < 1 || port > 65_535) problem(`${which} has the port ${m[2]}; expected 1–65535`);
      else {
        const host = m[1]!.replace(/^\[|\]$/g, '');
        if (nodes.some((n) => n.host === host && n.port === port))
          problem(`${which} appears twice; list each node once`);
        else nodes.push({ host, port });
      }
    });
    return nodes;
  });
}

function entries(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** A comma-separated list of names, each one of `values`; duplicates are kept once. */
export function namesFrom<const T extends readonly [string, ...string[]]>(values: T, noun: string) {
  return z.string().transform((raw, ctx): T[number][] => {
    const result: T[number][] = [];
    for (const name of entries(raw)) {
      if (!(values as readonly string[]).includes(name)) {
        ctx.issues.push({
          code: 'custom',
          message: `${show(name)} is not ${noun}; expected a comma-separated list of ${values.join(', ')}`,
          input: raw,
        });
      } else if (!result.includes(name)) result.push(name);
    }
    return result;
  });
}

/** AES-256: the vault refuses any other length, and so does the configuration, before anything starts. */
const KEY_BYTES = 32;

export interface EncryptionKey {
  readonly id: string;
  /** Base64 of 32 key bytes. */
  readonly key: string;
}

/** `id:base64,id:base64` — the first key encrypts, all of them decrypt. */
export function encryptionKeys(howToSet: string) {
  return z.string().transform((raw, ctx): EncryptionKey[] => {
    const keys: EncryptionKey[] = [];
    const list = entries(raw);
    const problem = (message: string) => ctx.issues.push({ code: 'custom', message, input: raw });
    if (list.length === 0) problem(`has no keys; ${howToSet}`);
    list.forEach((entry, i) => {
      const colon = entry.indexOf(':');
      const id = colon === -1 ? '' : entry.slice(0, colon).trim();
      const key = colon === -1 ? '' : entry.slice(colon + 1).trim();
      const which = `key ${i + 1}`;
      if (colon === -1) problem(`${which} is not "id:base64"; expected e.g. k1:<base64 of 32 random bytes>`);
      else if (!/^[A-Za-z0-9_.-]+$/.test(id))
        problem(
          `${which} has the id ${show(id)}; expected letters, digits, "_", "." or "-" before the ":" (e.g. k1)`,
        );
      else if (key === '') problem(`key "${id}" has no value after the ":"; ${howToSet}`);
      else if (keys.some((k) => k.id === id))
        problem(`key id "${id}" appears twice; give every key its own id (e.g. k1, k2)`);
      else if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0)
        problem(`key "${id}" is not valid base64; ${howToSet}`);
      else if (Buffer.byteLength(key, 'base64') !== KEY_BYTES)
        problem(
          `key "${id}" is ${Buffer.byteLength(key, 'base64')} bytes, expected ${KEY_BYTES}; ${howToSet}`,
        );
      else keys.push({ id, key });
    });
    return keys;
  });
}

export function secretText(minLength: number, howToSet: string) {
  return z
    .string()
    .trim()
    .min(minLength, {
      error: (iss: Issue) =>
        `is ${String(iss.input).length} characters, expected at least ${minLength}; ${howToSet}`,
    });
}

export const OPERATOR_ROLES = ['admin', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export interface Operator {
  readonly name: string;
  readonly role: OperatorRole;
  readonly password: string;
}

/** `name:role:password,…`; the password is everything after the second colon. */
export function operators(howToSet: string) {
  return z.string().transform((raw, ctx): Operator[] => {
    const result: Operator[] = [];
    const problem = (message: string) => ctx.issues.push({ code: 'custom', message, input: raw });
    const list = entries(raw);
    if (list.length === 0) problem(`has no operators; ${howToSet}`);
    list.forEach((entry, i) => {
      const [name = '', role = '', ...rest] = entry.split(':');
      const password = rest.join(':');
      const which = `operator ${i + 1}${name === '' ? '' : ` ("${name}")`}`;
      if (rest.length === 0 || name === '' || password === '')
        problem(`${which} is not "name:role:password"; expected e.g. alice:admin:<a long random password>`);
      else if (!(OPERATOR_ROLES as readonly string[]).includes(role))
        problem(`${which} has the role ${show(role)}; expected ${OPERATOR_ROLES.join(' or ')}`);
      else if (result.some((o) => o.name === name))
        problem(`${which} appears twice; give each operator one entry`);
      else result.push({ name, role: role as OperatorRole, password });
    });
    return result;
  });
}

/** A Standard Webhooks signing secret: `whsec_` followed by base64. */
export function webhookSecret(howToSet: string) {
  return z
    .string()
    .trim()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, {
      error: (iss: Issue) =>
        String(iss.input).startsWith('whsec_')
          ? `is not base64 after "whsec_"; ${howToSet}`
          : `does not start with "whsec_"; ${howToSet}`,
    });
}

/** Any non-empty text, e.g. an OAuth client id. */
export function text(what: string) {
  return z
    .string()
    .trim()
    .min(1, { error: () => `is empty; expected ${what}` });
}

export function jsonObject(example: string) {
  return z.string().transform((raw, ctx): Record<string, unknown> => {
    const problem = (wrong: string) =>
      ctx.issues.push({
        code: 'custom',
        message: `${wrong}; expected a JSON object (e.g. ${example})`,
        input: raw,
      });
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problem(`is not valid JSON (${(error as Error).message})`);
      return z.NEVER;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problem(`is JSON but not an object`);
      return z.NEVER;
    }
    return value as Record<string, unknown>;
  });
}

/** A web origin (`https://app.example.com`, `http://localhost:5173`) or `*`; normalised as browsers compare it. */
export function appOrigin() {
  return z
    .string()
    .trim()
    .transform((raw, ctx) => {
      if (raw === '*') return raw;
      let parsed: URL | undefined;
      try {
        parsed = new URL(raw);
      } catch {
        parsed = undefined;
      }
      const bare =
        parsed &&
        parsed.pathname === '/' &&
        !parsed.search &&
        !parsed.hash &&
        !parsed.username &&
        !parsed.password;
      if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !bare) {
        ctx.issues.push({
          code: 'custom',
          message: `${show(raw)} is not an origin; expected scheme, host and optional port with no path, e.g. https://app.example.com (or * in development)`,
          input: raw,
        });
        return z.NEVER;
      }
      return parsed.origin;
    });
}
