import type { Params } from 'nestjs-pino';

/**
 * Paths pino blanks before a line is written. Tokens never reach a log: request auth headers, cookies, and any
 * field that looks like a credential anywhere in a logged object.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.password',
  '*.clientSecret',
  '*.client_secret',
  '*.token',
];

export function loggerOptions(level: string): Params {
  return {
    pinoHttp: {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // OAuth callbacks carry the code in the query string; log the path only.
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({
          id: req.id,
          method: req.method,
          url: String(req.url).split('?')[0],
        }),
      },
      autoLogging: { ignore: (req) => req.url === '/health' },
    },
  };
}
