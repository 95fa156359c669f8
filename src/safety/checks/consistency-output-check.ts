/**
 * ConsistencyOutputCheck: the OutputCheck shape shared by the self-consistency, vote and grounding
 * checks: `firesBelow: true` and `firesWhen: 'below'` (the same fact twice — the score is a support score and
 * the policy's threshold fires when score < threshold) and `paramsSchema` (the JSON Schema of its policy
 * parameters, for validation with defaults).
 */
import type { OutputCheck, OutputCheckContext } from '../detector';
import { GatewayError } from '../../errors/gateway-error';

export interface ConsistencyOutputCheck extends OutputCheck {
  readonly firesBelow: true;
  readonly firesWhen: 'below';
  readonly paramsSchema: Record<string, unknown>;
}

/** Samples given by the caller, else drawn from the backend; never an empty list (fail closed). */
export async function obtainSamples(checkId: string, context: OutputCheckContext, count: number, temperature: number): Promise<string[]> {
  return (await obtainSamplesWithOrigin(checkId, context, count, temperature)).samples;
}

/** As obtainSamples, also saying whether they were drawn here (the generation path) or supplied. */
export async function obtainSamplesWithOrigin(
  checkId: string,
  context: OutputCheckContext,
  count: number,
  temperature: number,
): Promise<{ samples: string[]; drawn: boolean }> {
  if (context.samples && context.samples.length > 0) return { samples: context.samples, drawn: false };
  if (!context.drawSamples) {
    throw new GatewayError('invalid_request', `${checkId} needs samples: none were supplied and this request cannot draw them`);
  }
  const samples = await context.drawSamples(count, temperature);
  if (!Array.isArray(samples) || samples.length === 0) throw new GatewayError('backend_error', `${checkId}: the backend returned no samples`);
  return { samples, drawn: true };
}

export function numberParam(params: Record<string, unknown>, name: string, fallback: number, minimum: number, maximum: number): number {
  const value = params[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value > maximum) {
    throw new GatewayError('policy_invalid', `parameter ${name} must be a number in [${minimum}, ${maximum}]`);
  }
  return value;
}
