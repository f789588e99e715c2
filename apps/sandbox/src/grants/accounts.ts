// The users who consent. Accounts live per provider namespace (the API base path), so GitHub's
// OAuth app and GitHub App see the same user; the same email always maps to the same account.
import { type ProviderKey, providerSpec } from '@conduit/core';
import { companyFor, nameFromEmail, personFor } from '../people.ts';
import { hash32, seededRng, type Rng } from '../random.ts';

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly namespace: string;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
const DISCORD_SNOWFLAKE_BASE = (1_700_000_000_000n - DISCORD_EPOCH) << 22n;

/** Ids shaped like each dialect's: numeric for GitHub/Fathom, 21 digits for Google, snowflakes for Discord. */
const ID_FORMATS: Readonly<Record<string, (seq: number, salt: () => number) => string>> = {
  fathom: (seq) => String(100_000 + seq),
  spotify: (seq, salt) =>
    `${(salt() % 36 ** 6).toString(36).padStart(6, '0')}${seq.toString(36).padStart(8, '0')}`,
  google: (seq, salt) => `1${String(salt() % 1_000_000).padStart(6, '0')}${String(seq).padStart(14, '0')}`,
  discord: (seq) => String(DISCORD_SNOWFLAKE_BASE + BigInt(seq)),
  github: (seq) => String(9_000_000 + seq),
};

/** A declared provider's ids: its dialect's shape, else a number counting up from `accountIdStart`. */
function accountId(provider: ProviderKey, seq: number, salt: () => number): string {
  const sandbox = providerSpec(provider).sandbox;
  const format = sandbox.dialect === undefined ? undefined : ID_FORMATS[sandbox.dialect];
  return format ? format(seq, salt) : String((sandbox.accountIdStart ?? 100_000) + seq);
}

export class AccountDirectory {
  private readonly byKey = new Map<string, Account>();
  private seq = 0;
  /** one stream for generated people: the n-th generated person is the same for a seed */
  private people: Rng;

  constructor(private readonly seed: number) {
    this.people = seededRng(seed, 'people');
  }

  /** The account for `email` (created on first sight), or a freshly generated person. */
  getOrCreate(provider: ProviderKey, email?: string): Account {
    return this.resolve(provider, email).account;
  }

  /** The same, saying whether the account was created just now. */
  resolve(provider: ProviderKey, email?: string): { account: Account; created: boolean } {
    const before = this.seq;
    let account: Account;
    if (email !== undefined) account = this.named(provider, email, nameFromEmail(email));
    else {
      const person = personFor(this.people, companyFor(this.people).domain, this.seq + 1);
      account = this.named(provider, person.email, person.name);
    }
    return { account, created: this.seq !== before };
  }

  private named(provider: ProviderKey, email: string, name: string): Account {
    const namespace = providerSpec(provider).sandboxPaths.apiBaseUrl;
    const key = `${namespace}|${email.toLowerCase()}`;
    const known = this.byKey.get(key);
    if (known) return known;
    const account = this.make(provider, namespace, email, name);
    this.byKey.set(key, account);
    return account;
  }

  /** Every account, with the count that numbers the next one: what a snapshot keeps. */
  entries(): { accounts: Account[]; seq: number } {
    return { accounts: [...this.byKey.values()], seq: this.seq };
  }

  /** Takes back the accounts of a snapshot. */
  adopt(accounts: readonly Account[], seq: number): void {
    for (const a of accounts) this.byKey.set(`${a.namespace}|${a.email.toLowerCase()}`, a);
    this.seq = Math.max(this.seq, seq);
  }

  private make(provider: ProviderKey, namespace: string, email: string, name: string): Account {
    this.seq += 1;
    const id = accountId(provider, this.seq, () => hash32(`${this.seed}:${email}`));
    return { id, email, name, namespace };
  }

  clear(): void {
    this.byKey.clear();
    this.seq = 0;
    this.people = seededRng(this.seed, 'people');
  }
}
