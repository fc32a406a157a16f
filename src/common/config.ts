/**
 * Validation of config files and external inputs with zod: one place that turns a schema failure into
 * one clear line.
 */
import type { z } from 'zod';
import { WirelabError } from './errors.js';

/** Parse `value` with `schema`, or throw E_CONFIG naming `what` and the first problem. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new WirelabError('E_CONFIG', `${what}${where}: ${issue?.message ?? 'invalid'}`);
}
