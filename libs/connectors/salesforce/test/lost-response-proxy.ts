import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy in front of a sandbox that can lose answers: the request reaches the CRM and is applied,
 * then the proxy hangs up instead of answering — what a reset after the CRM committed looks like to the client.
 * (The sandbox's own dropConnection fault drops the request before the CRM sees it.)
 */
export class LostResponseProxy {
  private server: Server | undefined;
  private losing: { method: string; path: RegExp; remaining: number } | undefined;
  baseUrl = '';

  constructor(private readonly upstream: string) {}

  /** Lose the answers of the next `times` requests matching method and path. */
  loseNext(method: string, path: RegExp, times = 1): void {
    this.losing = { method, path, remaining: times };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.forward(req).then(
        (answer) => {
          const losing = this.losing;
          if (
            losing &&
            losing.remaining > 0 &&
            req.method === losing.method &&
            losing.path.test(req.url ?? '')
          ) {
            losing.remaining--;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        },
        () => req.socket.destroy(),
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async forward(
    req: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'sforce-query-options']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = await fetch(`${this.upstream}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const answerHeaders: Record<string, string> = {};
    for (const name of ['content-type', 'sforce-limit-info', 'retry-after']) {
      const value = upstream.headers.get(name);
      if (value !== null) answerHeaders[name] = value;
    }
    return {
      status: upstream.status,
      headers: answerHeaders,
      body: Buffer.from(await upstream.arrayBuffer()),
    };
  }
}
