import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** What an API key can be: 1 to 512 URL-safe characters (a generated key is `fab_` + 43 of them). */
export const API_KEY_PATTERN = /^[A-Za-z0-9_.~-]+$/;

/** Body of `POST /session`. */
export class SignInDto {
  /** The API key to sign in with (sent once in the body; the cookie then names the key, never holds it). */
  @ApiProperty({
    description: 'An API key (X-API-Key value): 1 to 512 characters of A-Z, a-z, 0-9, `_`, `.`, `~` and `-`.',
    writeOnly: true,
    minLength: 1,
    maxLength: 512,
    pattern: API_KEY_PATTERN.source,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(API_KEY_PATTERN, { message: 'apiKey must be made of A-Z, a-z, 0-9, _, ., ~ and -' })
  apiKey!: string;
}
