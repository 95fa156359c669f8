/** Messages between the check worker pool and its workers (all plain, structured-cloneable data). */
import type { DetectorContext, DetectorResult } from '../safety/detector';
import type { ConsistencyScoring, ConsistencyScoringTask } from '../safety/checks/self-consistency-check';
import type { Stage } from '../safety/finding';

/** One check run: what runCheck needs, minus the callbacks. */
export interface CheckTask {
  check: string;
  stage: Stage;
  text: string;
  role: DetectorContext['role'];
  params: Record<string, unknown>;
  /** Output checks only. */
  input?: string;
  samples?: string[];
  sources?: string[];
}

export type WorkerRequest =
  | { id: number; kind: 'check'; task: CheckTask }
  | { id: number; kind: 'consistency'; task: ConsistencyScoringTask };

export type WorkerResponse =
  | { ready: true; id?: undefined }
  | { id: number; ok: true; results?: DetectorResult[]; scoring?: ConsistencyScoring }
  | { id: number; ok: false; error: string };
