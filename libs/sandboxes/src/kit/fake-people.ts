import { SeededRandom } from './random';

/** One made-up person, shaped so every CRM sandbox can map it to its own contact/person record. */
export interface FakePerson {
  firstName: string;
  lastName: string;
  /** Unique per generator (contains the running index), lower case. */
  email: string;
  phone: string;
  title: string;
  company: FakeCompany;
  city: string;
  country: string;
}

export interface FakeCompany {
  name: string;
  /** Under .example (RFC 2606), so demo mail can never reach a real domain. */
  domain: string;
  industry: string;
}

const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
  'Katherine',
  'John',
  'Hedy',
  'Donald',
  'Sophie',
  'Niklaus',
  'Shafi',
  'Leslie',
  'Fei-Fei',
  'Guido',
  'Anita',
  'Bjarne',
  'Jean',
  'Yukihiro',
  'Mary',
  'James',
  'Joan',
  'Vint',
  'Lynn',
  'Andrew',
  'Chioma',
  'Mateo',
  'Aiko',
  'Priya',
  'Omar',
  'Zoë',
  'Søren',
  'Élodie',
] as const;
const LAST_NAMES = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
  'Johnson',
  'McCarthy',
  'Lamarr',
  'Knuth',
  'Wilson',
  'Wirth',
  'Goldwasser',
  'Lamport',
  'Li',
  'van Rossum',
  'Borg',
  'Stroustrup',
  'Sammet',
  'Matsumoto',
  'Keller',
  'Gosling',
  'Clarke',
  'Cerf',
  'Conway',
  'Tanenbaum',
  'Okafor',
  'García',
  'Tanaka',
  'Sharma',
  'Haddad',
  'Müller',
  'Kierkegaard',
  'Dubois',
] as const;
const COMPANY_WORDS = [
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
  'Gringotts',
  'Oscorp',
  'Aperture',
  'Monarch',
  'Dunder',
  'Pied Piper',
  'Massive',
  'Nakatomi',
] as const;
const COMPANY_SUFFIXES = ['Inc', 'GmbH', 'Ltd', 'Labs', 'Group', 'Systems', 'Partners', 'AG'] as const;
const INDUSTRIES = [
  'Software',
  'Manufacturing',
  'Retail',
  'Finance',
  'Healthcare',
  'Logistics',
  'Education',
] as const;
const TITLES = [
  'CEO',
  'CTO',
  'Head of Sales',
  'Account Executive',
  'Marketing Manager',
  'Office Manager',
  'Founder',
  'VP Engineering',
  'Procurement Lead',
  'Customer Success Manager',
  'Operations Director',
  'Sales Development Rep',
] as const;
const PLACES: ReadonlyArray<readonly [string, string]> = [
  ['Berlin', 'Germany'],
  ['London', 'United Kingdom'],
  ['Austin', 'United States'],
  ['Lisbon', 'Portugal'],
  ['Tallinn', 'Estonia'],
  ['Toronto', 'Canada'],
  ['Lagos', 'Nigeria'],
  ['Osaka', 'Japan'],
  ['Pune', 'India'],
  ['São Paulo', 'Brazil'],
];

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/**
 * Generates demo people and companies from a seeded random source. The n-th person of a generator with a given
 * seed is the same in every run, and emails never repeat within one generator.
 */
export class FakePersonGenerator {
  private personIndex = 0;
  private readonly random: SeededRandom;

  constructor(random: SeededRandom | number = 1) {
    this.random = typeof random === 'number' ? new SeededRandom(random) : random;
  }

  company(): FakeCompany {
    const word = this.random.pick(COMPANY_WORDS);
    const suffix = this.random.pick(COMPANY_SUFFIXES);
    return {
      name: `${word} ${suffix}`,
      domain: `${slug(word)}-${slug(suffix)}.example`,
      industry: this.random.pick(INDUSTRIES),
    };
  }

  person(company: FakeCompany = this.company()): FakePerson {
    const index = ++this.personIndex;
    const firstName = this.random.pick(FIRST_NAMES);
    const lastName = this.random.pick(LAST_NAMES);
    const [city, country] = this.random.pick(PLACES);
    return {
      firstName,
      lastName,
      email: `${slug(firstName)}.${slug(lastName)}.${index}@${company.domain}`,
      phone: `+1-555-${String(this.random.int(0, 999)).padStart(3, '0')}-${String(this.random.int(0, 9999)).padStart(4, '0')}`,
      title: this.random.pick(TITLES),
      company,
      city,
      country,
    };
  }

  /** Starts the sequence over: the next person is the first one again. */
  reset(): void {
    this.personIndex = 0;
    this.random.reset();
  }

  people(count: number): FakePerson[] {
    const result: FakePerson[] = [];
    for (let i = 0; i < count; i++) result.push(this.person());
    return result;
  }
}
