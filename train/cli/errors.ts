/** A mistake of the person running the CLI: printed as one line, exit code 1, no stack trace. */
export class CLIError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CLIError';
    this.exitCode = exitCode;
  }
}
