// Salesforce record ids: a 3-character key prefix naming the object (003 Contact, 00Q Lead, 001 Account,
// 00T Task, 02s EmailMessage), a 2-character instance/pod part, then a base-62 counter; 15 case-sensitive
// characters plus a 3-character case-insensitive checksum suffix (the 18-character form the REST API returns).
// Reference: "Working with Record IDs" in the Salesforce developer docs (the suffix algorithm is the documented
// one: each 5-character chunk gives a 5-bit mask of which characters are upper case, mapped onto A-Z0-5).

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The instance ("pod") part of every id this sandbox issues. */
const POD = '8d';

export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let mask = 0;
    for (let bit = 0; bit < 5; bit++) {
      const char = id15[chunk * 5 + bit];
      if (char >= 'A' && char <= 'Z') mask |= 1 << bit;
    }
    suffix += SUFFIX_ALPHABET[mask];
  }
  return suffix;
}

/** Converts a 15-character id to its 18-character form (18-character ids pass through). */
export function to18(id: string): string {
  return id.length === 15 ? id + checksumSuffix(id) : id;
}

export function isValidId(id: string): boolean {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) return false;
  return id.length === 15 || checksumSuffix(id.slice(0, 15)) === id.slice(15).toUpperCase();
}

/** Issues ids per key prefix, counting up from 1 (so ids are deterministic for a given sequence of inserts). */
export class SalesforceIdGenerator {
  private readonly counters = new Map<string, number>();

  next(keyPrefix: string): string {
    const count = (this.counters.get(keyPrefix) ?? 0) + 1;
    this.counters.set(keyPrefix, count);
    let encoded = '';
    let rest = count;
    while (rest > 0) {
      encoded = BASE62[rest % 62] + encoded;
      rest = Math.floor(rest / 62);
    }
    const id15 = keyPrefix + POD + encoded.padStart(10, '0');
    return id15 + checksumSuffix(id15);
  }

  reset(): void {
    this.counters.clear();
  }
}
