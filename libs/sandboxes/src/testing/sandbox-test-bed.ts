import { randomBytes } from 'node:crypto';
import { approveAuthorization } from '../kit';

/*
 * Booting a CRM sandbox for a test, written once for the connector tests and the app's sandbox tests. The
 * sandboxes know nothing of the product (layer rules), so the connector is described by shape only: what the
 * consent dance needs of it.
 */

/** Any CRM sandbox: starts on a free port (its base URL) and stops. */
export interface StartableSandbox {
  start(): Promise<string>;
  stop(): Promise<void>;
}

/** The part of a connector the sign-in uses (IntegrationPort's OAuth methods). */
export interface SandboxOAuthClient<Tokens> {
  buildAuthorizeUrl(request: { state: string; redirectUri: string; codeChallenge?: string }): string;
  exchangeCode(request: { code: string; redirectUri: string; codeVerifier?: string }): Promise<Tokens>;
}

/**
 * Signs in as the sandbox's user: the real consent page, Allow, the state checked on the way back, then the
 * connector's code exchange. Returns the connector's token set.
 */
export async function signInToSandbox<Tokens>(
  client: SandboxOAuthClient<Tokens>,
  redirectUri: string,
): Promise<Tokens> {
  const state = randomBytes(8).toString('hex');
  const redirect = await approveAuthorization(client.buildAuthorizeUrl({ state, redirectUri }));
  if (redirect.state !== state) throw new Error('The sandbox consent page returned another state');
  if (redirect.code === undefined) throw new Error('The sandbox consent page returned no code');
  return client.exchangeCode({ code: redirect.code, redirectUri });
}

/** The token set a connector's code exchange gives. */
export type TokensOf<Connector> = Connector extends SandboxOAuthClient<infer Tokens> ? Tokens : never;

/** A started sandbox with a connector pointed at it. */
export interface SandboxTestBed<Sandbox, Connector, Tokens> {
  sandbox: Sandbox;
  baseUrl: string;
  connector: Connector;
  /** A fresh sign-in (consent page, code exchange). */
  signIn(): Promise<Tokens>;
  close(): Promise<void>;
}

/**
 * Starts `sandbox`, builds the connector for its base URL, and gives the sign-in. A connector that fails to build
 * does not leave the sandbox running.
 */
export async function startSandboxTestBed<
  Sandbox extends StartableSandbox,
  Connector extends SandboxOAuthClient<unknown>,
>(options: {
  sandbox: Sandbox;
  connector: (baseUrl: string, sandbox: Sandbox) => Connector;
  redirectUri: string;
}): Promise<SandboxTestBed<Sandbox, Connector, TokensOf<Connector>>> {
  const { sandbox, redirectUri } = options;
  const baseUrl = await sandbox.start();
  let connector: Connector;
  try {
    connector = options.connector(baseUrl, sandbox);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return {
    sandbox,
    baseUrl,
    connector,
    signIn: () => signInToSandbox(connector, redirectUri) as Promise<TokensOf<Connector>>,
    close: () => sandbox.stop(),
  };
}
