// The studio's HTTP API (docs/studio-api.md), typed. No URL carries the token: when the server has
// one, the first load of the page with ?token=T set an HttpOnly cookie, which the browser sends
// with every same-origin request (fetch, <img>, <a download> and EventSource alike).
export class ApiError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
        this.name = "ApiError";
    }
}
const enc = encodeURIComponent;
async function request(method, path, body) {
    const init = { method, cache: "no-store", credentials: "same-origin" };
    if (body instanceof FormData) {
        init.body = body;
    }
    else if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { "Content-Type": "application/json" };
    }
    let response;
    try {
        response = await fetch(path, init);
    }
    catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new ApiError(0, "network", `The studio server did not answer (${why}). Is \`impasto serve\` running?`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
        try {
            data = JSON.parse(text);
        }
        catch {
            data = null;
        }
    }
    if (!response.ok) {
        const err = data?.error;
        throw new ApiError(response.status, err?.code ?? `http_${response.status}`, err?.message ?? `${method} ${path} failed: HTTP ${response.status} ${response.statusText}`.trim());
    }
    return data;
}
export const api = {
    info: () => request("GET", "/api/info"),
    defaults: () => request("GET", "/api/defaults"),
    images: () => request("GET", "/api/images"),
    upload(file) {
        const form = new FormData();
        form.append("file", file, file.name);
        return request("POST", "/api/uploads", form);
    },
    jobs: (query = {}) => {
        const q = new URLSearchParams();
        if (query.state)
            q.set("state", query.state);
        if (query.content)
            q.set("content", query.content);
        if (query.limit)
            q.set("limit", String(query.limit));
        const qs = q.toString();
        return request("GET", `/api/jobs${qs ? `?${qs}` : ""}`).then((r) => r.jobs);
    },
    job: (id) => request("GET", `/api/jobs/${enc(id)}`),
    submit: (job) => request("POST", "/api/jobs", job),
    cancel: (id) => request("POST", `/api/jobs/${enc(id)}/cancel`),
    nextPair: (content) => request("GET", `/api/compare/next${content ? `?content=${enc(content)}` : ""}`),
    vote: (a, b, winner) => request("POST", "/api/votes", { a, b, winner }),
    ranking: () => request("GET", "/api/ranking"),
};
// URLs for <img>, <a> and EventSource.
export const urls = {
    image: (id) => `/api/images/${enc(id)}`,
    thumb: (id, size = 256) => `/api/images/${enc(id)}?size=${size}`,
    events: (jobId) => `/api/jobs/${enc(jobId)}/events`,
    result: (jobId) => `/api/jobs/${enc(jobId)}/image`,
    resultDownload: (jobId) => `/api/jobs/${enc(jobId)}/image?download=1`,
    sidecar: (jobId) => `/api/jobs/${enc(jobId)}/sidecar`,
    sidecarDownload: (jobId) => `/api/jobs/${enc(jobId)}/sidecar?download=1`,
    // A server-given path such as a preview's "/api/jobs/j_…/preview?seq=3".
    server: (path) => path,
    votesCsv: () => "/api/votes.csv",
    rankingCsv: () => "/api/ranking.csv",
};
