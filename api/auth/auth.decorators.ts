import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { PUBLIC_EXTENSION, ROLE_EXTENSION } from '../common/openapi.js';
import type { Role } from '../../worker/api-keys.js';

/** Metadata key of {@link MinRole}. */
export const MIN_ROLE = 'fabrica:min-role';
/** Metadata key of {@link Public}. */
export const PUBLIC = 'fabrica:public';

/** The least role that may call the handler (GETs default to `viewer`, other methods to `operator`). */
export const MinRole = (role: Role) => applyDecorators(SetMetadata(MIN_ROLE, role), ApiExtension(ROLE_EXTENSION, role));

/** The handler needs no API key (health). */
export const Public = () => applyDecorators(SetMetadata(PUBLIC, true), ApiExtension(PUBLIC_EXTENSION, true));
