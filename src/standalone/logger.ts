import type { Params } from 'nestjs-pino';
import pino from 'pino';
import pretty from 'pino-pretty';

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

/** JSON for machines (a pipe, a file, LOG_FORMAT=json); readable lines for a person at a terminal. */
export function resolveLogFormat(format: 'pretty' | 'json' | undefined): 'pretty' | 'json' {
  return format ?? (process.stdout.isTTY ? 'pretty' : 'json');
}

export function loggerOptions(level: string, format: 'pretty' | 'json' = 'json', file?: string): Params {
  const options = {
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
    autoLogging: { ignore: (req: { url?: string }) => req.url === '/health' },
  };
  // Synchronous appends, so every line is on disk when the process (or a test file) ends.
  if (file)
    return { pinoHttp: [options, pino.destination({ dest: file, append: true, sync: true, mkdir: true })] };
  if (format === 'json') return { pinoHttp: options };
  // In-process and synchronous (no worker thread), so lines keep their order with the start banner.
  const stream = pretty({
    colorize: true,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat:
      '{if context}[{context}] {end}{msg}{if req.method} {req.method} {req.url} {res.statusCode} {responseTime}ms{end}',
  });
  return { pinoHttp: [options, stream] };
}
