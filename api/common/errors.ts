/** Domain errors the API raises; mapped to HTTP once, in {@link ApiExceptionFilter}. */
export class NotFoundError extends Error {
  constructor(what: string, id: string) {
    super(`${what} ${JSON.stringify(id)} not found`);
    this.name = 'NotFoundError';
  }
}

/** The action conflicts with the resource's state (e.g. cancelling a finished run). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * Input that matches the documented schema (the DTO's shape checks) but cannot be used: an impossible date, a
 * partition of another kind, an inverted or too long range, a name nothing is registered under. Mapped to 422, so
 * that 400 always means "not what the OpenAPI document describes".
 */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'InvalidInputError';
  }
}
