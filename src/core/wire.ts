// Wire types of the Parallel Task Group / Task Run API (the subset tg uses): pure declarations.

export type RunStatus = 'queued' | 'action_required' | 'running' | 'completed' | 'failed' | 'cancelling' | 'cancelled';
export type Metadata = Record<string, string | number | boolean>;

export interface ErrorObject {
  ref_id: string;
  message: string;
  detail?: Record<string, unknown> | null;
}

export interface TaskGroupStatus {
  num_task_runs: number;
  task_run_status_counts: Partial<Record<RunStatus, number>>;
  is_active: boolean;
  status_message: string | null;
  modified_at: string | null;
}

export interface TaskGroup {
  taskgroup_id: string;
  status: TaskGroupStatus;
  created_at: string | null;
  metadata?: Metadata | null;
}

export interface TaskRun {
  run_id: string;
  interaction_id: string;
  status: RunStatus;
  is_active: boolean;
  processor: string;
  created_at: string | null;
  modified_at: string | null;
  warnings?: unknown[] | null;
  error?: ErrorObject | null;
  metadata?: Metadata | null;
  taskgroup_id?: string | null;
}

export interface TaskSpec {
  output_schema: unknown;
  input_schema?: unknown;
}

export interface TaskRunInput {
  processor: string;
  input: string | Record<string, unknown>;
  metadata?: Metadata | null;
  task_spec?: TaskSpec | null;
  [k: string]: unknown;
}

export interface TaskGroupRunResponse {
  status: TaskGroupStatus;
  run_ids: string[];
  run_cursor: string | null;
  event_cursor: string | null;
}

export interface RunOutput {
  type: 'json' | 'text';
  content: unknown;
  basis: unknown[];
  [k: string]: unknown;
}

export interface TaskRunEvent {
  type: 'task_run.state';
  event_id: string | null;
  run: TaskRun;
  input?: TaskRunInput | null;
  output?: RunOutput | null;
}

export interface TaskGroupStatusEvent {
  type: 'task_group_status';
  event_id: string;
  status: TaskGroupStatus;
}

export interface ErrorEvent {
  type: 'error';
  error: ErrorObject;
}

export type GroupEvent = TaskRunEvent | TaskGroupStatusEvent | ErrorEvent | { type: string; [k: string]: unknown };

export interface TaskRunResult {
  run: TaskRun;
  output: RunOutput;
}
