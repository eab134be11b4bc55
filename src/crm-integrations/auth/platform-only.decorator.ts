import { SetMetadata } from '@nestjs/common';

export const PLATFORM_ONLY = 'crm:platform-only';

/**
 * A route only the platform token may call (registering or renaming a tenant, managing service tokens), even
 * when its path names a tenant: a tenant token gets a 403.
 */
export const PlatformOnly = (): MethodDecorator & ClassDecorator => SetMetadata(PLATFORM_ONLY, true);
