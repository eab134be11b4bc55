import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';

export class InvalidParamDto {
  @ApiProperty({ example: 'fields[2].crm', description: 'The field at fault, as a path into the request' })
  name!: string;

  @ApiProperty({ example: '"Score__c" is a number field; the text of title cannot be written into it' })
  reason!: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:problem:validation' }) type!: string;
  @ApiProperty({ example: 'Bad Request' }) title!: string;
  @ApiProperty({ example: 400 }) status!: number;
  @ApiPropertyOptional() detail?: string;
  @ApiPropertyOptional() instance?: string;
  @ApiPropertyOptional({ type: [InvalidParamDto], description: 'One entry per bad field' })
  invalidParams?: InvalidParamDto[];
}

const problem = (status: number, description: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
  });

/** Documents a route's error answers: problem+json, `invalidParams` naming each bad field. */
export function ApiProblemResponses(
  ...statuses: (400 | 401 | 404 | 502 | 503)[]
): MethodDecorator & ClassDecorator {
  const descriptions: Record<number, string> = {
    400: 'Invalid request: invalidParams names each bad field',
    401: 'Missing or invalid service token',
    404: 'No such tenant, connection or record for this tenant',
    502: 'The CRM refused or failed the call it was asked for',
    503: 'The CRM account’s rate limit or daily allocation is used up for now',
  };
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto, InvalidParamDto),
    ...statuses.map((status) => problem(status, descriptions[status])),
  );
}
