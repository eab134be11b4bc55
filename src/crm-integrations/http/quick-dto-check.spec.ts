import fc from 'fast-check';
import { plainToInstance, Type } from 'class-transformer';
import { IsOptional, IsString, MaxLength, ValidateNested, validateSync } from 'class-validator';
import { ActivityEventDto } from '../activities/activity-event.dto';
import { compileQuickDtoCheck } from './quick-dto-check';

/** class-validator's verdict, as the ingest route asks it. */
function classValidatorPasses(raw: Record<string, unknown>): boolean {
  const dto = plainToInstance(ActivityEventDto, raw);
  return validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }).length === 0;
}

const good = {
  eventId: 'evt_1',
  type: 'sent',
  messageId: '<msg-1@mail.penguinmails.com>',
  campaignId: 'cmp_42',
  email: 'john@example.com',
  subject: 'Quick question',
  occurredAt: '2026-12-05T10:00:00Z',
};

/**
 * Values each field may be sent with (undefined: left out): good ones, wrong types, the edges of its length, text a
 * validator could trip on.
 */
const VALUES: Record<string, unknown[]> = {
  eventId: [
    undefined,
    'evt',
    '',
    'x'.repeat(200),
    'x'.repeat(201),
    '😀'.repeat(200),
    7,
    null,
    ['evt'],
    { id: 1 },
  ],
  type: [
    undefined,
    'sent',
    'clicked',
    'bounced',
    'replied',
    'opened',
    'unsubscribed',
    'delivered',
    'SENT',
    '',
    3,
    null,
  ],
  messageId: [undefined, '<m@x>', '', 'm'.repeat(500), 'm'.repeat(501), true, null],
  campaignId: [undefined, 'c', '', 'c'.repeat(200), 'c'.repeat(201), 42, null],
  email: [
    undefined,
    'Ada@Example.com',
    'a@b',
    'a@b.co',
    'not-an-email',
    'a@b.c',
    ' a@b.co',
    'ä@bücher.de',
    '',
    1,
    null,
  ],
  subject: [undefined, 'Hello', '', 's'.repeat(998), 's'.repeat(999), 5, null],
  occurredAt: [
    undefined,
    '2026-12-05T10:00:00Z',
    '2026-12-05T10:00:00.123+01:00',
    '2026-12-05',
    '2026-W49-1',
    '2026-02-30T10:00:00Z',
    'yesterday',
    '',
    1733392800000,
    null,
  ],
  url: [
    undefined,
    'https://penguinmails.com/pricing',
    'penguinmails.com',
    'ftp://x.y/z',
    'https://',
    '',
    7,
    null,
  ],
  snippet: [undefined, 'Sounds good', 's'.repeat(2000), 's'.repeat(2001), 0, null],
  bounceType: [undefined, 'hard', 'soft', 'HARD', '', null, 1],
  reason: [undefined, '550 unknown user', 'r'.repeat(1000), 'r'.repeat(1001), false, null],
  secret: [undefined, 'an unknown field', 1],
};

/** Good values (none: leave the field out), so that a generated event is valid about half of the time. */
const GOOD: Record<string, unknown[]> = {
  eventId: ['evt', 'x'.repeat(200), '😀'.repeat(200)],
  type: ['sent', 'clicked', 'bounced', 'replied', 'opened', 'unsubscribed', 'delivered'],
  messageId: ['<m@x>', 'm'.repeat(500)],
  campaignId: ['c', 'c'.repeat(200), undefined],
  email: ['Ada@Example.com', 'a@b.co', 'ä@bücher.de'],
  subject: ['Hello', 's'.repeat(998), undefined],
  occurredAt: ['2026-12-05T10:00:00Z', '2026-12-05T10:00:00.123+01:00', '2026-12-05'],
  url: ['https://penguinmails.com/pricing', undefined],
  snippet: ['Sounds good', undefined],
  bounceType: ['hard', 'soft', undefined],
  reason: ['550 unknown user', undefined],
  secret: [undefined],
};

const eventArbitrary = fc
  .record(
    Object.fromEntries(
      Object.entries(VALUES).map(([field, values]) => [
        field,
        fc.oneof(
          { arbitrary: fc.constantFrom(...(GOOD[field] ?? [undefined])), weight: 30 },
          { arbitrary: fc.constantFrom(...values), weight: 1 },
        ),
      ]),
    ),
  )
  .map((fields) => {
    const event: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(fields)) if (value !== undefined) event[field] = value;
    return event;
  });

describe('the quick DTO check', () => {
  const quick = compileQuickDtoCheck(ActivityEventDto)!;

  it('is built for the activity event', () => {
    expect(quick).toBeDefined();
    expect(quick(good)).toBe(true);
  });

  it('agrees with class-validator on every field sent good, bad, missing or unknown', () => {
    for (const [field, values] of Object.entries(VALUES)) {
      for (const value of values) {
        for (const type of ['sent', 'clicked', 'bounced']) {
          const event: Record<string, unknown> = { ...good, type, [field]: value };
          if (value === undefined) delete event[field];
          expect({ field, value, type, quick: quick(event) }).toEqual({
            field,
            value,
            type,
            quick: classValidatorPasses(event),
          });
        }
      }
    }
  });

  it('agrees with class-validator on any mix of those fields', () => {
    let valid = 0;
    fc.assert(
      fc.property(eventArbitrary, (event) => {
        const passes = classValidatorPasses(event);
        if (passes) valid++;
        expect(quick(event)).toBe(passes);
      }),
      { numRuns: 3_000 },
    );
    // Both verdicts were put to the test.
    expect(valid).toBeGreaterThan(300);
    expect(valid).toBeLessThan(2_700);
  });

  it('is not built for a DTO with rules it does not mirror', () => {
    class Address {
      @IsString() city!: string;
    }
    class WithNested {
      @ValidateNested() @Type(() => Address) address!: Address;
    }
    class WithEach {
      @IsString({ each: true }) tags!: string[];
    }
    class WithDefault {
      @IsOptional() @MaxLength(5) note?: string = 'none';
    }
    expect(compileQuickDtoCheck(WithNested)).toBeUndefined();
    expect(compileQuickDtoCheck(WithEach)).toBeUndefined();
    expect(compileQuickDtoCheck(WithDefault)).toBeUndefined();
  });
});
