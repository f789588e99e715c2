/** Thrown by loadConfig with every problem found, one readable line each. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: readonly string[]) {
    super(`configuration is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}
