import { maxHeaderSize, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses before any middleware runs (headers over the size limit, a malformed request
 * line) are answered as problem+json too, instead of Node's bare plain-text status line.
 */
export function answerClientErrorsAsProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = tooLarge ? 431 : timeout ? 408 : 400;
    const title = tooLarge ? 'Request Header Fields Too Large' : timeout ? 'Request Timeout' : 'Bad Request';
    const detail = tooLarge
      ? `The request headers are larger than the ${Math.round(maxHeaderSize / 1024)} kB limit`
      : timeout
        ? 'The request did not arrive in time'
        : 'The request is not valid HTTP';
    const body = JSON.stringify({
      type: 'about:blank',
      title,
      status,
      detail,
      ...(tooLarge ? { invalidParams: [{ name: 'headers', reason: detail }] } : {}),
    });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
