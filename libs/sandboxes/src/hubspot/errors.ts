// HubSpot's error bodies. Follows https://developers.hubspot.com/docs/api/error-handling:
// `{status: "error", message, correlationId, category, errors?, context?}`; OAuth token errors use
// `{status: "BAD_REFRESH_TOKEN", message, correlationId}` (https://developers.hubspot.com/docs/api/oauth/tokens).
import { randomUUID } from 'node:crypto';

export type HubSpotErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'CONFLICT'
  | 'OBJECT_ALREADY_EXISTS'
  | 'INVALID_AUTHENTICATION'
  | 'EXPIRED_AUTHENTICATION'
  | 'MISSING_SCOPES'
  | 'RATE_LIMITS'
  | 'INTERNAL_ERROR';

export interface HubSpotErrorBody {
  status: string;
  message: string;
  correlationId: string;
  category?: HubSpotErrorCategory;
  errors?: Array<{ message: string; code?: string; in?: string; context?: Record<string, string[]> }>;
  context?: Record<string, string[]>;
  [extra: string]: unknown;
}

/** An error a route handler throws; the sandbox's error middleware turns it into the HTTP response. */
export class HubSpotApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: HubSpotErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function correlationId(): string {
  return randomUUID();
}

export function errorBody(
  category: HubSpotErrorCategory,
  message: string,
  extra: Partial<HubSpotErrorBody> = {},
): HubSpotErrorBody {
  return { status: 'error', message, correlationId: correlationId(), category, ...extra };
}

export function validationError(message: string, extra: Partial<HubSpotErrorBody> = {}): HubSpotApiError {
  return new HubSpotApiError(400, errorBody('VALIDATION_ERROR', message, extra));
}

export function notFoundError(
  message = 'resource not found',
  extra: Partial<HubSpotErrorBody> = {},
): HubSpotApiError {
  return new HubSpotApiError(404, errorBody('OBJECT_NOT_FOUND', message, extra));
}

/**
 * One invalid property value, in the shape HubSpot embeds (as a JSON string) in
 * "Property values were not valid: [...]" messages.
 */
export interface PropertyValueError {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

export function propertyValueError(name: string, error: string, message: string): PropertyValueError {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

export function propertyValuesMessage(errors: PropertyValueError[]): string {
  return `Property values were not valid: ${JSON.stringify(errors)}`;
}

/** The 400 HubSpot answers when a write carries invalid property values. */
export function propertyValuesError(errors: PropertyValueError[]): HubSpotApiError {
  return validationError(propertyValuesMessage(errors), {
    errors: errors.map((error) => ({
      message: error.message,
      code: error.error,
      context: { propertyName: [error.name] },
    })),
  });
}

/** 409 for a contact created with an email another contact already has. */
export function contactExistsError(existingId: string): HubSpotApiError {
  return new HubSpotApiError(
    409,
    errorBody('CONFLICT', `Contact already exists. Existing ID: ${existingId}`),
  );
}
