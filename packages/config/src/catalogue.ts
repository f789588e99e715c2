// The list of variables, in documentation order, described for people and doc generators.
import { apiVariables } from './groups/api.ts';
import { databaseVariables } from './groups/database.ts';
import { integrationVariables } from './groups/integration.ts';
import { providerVariables } from './groups/providers.ts';
import { redisVariables } from './groups/redis.ts';
import { runtimeVariables } from './groups/runtime.ts';
import { sandboxVariables } from './groups/sandbox.ts';
import { securityVariables } from './groups/security.ts';
import { timingVariables } from './groups/timings.ts';
import { CONFIG_GROUPS, defaultNote, shownDefault } from './variable.ts';
import type { ConfigGroup, Variable } from './variable.ts';

export const VARIABLES: readonly Variable<unknown>[] = [
  ...runtimeVariables,
  ...databaseVariables,
  ...redisVariables,
  ...securityVariables,
  ...apiVariables,
  ...integrationVariables,
  ...providerVariables,
  ...timingVariables,
  ...sandboxVariables,
];

export interface ConfigVariable {
  readonly name: string;
  readonly group: ConfigGroup;
  readonly description: string;
  /** Default in development and test, as written in the environment; undefined: unset. */
  readonly developmentDefault: string | undefined;
  /** When the development default depends on circumstances, e.g. "json when stdout is not a terminal". */
  readonly developmentDefaultNote: string | undefined;
  /** Default in production; undefined: unset (see requiredWhen). */
  readonly productionDefault: string | undefined;
  /** When it must be set, e.g. "NODE_ENV=production"; undefined: never. */
  readonly requiredWhen: string | undefined;
  /** Its development default is public, so production refuses it. */
  readonly secret: boolean;
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze(
  VARIABLES.map((v) =>
    Object.freeze({
      name: v.name,
      group: v.group,
      description: v.description,
      developmentDefault: shownDefault(v.development),
      developmentDefaultNote: defaultNote(v.development),
      productionDefault: shownDefault(v.production),
      requiredWhen: v.requiredWhen,
      secret: v.secret ?? false,
    }),
  ),
);

export interface ConfigGroupDescription {
  readonly group: ConfigGroup;
  readonly variables: readonly ConfigVariable[];
}

/** The variables by group, in documentation order. */
export function describeConfig(): ConfigGroupDescription[] {
  return CONFIG_GROUPS.map((group) => ({
    group,
    variables: CONFIG_VARIABLES.filter((v) => v.group === group),
  }));
}
