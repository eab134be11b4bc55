import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Between the connector and the sandbox: counts requests in flight, and can lose the answer to chosen requests. */
export class ForwardingProxy {
  inFlight = 0;
  maxInFlight = 0;
  /** Requests whose answer is thrown away after the sandbox applied them (the client sees a reset). */
  private readonly losing: Array<(method: string, path: string) => boolean> = [];
  private server?: http.Server;

  constructor(private readonly target: string) {}

  loseResponseOf(matches: (method: string, path: string) => boolean): void {
    this.losing.push(matches);
  }

  resetCounts(): void {
    this.maxInFlight = 0;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const url = new URL(req.url ?? '/', this.target);
      const upstream = http.request(url, { method: req.method, headers: req.headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          this.inFlight--;
          const lose = this.losing.findIndex((matches) => matches(req.method ?? '', url.pathname));
          if (lose >= 0) {
            this.losing.splice(lose, 1);
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      });
      upstream.on('error', () => {
        this.inFlight--;
        req.socket.destroy();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
