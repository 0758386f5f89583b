// Live job updates over server-sent events (GET /api/jobs/{id}/events): `state` carries the whole
// job, `progress` the optimiser's step, `preview` a new intermediate image. The server ends the
// stream after a job's last state; the watcher closes first, so the browser does not reconnect.
import { urls } from "./api.js";
export function isTerminal(state) {
    return state === "done" || state === "failed" || state === "cancelled";
}
export class JobWatcher {
    constructor(jobId, handlers) {
        this.jobId = jobId;
        this.closed = false;
        const source = new EventSource(urls.events(jobId));
        this.source = source;
        source.addEventListener("state", (event) => {
            const job = parse(event);
            if (!job)
                return;
            if (isTerminal(job.state))
                this.close();
            handlers.state(job);
        });
        source.addEventListener("progress", (event) => {
            const progress = parse(event);
            if (progress)
                handlers.progress(progress);
        });
        source.addEventListener("preview", (event) => {
            const preview = parse(event);
            if (preview)
                handlers.preview(preview);
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
    get open() {
        return !this.closed;
    }
    close() {
        this.closed = true;
        this.source?.close();
        this.source = null;
    }
}
function parse(event) {
    try {
        return JSON.parse(event.data);
    }
    catch {
        return null;
    }
}
