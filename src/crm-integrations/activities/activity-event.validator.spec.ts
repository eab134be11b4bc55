import { checkEvent } from './activity-event.validator';

const event = {
  eventId: 'evt-1',
  type: 'sent',
  messageId: '<m-1@mail.penguinmails.com>',
  email: 'Ada@Example.COM',
  occurredAt: '2026-12-05T11:00:00+01:00',
};

describe('checking one e-mail event', () => {
  it('stores a good event with its e-mail normalised and its time read', () => {
    expect(checkEvent(event)).toEqual({
      ok: true,
      event: {
        eventId: 'evt-1',
        type: 'sent',
        messageId: '<m-1@mail.penguinmails.com>',
        campaignId: null,
        email: 'ada@example.com',
        subject: null,
        occurredAt: new Date('2026-12-05T10:00:00Z'),
        url: null,
        snippet: null,
        bounceType: null,
        reason: null,
      },
    });
  });

  it('names each bad field as class-validator words it', () => {
    expect(checkEvent({ ...event, type: 'clicked', email: 'nobody', extra: 1 })).toEqual({
      ok: false,
      eventId: 'evt-1',
      reason: [
        'extra: property extra should not exist',
        'email must be a valid e-mail address',
        'url must be shorter than or equal to 2048 characters',
        'url must be an absolute URL (required for clicked)',
      ].join('; '),
    });
  });

  it.each(['2026-W49-1', '2026-340', '2026-12-05T10:00:00,5Z', '20261205T100000Z'])(
    'refuses %s, an ISO-8601 form no clock here reads, naming occurredAt',
    (occurredAt) => {
      expect(checkEvent({ ...event, occurredAt })).toEqual({
        ok: false,
        eventId: 'evt-1',
        reason: 'occurredAt must be an ISO-8601 date and time',
      });
    },
  );
});
