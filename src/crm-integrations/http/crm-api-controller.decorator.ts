import { applyDecorators, Controller, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ServiceAuthGuard } from '../auth/service-auth.guard';
import { ApiProblems } from './api-problems.decorator';
import { ProblemDetailsFilter } from './problem-details.filter';
import { BodyShapePipe } from './body-shape.pipe';
import { apiValidationPipe } from './validation.pipe';

export const API_PREFIX = 'api/v1';

/**
 * A tenant-scoped API controller: service-token auth, DTO validation and problem+json errors are set here, not
 * globally, because a host app mounts this plugin beside routes of its own.
 */
export function CrmApiController(path: string, tag: string): ClassDecorator {
  return applyDecorators(
    Controller(`${API_PREFIX}/${path}`),
    ApiTags(tag),
    ApiBearerAuth(),
    // Every route may answer these; routes document their own 400/404/409/413/422.
    ApiProblems(401, 403),
    UseGuards(ServiceAuthGuard),
    // The body's shape (depth, NUL, lone surrogates, prototype keys) before any DTO code touches it.
    UsePipes(new BodyShapePipe(), apiValidationPipe),
    UseFilters(ProblemDetailsFilter),
  );
}
