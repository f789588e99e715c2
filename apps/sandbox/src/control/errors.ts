// Control API errors: RFC 9457 problem details that say what was wrong and what to do.

export class ControlError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}
