// Seeded people and companies: the raw material of accounts, invitees and transcripts.
import { intBetween, pick, type Rng } from './random.ts';

const FIRST = [
  'Ada',
  'Amara',
  'Anders',
  'Aiko',
  'Bea',
  'Carlos',
  'Chen',
  'Dara',
  'Elif',
  'Emeka',
  'Farah',
  'Gustav',
  'Hana',
  'Ines',
  'Ivan',
  'Jonas',
  'Kavya',
  'Leila',
  'Liam',
  'Lucia',
  'Malik',
  'Mei',
  'Nadia',
  'Noah',
  'Olu',
  'Priya',
  'Rafael',
  'Sana',
  'Sofia',
  'Tariq',
  'Theo',
  'Uma',
  'Valentina',
  'Wei',
  'Yara',
  'Zoe',
] as const;
const LAST = [
  'Abe',
  'Andersson',
  'Banerjee',
  'Costa',
  'Dubois',
  'Eze',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Larsen',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Novak',
  'Murphy',
  'Lindqvist',
] as const;
const COMPANIES = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Vandelay',
  'Stark',
  'Wayne',
  'Tyrell',
  'Cyberdyne',
  'Soylent',
  'Wonka',
  'Massive Dynamic',
  'Aperture',
  'Oscorp',
  'Pied Piper',
  'Monarch',
  'Gringotts',
] as const;
const TLDS = ['com', 'io', 'co', 'dev', 'ai'] as const;

export interface Person {
  name: string;
  email: string;
}

export interface Company {
  name: string;
  domain: string;
}

const DOMAIN_STEMS = COMPANIES.map((name) => name.toLowerCase().replace(/\s+/g, ''));

export function companyFor(rng: Rng): Company {
  const index = Math.floor(rng() * COMPANIES.length);
  return { name: COMPANIES[index]!, domain: `${DOMAIN_STEMS[index]!}.${pick(rng, TLDS)}` };
}

/** A person at `domain`; `tag` keeps generated addresses unique across a run. */
export function personFor(rng: Rng, domain: string, tag?: number): Person {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  const local = `${first}.${last}`.toLowerCase() + (tag === undefined ? '' : String(tag));
  return { name: `${first} ${last}`, email: `${local}@${domain}` };
}

/** A display name for an address someone typed in (`jane.doe@x.com` → "Jane Doe"). */
export function nameFromEmail(email: string): string {
  const local = email.split('@')[0] ?? email;
  return (
    local
      .split(/[._+-]+/)
      .filter((part) => part && !/^\d+$/.test(part))
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join(' ') || local
  );
}

export function domainOf(email: string): string {
  return email.slice(email.indexOf('@') + 1);
}

export function teamSize(rng: Rng): number {
  return intBetween(rng, 3, 8);
}
