/** Time as the API's services see it; a test replaces `now` to move a day ahead instead of waiting. */
export interface ApiClock {
  now(): Date;
}

export const API_CLOCK = Symbol('API_CLOCK');

export const systemApiClock = (): ApiClock => ({ now: () => new Date() });
