// One job in the Jobs & results panel: its result (or live preview), its settings, live progress
// with losses, and what can be done with it (cancel, download, re-run with changes).
import { urls } from "./api.js";
import { formatNumber, formatSeconds, formatTime, h, replaceChildren } from "./dom.js";
import { formatValue } from "./params.js";
import { isTerminal } from "./watch.js";
const STATE_TEXT = {
    queued: "Queued",
    running: "Running",
    done: "Done",
    failed: "Failed",
    cancelled: "Cancelled",
};
export class JobCard {
    constructor(job, act) {
        this.act = act;
        this.previewSeq = -1;
        this.media = h("a", { class: "job-media", target: "_blank", rel: "noopener" });
        this.badge = h("span", { class: "state-badge", "data-testid": "job-state" });
        this.label = h("h3", { class: "job-label", "data-testid": "job-label" });
        this.meta = h("div", { class: "job-meta" });
        this.inputs = h("div", { class: "job-inputs" });
        this.bar = h("div", { class: "progress-fill" });
        this.progressBox = h("div", { class: "job-progress" }, h("div", { class: "progress-track", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "data-testid": "job-progress" }, this.bar), h("div", { class: "progress-text", "data-testid": "job-progress-text" }), h("div", { class: "progress-losses", "data-testid": "job-losses" }));
        this.errorBox = h("div", { class: "job-error", role: "alert", "data-testid": "job-error" });
        this.actions = h("div", { class: "job-actions" });
        this.params = h("details", { class: "job-params", "data-testid": "job-params" });
        this.job = job;
        this.element = h("article", { class: "job-card", "data-testid": "job-card", "data-job-id": job.id }, h("div", { class: "job-media-wrap" }, this.media, this.badge), h("div", { class: "job-body" }, this.label, this.meta, this.inputs, this.progressBox, this.errorBox, this.actions, this.params));
        this.update(job);
    }
    get state() {
        return this.job.state;
    }
    get data() {
        return this.job;
    }
    update(job) {
        const stateChanged = job.state !== this.job.state || !this.element.dataset["state"];
        const paramsChanged = JSON.stringify(job.params) !== JSON.stringify(this.job.params) || !this.params.firstChild;
        this.job = job;
        this.element.dataset["state"] = job.state;
        this.element.className = `job-card state-${job.state}`;
        this.badge.textContent = job.cancel_requested && !isTerminal(job.state) ? "Cancelling" : STATE_TEXT[job.state];
        this.label.textContent = job.settings_label || job.settings_key || job.method;
        this.label.title = job.settings_key;
        replaceChildren(this.meta, h("span", {}, job.method), h("span", { class: "mono", title: "job id" }, job.id), job.created_at ? h("span", { title: `created ${job.created_at}` }, formatTime(job.created_at)) : null, job.result ? h("span", {}, `${job.result.width}×${job.result.height} in ${formatSeconds(job.result.seconds)}`) : null, job.parent ? h("span", { title: "re-run of" }, "↳ ", h("span", { class: "mono" }, job.parent)) : null, job.attempts > 1 ? h("span", { title: "times a worker started it" }, `attempt ${job.attempts}`) : null);
        if (paramsChanged)
            this.renderInputsAndParams();
        if (stateChanged || job.state === "done")
            this.renderMedia();
        if (job.progress)
            this.progress(job.progress);
        this.progressBox.hidden = isTerminal(job.state);
        if (job.state === "queued") {
            this.progressBox.classList.add("waiting");
            this.setProgressText("Waiting for a worker…", "");
        }
        else {
            this.progressBox.classList.remove("waiting");
        }
        this.errorBox.hidden = !job.error;
        this.errorBox.textContent = job.error ? `${job.error.message} (${job.error.code})` : "";
        if (stateChanged)
            this.renderActions();
    }
    progress(progress) {
        if (isTerminal(this.job.state))
            return;
        this.job.progress = progress;
        const fraction = Math.max(0, Math.min(1, progress.fraction || 0));
        const percent = Math.round(fraction * 100);
        this.bar.style.width = `${(fraction * 100).toFixed(1)}%`;
        const track = this.bar.parentElement;
        track?.setAttribute("aria-valuenow", String(percent));
        track?.setAttribute("data-fraction", fraction.toFixed(4));
        this.progressBox.classList.remove("waiting");
        const parts = [progress.stage];
        if (progress.iterations > 0)
            parts.push(`iteration ${progress.iteration}/${progress.iterations}`);
        if (progress.scales && progress.scales > 1)
            parts.push(`scale ${progress.scale ?? "?"}/${progress.scales}`);
        if (progress.width && progress.height)
            parts.push(`${progress.width}×${progress.height}`);
        parts.push(`${percent}%`);
        if (progress.elapsed_seconds > 0)
            parts.push(formatSeconds(progress.elapsed_seconds));
        if (fraction > 0.02 && fraction < 1 && progress.elapsed_seconds > 0) {
            parts.push(`~${formatSeconds((progress.elapsed_seconds * (1 - fraction)) / fraction)} left`);
        }
        const losses = Object.entries(progress.losses ?? {})
            .filter((entry) => typeof entry[1] === "number")
            .map(([name, value]) => `${name} ${formatNumber(value)}`)
            .join(" · ");
        this.setProgressText(parts.join(" · "), losses ? `loss: ${losses}` : "");
        if (typeof progress.preview_seq === "number" && progress.preview_seq > this.previewSeq) {
            this.preview(`/api/jobs/${encodeURIComponent(this.job.id)}/preview?seq=${progress.preview_seq}`, progress.preview_seq);
        }
    }
    preview(url, seq) {
        if (isTerminal(this.job.state) || seq <= this.previewSeq)
            return;
        this.previewSeq = seq;
        let img = this.media.querySelector("img.preview");
        if (!img) {
            img = h("img", { class: "preview", alt: "Live preview", "data-testid": "job-preview" });
            replaceChildren(this.media, img, h("span", { class: "media-caption" }, "live preview"));
        }
        img.src = urls.server(url);
        img.dataset["seq"] = String(seq);
        this.media.removeAttribute("href");
    }
    setProgressText(text, losses) {
        const [, line, lossLine] = Array.from(this.progressBox.children);
        if (line)
            line.textContent = text;
        if (lossLine)
            lossLine.textContent = losses;
    }
    renderMedia() {
        const job = this.job;
        if (job.state === "done" && job.result) {
            if (this.media.querySelector("img.result"))
                return;
            replaceChildren(this.media, h("img", {
                class: "result",
                src: urls.result(job.id),
                alt: `Result of ${job.settings_label}`,
                "data-testid": "job-result",
                loading: "lazy",
                width: job.result.width,
                height: job.result.height,
            }));
            this.media.setAttribute("href", urls.result(job.id));
            this.media.title = "Open the full-size image";
            return;
        }
        if (this.media.querySelector("img.preview") && !isTerminal(job.state))
            return;
        replaceChildren(this.media, h("img", { class: "placeholder", src: urls.thumb(job.content, 384), alt: "Content photo", loading: "lazy" }));
        this.media.removeAttribute("href");
    }
    renderInputsAndParams() {
        const job = this.job;
        replaceChildren(this.inputs, h("img", { src: urls.thumb(job.content, 96), alt: "content", title: `content: ${job.content}` }), job.styles.length ? h("span", { class: "plus", "aria-hidden": "true" }, "+") : null, job.styles.map((id) => h("img", { src: urls.thumb(id, 96), alt: "style", title: `style: ${id}` })));
        const rows = Object.keys(job.params)
            .sort()
            .map((name) => h("tr", {}, h("th", { scope: "row" }, name), h("td", { class: "mono" }, formatValue(job.params[name] ?? null))));
        replaceChildren(this.params, h("summary", {}, "Parameters"), h("table", {}, h("tbody", {}, rows, h("tr", {}, h("th", { scope: "row" }, "settings key"), h("td", { class: "mono" }, job.settings_key)))));
    }
    renderActions() {
        const job = this.job;
        const buttons = [];
        if (!isTerminal(job.state)) {
            buttons.push(h("button", { type: "button", class: "danger", "data-testid": "job-cancel", onclick: () => this.act.cancel(this.job) }, "Cancel"));
        }
        if (job.state === "done") {
            buttons.push(h("a", { class: "button", href: urls.resultDownload(job.id), download: true, "data-testid": "job-download" }, "Download PNG"), h("a", { class: "button", href: urls.sidecarDownload(job.id), download: true, "data-testid": "job-sidecar" }, "Sidecar JSON"), h("button", { type: "button", "data-testid": "job-compare", onclick: () => this.act.compare(this.job) }, "Compare"));
        }
        buttons.push(h("button", { type: "button", "data-testid": "job-rerun", onclick: () => this.act.rerun(this.job) }, "Re-run with changes"));
        replaceChildren(this.actions, buttons);
    }
}
