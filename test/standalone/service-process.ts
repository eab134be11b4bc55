import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

/** The compiled service (`npm test` builds first), started as a real process the way `npm start` runs it. */
export const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface ServiceProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): string;
  /** SIGTERM, as a clean shutdown; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash: nothing of the service runs its shutdown. */
  kill(): Promise<void>;
}

/** Starts the service and resolves once its banner is complete (the line `until` matches, by default the last one). */
export async function startServiceProcess(
  env: Record<string, string>,
  until: RegExp = /listening on (http:\/\/\S+)[\s\S]*database: [^\n]*\n/,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in 90 s:\n${output}`)), 90_000);
    const check = () => {
      const listening = output.match(/listening on (http:\/\/\S+)/);
      if (listening && until.test(output)) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
