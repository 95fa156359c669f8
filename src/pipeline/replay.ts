/**
 * replayAuditRecord: re-runs a recorded request — its input (where the audit level kept it), decoding
 * settings and seed, policy and constraint — on the model configured now, and reports whether the
 * decision and the outputs match the record. The replay itself is not appended to the audit log (it
 * runs with an in-memory store); a policy whose revision has changed since is reported as such.
 */
import crypto from 'node:crypto';
import type { AuditRecord } from '../audit/audit-store';
import type { ChatMessage } from '../backends/backend';
import { anonymousPrincipal } from '../access/api-keys';
import { loadConfig } from '../config/config';
import type { ConstraintSpec, LexicalSpec } from '../decoding/constraint';
import { toGatewayError } from '../errors/gateway-error';
import { createLogger } from '../logging/logger';
import { createGateway } from '../server/create-gateway';
import type { GenerationRequest } from './generation-request';
import { createRequestContext, runGeneration } from './pipeline';

export interface ReplayReport {
  match: boolean;
  id: string;
  reason?: string;
  policy: { name: string | null; recorded_revision: string | null; current_revision: string | null };
  decision: { recorded: string | null; replayed: string | null };
  outputs: Array<{ choice: number; match: boolean; recorded?: string; recorded_sha256?: string; replayed: string }>;
}

interface ReplayExtras {
  api?: GenerationRequest['api'];
  constraint?: ConstraintSpec;
  lexical?: LexicalSpec;
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** The request as recorded; throws with a reason when the record did not keep what a replay needs. */
export function requestFromRecord(record: AuditRecord): GenerationRequest {
  const event = record.event;
  if (!event.input || event.input.level !== 'full') {
    throw new Error(`record ${record.id} kept its input at audit level '${event.input?.level ?? 'none'}'; only 'full' can be replayed`);
  }
  const attributes = event.attributes;
  const extras = ((event as unknown as { replay?: ReplayExtras }).replay ?? {}) as ReplayExtras;
  if (attributes['rein.constraint.type'] && !extras.constraint && attributes['rein.constraint.type'] !== 'lexical') {
    throw new Error(`record ${record.id} used a ${attributes['rein.constraint.type']} constraint that the record does not keep`);
  }
  let prompt: string | undefined;
  const messages: ChatMessage[] = [];
  const context: string[] = [];
  for (const part of event.input.parts) {
    if (part.source === 'prompt') prompt = part.text;
    else if (part.source.startsWith('messages/')) messages[Number(part.source.slice(9))] = { role: (part.role ?? 'user') as ChatMessage['role'], content: part.text };
    else if (part.source.startsWith('context/')) context[Number(part.source.slice(8))] = part.text;
  }
  const seed = attributes['gen_ai.request.seed'];
  if (seed === undefined) throw new Error(`record ${record.id} has no seed`);
  return {
    api: extras.api ?? (messages.length ? 'chat' : 'native'),
    model: attributes['gen_ai.request.model'],
    prompt,
    messages: messages.length ? messages : undefined,
    maxTokens: attributes['gen_ai.request.max_tokens'],
    temperature: attributes['gen_ai.request.temperature'] ?? 1,
    topP: attributes['gen_ai.request.top_p'] ?? 1,
    topK: attributes['gen_ai.request.top_k'] ?? 0,
    minP: attributes['rein.request.min_p'] ?? 0,
    repetitionPenalty: attributes['rein.request.repetition_penalty'] ?? 1,
    seed,
    seedGiven: true,
    n: attributes['gen_ai.request.choice.count'] ?? 1,
    stop: attributes['gen_ai.request.stop_sequences'] ?? [],
    stream: false,
    constraint: extras.constraint,
    lexical: extras.lexical,
    policy: event.policy?.name,
    context,
  };
}

export async function replayAuditRecord(record: AuditRecord, options: { configFile?: string } = {}): Promise<ReplayReport & Record<string, unknown>> {
  const request = requestFromRecord(record);
  const config = loadConfig({ file: options.configFile, overrides: { auditDb: 'sqlite::memory:', logLevel: 'error' } });
  const gateway = await createGateway({ ...config, policies: { ...config.policies, watch: false } }, { logger: createLogger({ level: 'error' }) });
  const event = record.event;
  const report: ReplayReport = {
    match: false,
    id: record.id,
    policy: { name: event.policy?.name ?? null, recorded_revision: event.policy?.revision ?? null, current_revision: null },
    decision: { recorded: event.decision, replayed: null },
    outputs: [],
  };
  try {
    const current = request.policy ? gateway.policyStore.get(request.policy) : undefined;
    report.policy.current_revision = current?.revision ?? null;
    const context = createRequestContext({ requestId: `replay-${record.id}`, principal: anonymousPrincipal(), route: 'replay', request, signal: new AbortController().signal });
    let replayedOutputs: string[] = [];
    try {
      const result = await runGeneration({ ...gateway.deps, audit: undefined }, context);
      report.decision.replayed = result.decision;
      replayedOutputs = result.choices.map((choice) => choice.rawText ?? choice.text);
    } catch (error) {
      const gatewayError = toGatewayError(error);
      report.decision.replayed = gatewayError.code === 'content_filter' ? 'block' : `error:${gatewayError.code}`;
    }
    const recordedParts = event.output?.parts ?? [];
    report.outputs = replayedOutputs.map((replayed, choice) => {
      const recorded = recordedParts.find((part) => part.source === `choices/${choice}`) as { text?: string; sha256?: string } | undefined;
      const match = recorded?.text !== undefined ? recorded.text === replayed : recorded?.sha256 !== undefined ? recorded.sha256 === sha256(replayed) : false;
      return { choice, match, ...(recorded?.text !== undefined ? { recorded: recorded.text } : {}), ...(recorded?.sha256 ? { recorded_sha256: recorded.sha256 } : {}), replayed };
    });
    const decisionMatches = report.decision.recorded === report.decision.replayed || (report.decision.recorded === null && report.decision.replayed?.startsWith('error:') === true);
    const outputsMatch = report.outputs.every((output) => output.match) && report.outputs.length === recordedParts.length;
    report.match = decisionMatches && outputsMatch;
    if (!report.match) {
      report.reason =
        report.policy.recorded_revision !== report.policy.current_revision
          ? `the policy '${report.policy.name}' has changed since (revision ${report.policy.recorded_revision} → ${report.policy.current_revision})`
          : !decisionMatches
            ? `decision differs: recorded ${report.decision.recorded}, replayed ${report.decision.replayed}`
            : 'output differs';
    }
    return report as ReplayReport & Record<string, unknown>;
  } finally {
    await gateway.close();
  }
}
