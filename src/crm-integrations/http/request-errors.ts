import { BadRequestException } from '@nestjs/common';

/** The problem+json shape (as ProblemDetails in problem-details.filter.ts, which imports this file). */
interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  invalidParams?: { name: string; reason: string }[];
}

/**
 * Nest turns the body parser's SyntaxError into a BadRequestException carrying the parser's message, which quotes
 * the body; recognised by that message, answered without it.
 */
const JSON_PARSE_MESSAGE =
  /in JSON at position \d+|is not valid JSON|Unexpected end of JSON input|^Unexpected token/;

function jsonParseMessage(exception: unknown): string | undefined {
  if (!(exception instanceof BadRequestException)) return undefined;
  const response = exception.getResponse();
  const message =
    typeof response === 'object' && response !== null
      ? (response as { message?: unknown }).message
      : response;
  return typeof message === 'string' && JSON_PARSE_MESSAGE.test(message) ? message : undefined;
}

/** The body parser's default limit (express.json's), named in the answer when a body is larger. */
export const BODY_LIMIT_TEXT = '100 kB';

/** A parser limit in bytes as a person reads it ("100 kB", "5 MB"). */
function limitText(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return BODY_LIMIT_TEXT;
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} kB`;
}

interface ParserError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  code?: string;
  charset?: string;
  encoding?: string;
  message?: string;
  limit?: number;
}

/**
 * Problems for errors raised before any controller: the body parser (http-errors with a `type`), zlib behind a
 * Content-Encoding, and the router's percent-decoding of path parameters. Each names the header, field or limit
 * and never echoes the body. Returns undefined for anything else.
 */
export function requestErrorProblem(
  exception: unknown,
  path: string | undefined,
): ProblemDetails | undefined {
  if (!exception || typeof exception !== 'object') return undefined;
  const parseMessage = jsonParseMessage(exception);
  if (parseMessage !== undefined) {
    const position = /position (\d+)/.exec(parseMessage)?.[1];
    const reason = `is not valid JSON${position ? ` (at position ${position})` : ''}`;
    return {
      type: 'urn:problem:validation',
      title: 'Bad Request',
      status: 400,
      detail: `body: ${reason}`,
      invalidParams: [{ name: 'body', reason }],
    };
  }
  const error = exception as ParserError;
  const status = error.status ?? error.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const problem = (code: number, name: string, reason: string): ProblemDetails => ({
    type: code === 400 ? 'urn:problem:validation' : 'about:blank',
    title: TITLES[code] ?? 'Bad Request',
    status: code,
    detail: `${name}: ${reason}`,
    invalidParams: [{ name, reason }],
  });
  switch (error.type) {
    case 'entity.too.large':
      return problem(413, 'body', `is larger than the ${limitText(error.limit)} limit`);
    case 'encoding.unsupported':
      return problem(
        415,
        'Content-Encoding',
        `"${error.encoding ?? 'unknown'}" is not supported (use gzip, deflate, br or identity)`,
      );
    case 'charset.unsupported':
      return problem(
        415,
        'Content-Type charset',
        `"${error.charset ?? 'unknown'}" is not supported (use utf-8)`,
      );
    case 'entity.parse.failed': {
      const position = /position (\d+)/.exec(error.message ?? '')?.[1];
      return problem(400, 'body', `is not valid JSON${position ? ` (at position ${position})` : ''}`);
    }
    case 'request.size.invalid':
    case 'request.aborted':
      return problem(400, 'body', 'did not arrive whole (its length does not match Content-Length)');
    default:
      break;
  }
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) {
    return problem(400, 'Content-Encoding', 'the body is not encoded as the header says');
  }
  if (exception instanceof URIError || /^Failed to decode param/.test(error.message ?? '')) {
    return problem(400, undefinedParamName(path), 'is not valid percent-encoded UTF-8');
  }
  if (error.expose) {
    return { type: 'about:blank', title: TITLES[status] ?? 'Bad Request', status, detail: TITLES[status] };
  }
  return undefined;
}

/**
 * The name of the path parameter that failed to decode: routes are `/…/tenants/:tenantId/connections/:connectionId`,
 * so the segment before a bad one names it ("tenants" → "tenantId").
 */
function undefinedParamName(path: string | undefined): string {
  const segments = (path ?? '').split('?')[0].split('/');
  const index = segments.findIndex((segment) => {
    try {
      decodeURIComponent(segment);
      return false;
    } catch {
      return true;
    }
  });
  const previous = index > 0 ? segments[index - 1] : '';
  return /^[a-z][a-z-]*s$/.test(previous)
    ? `${previous.slice(0, -1).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Id`
    : `path segment ${index + 1}`;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
};
