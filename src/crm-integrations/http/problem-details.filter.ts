import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestErrorProblem } from './request-errors';

/** One invalid field, named as the client sent it ("settings.direction"). */
export interface InvalidParam {
  name: string;
  reason: string;
}

/** RFC 9457 problem details; `invalidParams` names each bad field. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  invalidParams?: InvalidParam[];
}

export class ValidationProblem extends HttpException {
  constructor(readonly invalidParams: InvalidParam[]) {
    super(
      {
        detail: invalidParams.map((param) => `${param.name}: ${param.reason}`).join('; '),
        invalidParams,
      },
      HttpStatus.BAD_REQUEST,
    );
  }
}

/** A limit was exceeded (a page size, a batch's count): 422, naming the limit. */
export class LimitProblem extends HttpException {
  constructor(readonly invalidParams: InvalidParam[]) {
    super(
      {
        detail: invalidParams.map((param) => `${param.name}: ${param.reason}`).join('; '),
        invalidParams,
      },
      HttpStatus.UNPROCESSABLE_ENTITY,
    );
  }
}

/** What the request points at is gone for good (a change feed cursor older than the feed keeps): 410. */
export class GoneProblem extends HttpException {
  constructor(readonly invalidParams: InvalidParam[]) {
    super(
      {
        detail: invalidParams.map((param) => `${param.name}: ${param.reason}`).join('; '),
        invalidParams,
      },
      HttpStatus.GONE,
    );
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Every error from the plugin's routes leaves as application/problem+json. Internal errors never leak detail. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request>();
    const problem = requestErrorProblem(exception, request.originalUrl) ?? this.toProblem(exception);
    problem.instance = request.originalUrl?.split('?')[0];
    if (problem.status >= 500) this.logInternalError(exception);
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  /**
   * An internal error at error level says what failed and where (name, driver code, stack frames) but not its
   * message: a database error's message holds the SQL with its parameters, i.e. a contact's details. The message
   * goes to debug level, for when someone turns it on to diagnose.
   */
  private logInternalError(exception: unknown): void {
    if (!(exception instanceof Error)) {
      this.logger.error('Unknown error (not an Error instance)');
      return;
    }
    const code = (exception as { code?: unknown }).code;
    const frames = (exception.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    this.logger.error(
      `${exception.constructor.name}${typeof code === 'string' ? ` (${code})` : ''}`,
      frames.join('\n'),
    );
    this.logger.debug(exception.message);
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const problem: ProblemDetails = {
        type:
          status === 400 && exception instanceof ValidationProblem
            ? 'urn:problem:validation'
            : exception instanceof LimitProblem
              ? 'urn:problem:limit-exceeded'
              : 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
      };
      if (typeof body === 'string') problem.detail = body;
      else if (body && typeof body === 'object') {
        const record = body as Record<string, unknown>;
        const message = record.detail ?? record.message;
        problem.detail = Array.isArray(message) ? message.join('; ') : (message as string | undefined);
        if (Array.isArray(record.invalidParams))
          problem.invalidParams = record.invalidParams as InvalidParam[];
      }
      return problem;
    }
    // Malformed JSON bodies reach us as SyntaxError from the body parser.
    if (
      exception instanceof SyntaxError &&
      'status' in exception &&
      (exception as { status: number }).status === 400
    ) {
      return {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'The request body is not valid JSON',
      };
    }
    // A body past the parser's limit (body-parser's PayloadTooLargeError).
    if ((exception as { type?: string } | null)?.type === 'entity.too.large') {
      const limit = (exception as { limit?: number }).limit;
      return {
        type: 'about:blank',
        title: 'Content Too Large',
        status: 413,
        detail: `The request body is larger than the limit${limit ? ` of ${limit} bytes` : ''}`,
      };
    }
    return {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred',
    };
  }
}
