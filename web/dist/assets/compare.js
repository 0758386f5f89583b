// The Compare panel: two results for the same content photo, side by side, and one question:
// which is better? (two-alternative forced choice). Votes feed the Bradley–Terry ranking.
import { api, ApiError, urls } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { showError, showInfo } from "./notices.js";
export class ComparePanel {
    constructor(jobs, imageName, onVoted) {
        this.jobs = jobs;
        this.imageName = imageName;
        this.onVoted = onVoted;
        this.pair = null;
        this.busy = false;
        this.contentSelect = h("select", { "data-testid": "compare-content", "aria-label": "Content photo" });
        this.blind = h("input", { type: "checkbox", checked: true, "data-testid": "compare-blind" });
        this.stage = h("div", { class: "compare-stage", "data-testid": "compare-stage" });
        this.status = h("p", { class: "compare-status muted", "data-testid": "compare-status", "aria-live": "polite" });
        this.contentSelect.addEventListener("change", () => void this.next());
        this.blind.addEventListener("change", () => this.element.classList.toggle("blind", this.blind.checked));
        this.element = h("div", { class: "compare blind" }, h("div", { class: "panel-toolbar" }, h("label", { class: "inline" }, "Photo ", this.contentSelect), h("label", { class: "inline", title: "Hide each result's settings until you have voted" }, this.blind, " Blind"), h("button", { type: "button", "data-testid": "compare-skip", onclick: () => void this.next() }, "Another pair")), h("p", { class: "compare-question" }, "Which result is better? Click it, or press ← / →."), this.stage, this.status);
        document.addEventListener("keydown", (event) => {
            if (this.element.offsetParent === null || event.target instanceof HTMLInputElement)
                return;
            if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement)
                return;
            if (event.key === "ArrowLeft")
                void this.vote("a");
            if (event.key === "ArrowRight")
                void this.vote("b");
        });
    }
    // The photos that have results to compare.
    updateContents() {
        const counts = new Map();
        for (const job of this.jobs()) {
            if (job.state === "done")
                counts.set(job.content, (counts.get(job.content) ?? 0) + 1);
        }
        const current = this.contentSelect.value;
        replaceChildren(this.contentSelect, h("option", { value: "" }, "Any photo"), [...counts.entries()]
            .filter(([, n]) => n >= 2)
            .map(([id, n]) => h("option", { value: id }, `${this.imageName(id)} (${n} results)`)));
        this.contentSelect.value = [...this.contentSelect.options].some((o) => o.value === current) ? current : "";
    }
    focusContent(content) {
        this.updateContents();
        if ([...this.contentSelect.options].some((o) => o.value === content))
            this.contentSelect.value = content;
    }
    async next() {
        this.pair = null;
        this.status.textContent = "Finding a pair…";
        try {
            this.pair = await api.nextPair(this.contentSelect.value || undefined);
            this.render();
            this.status.textContent = "";
        }
        catch (error) {
            if (error instanceof ApiError && error.status === 404) {
                replaceChildren(this.stage, h("div", { class: "empty", "data-testid": "compare-empty" }, h("p", {}, "No pair to compare yet."), h("p", { class: "muted" }, "Run two jobs with different settings on the same photo; their results appear here.")));
                this.status.textContent = "";
            }
            else {
                this.status.textContent = "";
                showError(error, "Loading a pair");
            }
        }
    }
    render() {
        const pair = this.pair;
        if (!pair)
            return;
        replaceChildren(this.stage, this.side(pair.a, "a", "Left"), this.side(pair.b, "b", "Right"));
    }
    side(job, which, name) {
        return h("figure", { class: "compare-side", "data-testid": `compare-side-${which}`, "data-job-id": job.id }, h("button", {
            type: "button",
            class: "compare-pick",
            "data-testid": `vote-${which}`,
            "aria-label": `${name} is better`,
            onclick: () => void this.vote(which),
        }, h("img", { src: urls.result(job.id), alt: `${name} result`, "data-testid": `compare-image-${which}` })), h("figcaption", {}, h("span", { class: "compare-key" }, which === "a" ? "←" : "→"), h("span", { class: "compare-label", "data-testid": `compare-label-${which}` }, job.settings_label)));
    }
    async vote(winner) {
        const pair = this.pair;
        if (!pair || this.busy)
            return;
        this.busy = true;
        const chosen = this.stage.querySelector(`[data-testid="compare-side-${winner}"]`);
        chosen?.classList.add("chosen");
        this.element.classList.add("revealed");
        try {
            await api.vote(pair.a.id, pair.b.id, winner);
            const label = winner === "a" ? pair.a.settings_label : pair.b.settings_label;
            showInfo(`Vote recorded: ${label}`);
            this.onVoted();
            await new Promise((resolve) => setTimeout(resolve, 700)); // a moment to see the settings
            await this.next();
        }
        catch (error) {
            showError(error, "Recording the vote");
        }
        finally {
            this.element.classList.remove("revealed");
            this.busy = false;
        }
    }
}
