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

/** Input that passed the DTO's shape checks but is still invalid (e.g. an impossible date); mapped to 400. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'InvalidInputError';
  }
}
