import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';

export class InvalidParamDto {
  @ApiProperty({ example: 'limit' }) name!: string;
  @ApiProperty({ example: 'must not be greater than 500' }) reason!: string;
}

/** RFC 9457 problem details, as every error of the API is sent (`application/problem+json`). */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:problem:validation' }) type!: string;
  @ApiProperty({ example: 'Bad Request' }) title!: string;
  @ApiProperty({ example: 400 }) status!: number;
  @ApiPropertyOptional({ example: 'limit: must not be greater than 500' }) detail?: string;
  @ApiPropertyOptional({ example: '/api/v1/tenants/ws_1/sync-log' }) instance?: string;
  @ApiPropertyOptional({ type: [InvalidParamDto], description: 'Each bad field or limit, by name' })
  invalidParams?: InvalidParamDto[];
}

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'A parameter or body field is not valid (invalidParams names each)',
  401: 'No bearer token, or an unknown, revoked or expired one',
  403: 'The token does not reach this tenant, or the route needs the platform token',
  404: 'The tenant or the resource does not exist (or belongs to another tenant)',
  409: 'The resource is not in a state that allows this',
  413: 'The request body is larger than the limit (invalidParams names it)',
  422: 'A limit was exceeded (invalidParams names it)',
  502: 'The CRM refused or failed the call it was asked for',
  503: 'The CRM account’s rate limit or daily allocation is used up for now',
};

/** Documents error answers as problem+json; a description per status may replace the default one. */
export function ApiProblems(...responses: (number | [number, string])[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto, InvalidParamDto),
    ...responses.map((response) => {
      const [status, description] = Array.isArray(response)
        ? response
        : [response, DEFAULT_DESCRIPTIONS[response] ?? 'Error'];
      return ApiResponse({
        status,
        description,
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
      });
    }),
  );
}
