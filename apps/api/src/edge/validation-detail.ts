// A schema refusal as problem details that name what was wrong: each ajv error becomes one
// sentence ("body has unknown property \"colour\""), and the list is kept as `errors` too.
import type { FastifyError } from 'fastify';
import type { Problem } from '../problem.ts';

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

export function validationProblem(err: FastifyError, instance: string): Problem {
  const where = err.validationContext ?? 'request';
  const errors = ((err.validation ?? []) as AjvError[]).map((e) => {
    const at = `${where}${e.instancePath.replace(/\//g, '.')}`;
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      return { at, property: name, problem: `${at} has unknown property "${name}"` };
    }
    if (e.keyword === 'required') {
      const name = String(e.params.missingProperty);
      return { at, property: name, problem: `${at} must have property "${name}"` };
    }
    return { at, problem: `${at} ${e.message ?? 'is not valid'}` };
  });
  const unknown = errors.filter((e) => e.problem.includes('unknown property')).map((e) => e.property);
  return {
    type: 'https://conduit.dev/problems/invalid-request',
    title: 'The request is not valid',
    status: 400,
    detail: errors.length > 0 ? errors.map((e) => e.problem).join('; ') : err.message,
    errors: errors.map((e) => e.problem),
    ...(unknown.length > 0 && { unknownProperties: unknown }),
    instance,
  };
}
