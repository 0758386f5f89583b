// Live job updates over server-sent events (GET /api/jobs/{id}/events): `state` carries the whole
// job, `progress` the optimiser's step, `preview` a new intermediate image. The server ends the
// stream after a job's last state; the watcher closes first, so the browser does not reconnect.
import { urls } from "./api.js";
import type { Job, PreviewEvent, Progress } from "./api.js";

export interface WatchHandlers {
  state(job: Job): void;
  progress(progress: Progress): void;
  preview(preview: PreviewEvent): void;
  // The stream failed for good (e.g. 503 busy: too many streams); the caller falls back to polling.
  lost(): void;
}

export function isTerminal(state: Job["state"]): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

export class JobWatcher {
  private source: EventSource | null;
  private closed = false;

  constructor(
    readonly jobId: string,
    handlers: WatchHandlers,
  ) {
    const source = new EventSource(urls.events(jobId));
    this.source = source;
    source.addEventListener("state", (event) => {
      const job = parse<Job>(event);
      if (!job) return;
      if (isTerminal(job.state)) this.close();
      handlers.state(job);
    });
    source.addEventListener("progress", (event) => {
      const progress = parse<Progress>(event);
      if (progress) handlers.progress(progress);
    });
    source.addEventListener("preview", (event) => {
      const preview = parse<PreviewEvent>(event);
      if (preview) handlers.preview(preview);
    });
    source.addEventListener("error", () => {
      // CONNECTING: the browser retries by itself (the server restarted, the network blinked).
      // CLOSED: an HTTP error such as 503 or 404; it will not retry.
      if (source.readyState === EventSource.CLOSED && !this.closed) {
        this.close();
        handlers.lost();
      }
    });
  }

  get open(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
    this.source?.close();
    this.source = null;
  }
}

function parse<T>(event: Event): T | null {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return null;
  }
}
