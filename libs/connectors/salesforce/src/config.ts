import { resolveAllowedApiHosts } from '@pm/connector-kit';
import { SALESFORCE_HTTP_FACTS } from './http-facts';

/** What the Salesforce connector is configured with: the connected app and the hosts it talks to. */
export interface SalesforceConnectorConfig {
  /** The connected app's consumer key. */
  clientId: string;
  /** The connected app's consumer secret. */
  clientSecret: string;
  /**
   * The OAuth host: `https://login.salesforce.com` (production), `https://test.salesforce.com` (sandbox orgs), a My
   * Domain, or a local Salesforce sandbox's base URL. Authorize, token and revoke live here.
   */
  loginUrl?: string;
  /** REST API version without the `v` (default '59.0'). */
  apiVersion?: string;
  /** Client timeout per HTTP call in milliseconds (default 60,000); past it the call fails with TIMEOUT. */
  timeoutMs?: number;
  /** Scopes asked for when the caller names none (default `api refresh_token`). */
  defaultScopes?: string[];
  /**
   * A unique external-id text field on Task that holds the PenguinMails activity key (installed with the app, e.g.
   * `PenguinMails_Activity_Key__c`). With it, activities are looked up by key before they are created and the
   * unique index refuses a second copy even when two workers race. Without it, the key is written into the Task's
   * Description and looked up among the contact's e-mail Tasks of that day (idempotent for redeliveries, not for
   * two concurrent deliveries of the same activity).
   */
  activityKeyField?: string;
  /** Daily API request allocation to plan with until `Sforce-Limit-Info` says otherwise (default 15,000). */
  dailyApiRequests?: number;
  /** Where an org's `instance_url` may point (default Salesforce's own hosts); `loginUrl`'s origin is added. */
  allowedApiHosts?: string[];
}

export interface ResolvedSalesforceConfig {
  clientId: string;
  clientSecret: string;
  loginUrl: string;
  apiVersion: string;
  timeoutMs: number;
  defaultScopes: string[];
  activityKeyField?: string;
  dailyApiRequests: number;
  allowedApiHosts: string[];
}

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
export const DEFAULT_API_VERSION = '59.0';

export function resolveConfig(config: SalesforceConnectorConfig): ResolvedSalesforceConfig {
  if (!config.clientId || !config.clientSecret) {
    throw new Error('Salesforce connector: clientId and clientSecret are required');
  }
  const apiVersion = config.apiVersion ?? DEFAULT_API_VERSION;
  if (!/^\d+\.0$/.test(apiVersion) || Number.parseInt(apiVersion, 10) < 46) {
    // sObject Collections upsert and the 200/201 upsert answers need v46.0.
    throw new Error(
      `Salesforce connector: apiVersion must look like "59.0" and be 46.0 or later, got "${apiVersion}"`,
    );
  }
  const loginUrl = (config.loginUrl ?? DEFAULT_LOGIN_URL).replace(/\/+$/, '');
  return {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    loginUrl,
    apiVersion,
    timeoutMs: config.timeoutMs ?? 60_000,
    defaultScopes: config.defaultScopes ?? ['api', 'refresh_token'],
    activityKeyField: config.activityKeyField,
    dailyApiRequests: config.dailyApiRequests ?? 15_000,
    allowedApiHosts: resolveAllowedApiHosts(
      SALESFORCE_HTTP_FACTS.allowedApiHosts ?? [],
      config.allowedApiHosts,
      [loginUrl],
    ),
  };
}
