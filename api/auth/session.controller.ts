import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Role } from '../../worker/api-keys.js';
import { Public } from './auth.decorators.js';
import { tooMany } from './auth.guard.js';
import { AuthState } from './auth.state.js';
import { SignInDto } from './dto/sign-in.dto.js';
import { clearSessionCookieHeader, SESSION_TTL_SECONDS, sessionCookieHeader } from './session.js';

/** Who the caller is. */
export interface SessionView {
  authenticated: boolean;
  name?: string;
  role?: Role;
  /** How the caller authenticated. */
  via?: 'header' | 'cookie';
  /** When the session ends (cookie sessions only). */
  expiresAt?: string;
}

/** Dashboard sign-in: trades an API key for a signed session cookie, once. */
@ApiTags('session')
@Controller('session')
export class SessionController {
  constructor(private readonly auth: AuthState) {}

  /** Signs in: sets the HttpOnly, SameSite=Strict session cookie. */
  @Post()
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ description: 'Signed in; `Set-Cookie: fabrica_session=…` (HttpOnly, SameSite=Strict, Path=/).' })
  @ApiUnauthorizedResponse({ description: 'Unknown API key (counts against the address’s failed sign-ins).' })
  @ApiTooManyRequestsResponse({ description: 'Too many failed sign-ins from this address; `Retry-After`.' })
  async signIn(
    @Body() body: SignInDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView> {
    tooMany(res, await this.auth.blocked(req), 'too many failed sign-ins from this address; retry later');
    const entry = this.auth.match(body.apiKey);
    if (!entry) {
      tooMany(res, await this.auth.failed(req), 'too many failed sign-ins from this address; retry later');
      throw new UnauthorizedException('this API key is not valid');
    }
    const now = Date.now();
    res.setHeader('Set-Cookie', sessionCookieHeader(this.auth.signer.sign(entry, now), req.secure));
    res.setHeader('Cache-Control', 'no-store');
    return {
      authenticated: true,
      name: entry.name,
      role: entry.role,
      via: 'cookie',
      expiresAt: new Date(Math.floor(now / 1000) * 1000 + SESSION_TTL_SECONDS * 1000).toISOString(),
    };
  }

  /** Who you are: the key's name and role (never the key), or `authenticated: false`. */
  @Get()
  @Public()
  @ApiOkResponse({ description: 'The caller’s key name, role and how it authenticated.' })
  whoami(@Req() req: Request, @Res({ passthrough: true }) res: Response): SessionView {
    res.setHeader('Cache-Control', 'no-store');
    const id = this.auth.identify(req);
    if (id.via === 'header') return { authenticated: true, name: id.key.name, role: id.key.role, via: 'header' };
    if (id.via === 'cookie')
      return {
        authenticated: true,
        name: id.key.name,
        role: id.key.role,
        via: 'cookie',
        expiresAt: new Date(id.session.expires * 1000).toISOString(),
      };
    return { authenticated: false };
  }

  /** Signs out: removes the session cookie. */
  @Delete()
  @Public()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Signed out.' })
  signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.setHeader('Set-Cookie', clearSessionCookieHeader(req.secure));
  }
}
