// The studio's HTTP API (docs/studio-api.md), typed. No URL carries the token: when the server has
// one, the first load of the page with ?token=T set an HttpOnly cookie, which the browser sends
// with every same-origin request (fetch, <img>, <a download> and EventSource alike).

export type Method = "optimisation" | "fast" | "arbitrary";
export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";
export type ImageSource = "gallery" | "sample" | "upload";
export type ParamValue = number | string | boolean | (number | string)[] | null;

export interface ImageInfo {
  id: string;
  name: string;
  source: ImageSource;
  width: number;
  height: number;
  url: string;
  thumb_url: string;
}

export interface ImageLists {
  gallery: ImageInfo[];
  samples: ImageInfo[];
  uploads: ImageInfo[];
}

export interface Losses {
  content?: number;
  style?: number;
  tv?: number;
  total?: number;
  [name: string]: number | undefined;
}

export interface Progress {
  stage: string;
  iteration: number;
  iterations: number;
  fraction: number;
  losses?: Losses | null;
  elapsed_seconds: number;
  preview_seq?: number | null;
  scale?: number; // optimisation: the step of the coarse-to-fine schedule (1-based) and its image size
  scales?: number;
  width?: number;
  height?: number;
}

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface JobResult {
  image_url: string;
  sidecar_url: string;
  width: number;
  height: number;
  seconds: number;
}

export interface Job {
  id: string;
  state: JobState;
  method: Method;
  content: string;
  styles: string[];
  params: Record<string, ParamValue>;
  parent: string | null;
  settings_key: string;
  settings_label: string;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  cancel_requested?: boolean; // a running job asked to stop, not yet stopped
  progress: Progress | null;
  error: ErrorInfo | null;
  result: JobResult | null;
}

export interface JobSubmission {
  method: Method;
  content: string;
  styles: string[];
  params: Record<string, ParamValue>;
  parent?: string;
}

export interface PreviewEvent {
  seq: number;
  url: string;
}

export interface Pair {
  a: Job;
  b: Job;
}

export interface VoteRecord {
  id: string;
  a: string;
  b: string;
  winner: "a" | "b";
  created_at: string;
}

export interface RankingItem {
  rank: number;
  settings_key: string;
  label: string;
  method: Method;
  jobs: number;
  wins: number;
  losses: number;
  comparisons: number;
  strength: number;
  score: number;
}

export interface Ranking {
  votes: number;
  items: RankingItem[];
}

// GET /api/defaults: per method, its parameters (name, type, help, choices) and their defaults,
// read from the library's option structs by the server. The page never hard-codes a default.
export type ParamType = "integer" | "number" | "text" | "numbers" | "texts";

export interface ParamSpec {
  name: string;
  type: ParamType;
  help?: string;
  choices?: string[];
}

// A small picture of what a model, style or transform does to one sample photo, made by
// tools/make_model_examples.sh; `url` changes with the picture, so the browser may keep it.
export interface ModelExample {
  style: string;
  url: string;
  width: number;
  height: number;
  transform?: string; // arbitrary: "adain" or "wct"
}

export interface FastModel {
  name: string;
  styles: string[];
  examples?: ModelExample[]; // one per style that has one, in the order of `styles`
}

export interface MethodDefaults {
  available: boolean;
  parameters: ParamSpec[];
  defaults: Record<string, ParamValue>;
  presets?: Record<string, Record<string, ParamValue>>; // optimisation: each preset's defaults
  models?: FastModel[]; // fast: the installed networks
  levels?: string[]; // arbitrary: the installed decoder levels
  examples?: ModelExample[]; // optimisation and arbitrary: the method's examples (fast: per model)
}

export interface Defaults {
  optimisation: MethodDefaults;
  fast: MethodDefaults;
  arbitrary: MethodDefaults;
  max_output_side?: number;
}

// GET /api/info: shown in the header; only what the page reads is typed.
export interface ServerInfo {
  version?: string;
  device?: string;
  threads?: number;
  workers?: number;
  queue?: Partial<Record<JobState, number>>;
  limits?: { max_upload_bytes?: number; max_pixels?: number };
  token_required?: boolean;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const enc = encodeURIComponent;

async function request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, cache: "no-store", credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ApiError(0, "network", `The studio server did not answer (${why}). Is \`impasto serve\` running?`);
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = (data as { error?: Partial<ErrorInfo> } | null)?.error;
    throw new ApiError(
      response.status,
      err?.code ?? `http_${response.status}`,
      err?.message ?? `${method} ${path} failed: HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
  return data as T;
}

export const api = {
  info: () => request<ServerInfo>("GET", "/api/info"),
  defaults: () => request<Defaults>("GET", "/api/defaults"),

  images: () => request<ImageLists>("GET", "/api/images"),
  upload(file: File): Promise<ImageInfo> {
    const form = new FormData();
    form.append("file", file, file.name);
    return request<ImageInfo>("POST", "/api/uploads", form);
  },

  jobs: (query: { state?: JobState; content?: string; limit?: number } = {}) => {
    const q = new URLSearchParams();
    if (query.state) q.set("state", query.state);
    if (query.content) q.set("content", query.content);
    if (query.limit) q.set("limit", String(query.limit));
    const qs = q.toString();
    return request<{ jobs: Job[] }>("GET", `/api/jobs${qs ? `?${qs}` : ""}`).then((r) => r.jobs);
  },
  job: (id: string) => request<Job>("GET", `/api/jobs/${enc(id)}`),
  submit: (job: JobSubmission) => request<Job>("POST", "/api/jobs", job),
  cancel: (id: string) => request<Job>("POST", `/api/jobs/${enc(id)}/cancel`),

  nextPair: (content?: string) =>
    request<Pair>("GET", `/api/compare/next${content ? `?content=${enc(content)}` : ""}`),
  vote: (a: string, b: string, winner: "a" | "b") => request<VoteRecord>("POST", "/api/votes", { a, b, winner }),
  ranking: () => request<Ranking>("GET", "/api/ranking"),
};

// URLs for <img>, <a> and EventSource.
export const urls = {
  image: (id: string) => `/api/images/${enc(id)}`,
  thumb: (id: string, size = 256) => `/api/images/${enc(id)}?size=${size}`,
  events: (jobId: string) => `/api/jobs/${enc(jobId)}/events`,
  result: (jobId: string) => `/api/jobs/${enc(jobId)}/image`,
  resultDownload: (jobId: string) => `/api/jobs/${enc(jobId)}/image?download=1`,
  sidecar: (jobId: string) => `/api/jobs/${enc(jobId)}/sidecar`,
  sidecarDownload: (jobId: string) => `/api/jobs/${enc(jobId)}/sidecar?download=1`,
  // A server-given path such as a preview's "/api/jobs/j_…/preview?seq=3".
  server: (path: string) => path,
  votesCsv: () => "/api/votes.csv",
  rankingCsv: () => "/api/ranking.csv",
};
